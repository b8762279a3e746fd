#!/usr/bin/env bash
# Go SDK checks: formatting, tidy go.mod, vet, unit tests and examples with
# the race detector, the conformance scenario against a real izin (started
# by ../conformance/with-server.sh), and the build. Needs only Go (the
# version in go.mod); modules come from the Go module proxy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
here="$(pwd)"

started=$SECONDS
last=$SECONDS
step() {
	printf '\n== sdk/go: %s (previous step %ds)\n' "$*" $((SECONDS - last))
	last=$SECONDS
}

step "gofmt"
bad="$(gofmt -l .)"
if [[ -n $bad ]]; then
	echo "gofmt would change:"; echo "$bad"; exit 1
fi

step "go mod tidy (go.mod and go.sum are up to date)"
go mod tidy -diff

step "go vet"
go vet ./...

step "unit tests and examples (go test -race)"
go test -race -count=1 -skip '^TestConformance$' ./...

step "conformance scenario against a real izin"
# A server built from this checkout's sources, apart from bin/izin, so a
# stale bin/izin (or another SDK's run using it) cannot get in the way.
if [[ -z ${IZIN_BIN:-} ]]; then
	export IZIN_BIN="$here/.cache/izin" IZIN_REBUILD=1
	mkdir -p "$here/.cache"
fi
../conformance/with-server.sh go test -race -count=1 -run '^TestConformance$' -v ./...

step "go build"
go build ./...
printf '\nsdk/go: all checks passed in %ds\n' $((SECONDS - started))
