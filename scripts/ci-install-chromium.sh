#!/usr/bin/env bash
# Ensures Chromium, which the browser tests (server/internal/e2e,
# TestBrowser*) drive headless, is installed. Idempotent: does nothing when
# it is already there. Installs Debian's package without its recommended
# extras; the tests start their own browser with a throwaway profile.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
	echo "ci-install-chromium: present at $(command -v chromium) ($(chromium --version 2>/dev/null || echo 'version unknown'))"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "ci-install-chromium: Chromium missing; run as root (or: sudo apt-get install chromium)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null

if ! command -v chromium >/dev/null 2>&1; then
	echo "ci-install-chromium: installed the chromium package but found no chromium command" >&2
	exit 1
fi
echo "ci-install-chromium: installed $(chromium --version 2>/dev/null || echo chromium)"
