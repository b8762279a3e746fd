#!/usr/bin/env bash
# Runs a command against a real izin on a fresh database:
#   sdk/conformance/with-server.sh COMMAND [ARGS...]
# It builds bin/izin (unless IZIN_BIN is set), creates a tenant (admin key) and a CALL_CENTER
# source (check+write key) in a temporary SQLite database, starts `izin serve`
# on free loopback ports, waits until it answers, and runs COMMAND with:
#   IZIN_GRPC_TARGET   host:port of the gRPC server (plaintext)
#   IZIN_HTTP_URL      http://host:port of the REST gateway
#   IZIN_ADMIN_KEY     admin key (reads the sandbox SMS through AdminService)
#   IZIN_API_KEY       the source's check+write key
#   IZIN_SCENARIO      path of scenario.json
# The server is stopped and the database removed when COMMAND ends; the exit
# status is COMMAND's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# IZIN_BIN names a binary to use as it is; otherwise bin/izin is rebuilt
# from this checkout every time (cached by go, so quick), so a stale binary
# never answers for the current code.
izin="${IZIN_BIN:-}"
if [[ -z $izin ]]; then
	izin="$root/bin/izin"
	(cd "$root" && CGO_ENABLED=0 go build -o "$izin" ./server/cmd/izin)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/izin-conformance.XXXXXX")"
pid=""
cleanup() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

export IZIN_DATABASE_URL="sqlite:$work/izin.db" IZIN_SECRET_FILE="$work/secret"
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# The operator commands refuse an unmigrated database; make it as an operator would.
"$izin" migrate >/dev/null
tenant="$("$izin" --json tenant create --name "Conformance A.Ş." --mersis 0123456789012345 \
	--brand-code CONF --brand-name Conformance --sender CONFORM)"
tenant_id="$(json_field tenant_id <<<"$tenant")"
export IZIN_ADMIN_KEY="$(json_field admin_api_key <<<"$tenant")"
export IZIN_API_KEY="$("$izin" --json source create --tenant "$tenant_id" --name "SDK" --type CALL_CENTER | json_field api_key)"

# Free ports: bind port 0 and let the kernel pick, then release them.
read -r gport hport < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
export IZIN_GRPC_TARGET="127.0.0.1:$gport" IZIN_HTTP_URL="http://127.0.0.1:$hport"
export IZIN_SCENARIO="$here/scenario.json"

"$izin" serve --grpc-addr "$IZIN_GRPC_TARGET" --http-addr "127.0.0.1:$hport" --metrics-addr "" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	if curl -fsS "$IZIN_HTTP_URL/healthz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "with-server: izin exited:" >&2
		cat "$work/server.log" >&2
		exit 1
	fi
	sleep 0.1
done
curl -fsS "$IZIN_HTTP_URL/healthz" >/dev/null || { echo "with-server: izin did not become healthy" >&2; cat "$work/server.log" >&2; exit 1; }

set +e
"$@"
status=$?
set -e
if [[ $status -ne 0 ]]; then
	echo "with-server: command failed ($status); server log:" >&2
	tail -n 50 "$work/server.log" >&2
fi
exit $status
