#!/usr/bin/env bash
# Ensures the PostgreSQL server binaries (initdb, postgres) that
# server/internal/pgtest starts throwaway clusters from are installed.
# Idempotent: does nothing when they are already there. Installs Debian's
# package without starting its service or creating its default cluster:
# tests start their own servers on random ports.
set -euo pipefail

# Prints the first directory holding initdb and postgres, the same search
# order as pgtest's findBinDir.
find_bindir() {
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		# pg_config also ships with libpq-dev alone: check the server is there.
		if [[ -n $d && -x $d/initdb && -x $d/postgres ]]; then
			echo "$d"
			return 0
		fi
	fi
	# Newest major version first.
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn); do
		if [[ -x $d/initdb && -x $d/postgres ]]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# pgtest runs the server as this user when tests run as root (initdb refuses
# root). The Debian package creates it; make sure it exists anyway.
ensure_postgres_user() {
	if [[ $(id -u) -eq 0 ]] && ! getent passwd postgres >/dev/null; then
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
}

if bindir=$(find_bindir); then
	ensure_postgres_user
	echo "ci-install-postgres: server binaries present in $bindir ($("$bindir/postgres" --version))"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "ci-install-postgres: PostgreSQL server binaries missing; run as root (or: sudo apt-get install postgresql-15)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# Prefer the version pgtest is written against; fall back to the
# distribution's default major version.
pkg=
for candidate in postgresql-15 postgresql; do
	if [[ $(apt-cache policy "$candidate" | awk '/Candidate:/ {print $2}') =~ ^[0-9] ]]; then
		pkg=$candidate
		break
	fi
done
if [[ -z $pkg ]]; then
	echo "ci-install-postgres: neither postgresql-15 nor postgresql is available from apt" >&2
	exit 1
fi

# No default cluster: it would only cost install time and disk.
mkdir -p /etc/postgresql-common/createcluster.d
conf=/etc/postgresql-common/createcluster.d/izin-no-main-cluster.conf
[[ -e $conf ]] || echo "create_main_cluster = false" >"$conf"

# Keep invoke-rc.d from starting the service (exit 101 = "not allowed"),
# unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi

apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null

ensure_postgres_user
if ! bindir=$(find_bindir); then
	echo "ci-install-postgres: installed $pkg but found no initdb/postgres" >&2
	exit 1
fi
echo "ci-install-postgres: installed $pkg; server binaries in $bindir ($("$bindir/postgres" --version))"
