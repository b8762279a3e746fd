#!/usr/bin/env bash
# Tests and builds the Python SDK; called by the root Makefile (sdk-test) and CI.
#   1. a venv in sdk/python/.venv with the exact versions of requirements-dev.txt
#      (recreated only when those files change);
#   2. src/izin/_gen, pb.py and _version.py must match a fresh generation from
#      proto/ + third_party/proto and sdk/VERSION (scripts/generate.py --check);
#   3. mypy --strict;
#   4. the sdist and the wheel (built from the sdist) into dist/; the wheel is
#      installed into the venv, so the tests run against the built package;
#   5. the unit tests (in-process fake server);
#   6. the same unit tests on Python 3.9 with the minimum dependency versions and
#      on Python 3.13 with the newest (scripts/compat.sh; skipped where the
#      interpreter is missing);
#   7. the conformance scenario against a real izin (../conformance/with-server.sh).
# Exits non-zero on any failure; a pytest run that collects no test is a failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
start=$SECONDS
step() { printf '\n== python sdk: %s (%ss)\n' "$*" "$((SECONDS - start))"; }

python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || {
	echo "test.sh: Python >= 3.9 is needed ($python is $("$python" --version 2>&1))" >&2
	exit 1
}

step "venv (.venv, requirements-dev.txt)"
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1) $("$python" --version 2>&1)"
if [[ ! -x .venv/bin/python || "$(cat .venv/.requirements 2>/dev/null)" != "$want" ]]; then
	rm -rf .venv
	"$python" -m venv .venv
	.venv/bin/python -m pip install -q -r requirements-dev.txt
	echo "$want" >.venv/.requirements
fi
py=.venv/bin/python

step "generated code is up to date"
"$py" scripts/generate.py --check

step "mypy --strict"
"$py" -m mypy

step "build sdist + wheel"
rm -rf dist build src/*.egg-info
"$py" -m build --no-isolation --outdir dist . >build.log 2>&1 || { cat build.log >&2; rm -f build.log; exit 1; }
rm -f build.log
version="$(cat ../VERSION)"
wheel="dist/izin_sdk-$version-py3-none-any.whl"
[[ -f $wheel && -f dist/izin_sdk-$version.tar.gz ]] || { echo "test.sh: expected $wheel and the sdist; dist/ has: $(ls dist)" >&2; exit 1; }
"$py" -m pip install -q --no-deps --force-reinstall "$wheel"
ls -l dist

pytest() {
	local rc=0
	"$py" -m pytest "$@" || rc=$?
	if [[ $rc -eq 5 ]]; then
		echo "test.sh: pytest $* ran no test" >&2
		exit 1
	fi
	return "$rc"
}

# The tests import the installed wheel, not src/ (test_version checks it).
export IZIN_EXPECT_INSTALLED=1

step "unit tests"
pytest -m "not conformance" tests

step "compatibility: Python 3.9 + minimum versions, Python 3.13 + newest versions"
scripts/compat.sh "$wheel"

step "conformance against a real izin"
../conformance/with-server.sh "$py" -m pytest -m conformance tests/test_conformance.py
# (with-server.sh returns pytest's status; 5 = no test ran is non-zero too.)

step "ok: $wheel"
