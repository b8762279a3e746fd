#!/usr/bin/env bash
# Installs the end-to-end tests' independent Standard Webhooks verifier:
# the standardwebhooks npm package, pinned by package-lock.json, into
# server/internal/e2e/testdata/webhook-verifier/node_modules. Idempotent: it
# reinstalls only when the lock file is newer than the installed tree.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/server/internal/e2e/testdata/webhook-verifier"
stamp="$dir/node_modules/.package-lock.json"
if [[ -f "$stamp" && ! "$dir/package-lock.json" -nt "$stamp" ]]; then
	exit 0
fi
echo "webhook-verifier: npm ci in $dir" >&2
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
