#!/usr/bin/env bash
# scripts/compat.sh WHEEL: runs the unit tests against WHEEL on the oldest setup
# the package supports (Python 3.9 with the minimum versions pyproject.toml
# allows: requirements-oldest.txt) and on a new one (Python 3.13 with the newest
# versions: requirements-newest.txt), each in its own venv under .venv-compat/.
# An interpreter that is not on this machine is reported and skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
wheel="$(realpath "$1")"

# find_python MINOR: a Python 3.MINOR interpreter: on PATH, or installed by pyenv
# (whose shims refuse versions that are not selected), or Debian's.
find_python() {
	local minor=$1 candidate
	for candidate in "python3.$minor" \
		$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3."$minor".*/bin/python3."$minor" 2>/dev/null | sort -V | tail -n 1) \
		"/usr/bin/python3.$minor"; do
		if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != (3, $minor))" >/dev/null 2>&1; then
			echo "$candidate"
			return 0
		fi
	done
	return 1
}

run() {
	local name=$1 minor=$2 reqs=$3 python
	if ! python="$(find_python "$minor")"; then
		echo "compat: $name: skipped: no Python 3.$minor on this machine"
		return 0
	fi
	local venv=".venv-compat/$name" want
	want="$(sha256sum "$reqs" | cut -d' ' -f1) $("$python" --version 2>&1)"
	if [[ ! -x $venv/bin/python || "$(cat "$venv/.requirements" 2>/dev/null)" != "$want" ]]; then
		rm -rf "$venv"
		"$python" -m venv "$venv"
		"$venv/bin/python" -m pip install -q -r "$reqs"
		echo "$want" >"$venv/.requirements"
	fi
	"$venv/bin/python" -m pip install -q --no-deps --force-reinstall "$wheel"
	echo "compat: $name: $("$venv/bin/python" --version) $("$venv/bin/python" -m pip freeze | grep -E '^(grpcio|protobuf|googleapis-common-protos)==' | tr '\n' ' ')"
	local rc=0
	IZIN_EXPECT_INSTALLED=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not conformance" tests || rc=$?
	if [[ $rc -eq 5 ]]; then
		echo "compat: $name: pytest ran no test" >&2
		return 1
	fi
	return "$rc"
}

run oldest 9 requirements-oldest.txt
run newest 13 requirements-newest.txt
