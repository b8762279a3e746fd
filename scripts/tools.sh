#!/usr/bin/env bash
# Installs the pinned proto code-generation toolchain and the Go linter into ./bin.
#
#   buf                      npm  @bufbuild/buf (native binary from the platform package)
#   protoc-gen-go            go   google.golang.org/protobuf/cmd/protoc-gen-go
#   protoc-gen-go-grpc       go   google.golang.org/grpc/cmd/protoc-gen-go-grpc
#   protoc-gen-grpc-gateway  go   github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway
#   protoc-gen-openapiv2     go   github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2
#   golangci-lint            go   github.com/golangci/golangci-lint/v2/cmd/golangci-lint (make lint)
#
# Idempotent: each tool's installed version is recorded in bin/.tool-versions and a
# tool is only (re)installed when its binary is missing or its recorded version
# differs from the pin below. Everything comes from the npm registry and the Go
# module proxy; no remote buf plugins or BSR access are needed.
#
# When bumping a pin, keep these in step:
#   - PROTOBUF_GO_VERSION    with the google.golang.org/protobuf floor in Makefile (GEN_GO_PINS)
#   - GRPC_GATEWAY_VERSION   with the grpc-gateway floor in Makefile (GEN_GO_PINS) and
#                            with scripts/vendor-protos.sh (openapiv2 options protos)
set -euo pipefail

BUF_VERSION=1.75.0
PROTOBUF_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
GRPC_GATEWAY_VERSION=v2.33.0
GOLANGCI_LINT_VERSION=v2.15.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/bin"
NPM_PREFIX="$ROOT/.tools/npm"
STAMP="$BIN/.tool-versions"

mkdir -p "$BIN"
touch "$STAMP"

log() { printf 'tools: %s\n' "$*" >&2; }

# up_to_date NAME VERSION: binary present and stamp records exactly VERSION.
up_to_date() {
  [[ -x "$BIN/$1" ]] && grep -qxF "$1 $2" "$STAMP"
}

# record NAME VERSION: replace NAME's line in the stamp file.
record() {
  local tmp
  tmp="$(mktemp "$STAMP.XXXXXX")"
  { grep -v "^$1 " "$STAMP" || true; echo "$1 $2"; } | sort >"$tmp"
  chmod 644 "$tmp"
  mv "$tmp" "$STAMP"
}

install_buf() {
  if up_to_date buf "$BUF_VERSION"; then return; fi
  log "installing buf $BUF_VERSION (npm @bufbuild/buf) into .tools/npm"
  rm -rf "$NPM_PREFIX"
  mkdir -p "$NPM_PREFIX"
  # A private package.json so npm does not walk up and touch anything else.
  printf '{"name":"izin-tools","private":true}\n' >"$NPM_PREFIX/package.json"
  # --ignore-scripts: @bufbuild/buf's postinstall only swaps its JS launcher for the
  # native binary; we link the native binary ourselves below.
  npm install --prefix "$NPM_PREFIX" --save-exact --ignore-scripts --no-audit --no-fund \
    --loglevel=error "@bufbuild/buf@$BUF_VERSION" >&2
  # npm installs only the optional platform package matching this os/cpu
  # (@bufbuild/buf-linux-x64, -linux-aarch64, -darwin-arm64, ...).
  local native=""
  for f in "$NPM_PREFIX"/node_modules/@bufbuild/buf-*/bin/buf; do
    [[ -x "$f" ]] && native="$f" && break
  done
  if [[ -z "$native" ]]; then
    log "no native buf binary found; falling back to the node launcher"
    native="$NPM_PREFIX/node_modules/@bufbuild/buf/bin/buf"
  fi
  # Relative link, so it survives moving the checkout.
  ln -sfn "../${native#"$ROOT"/}" "$BIN/buf"
  local got
  got="$("$BIN/buf" --version)"
  if [[ "$got" != "$BUF_VERSION" ]]; then
    log "buf reports version $got, expected $BUF_VERSION"; exit 1
  fi
  record buf "$BUF_VERSION"
}

# go_tool NAME PACKAGE VERSION
go_tool() {
  local name="$1" pkg="$2" version="$3"
  if up_to_date "$name" "$version"; then return; fi
  log "installing $name $version ($pkg)"
  # pkg@version installs ignore the surrounding go.mod, so the pin is exact.
  GOBIN="$BIN" go install "$pkg@$version"
  record "$name" "$version"
}

install_buf
go_tool protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOBUF_GO_VERSION"
go_tool protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"
go_tool protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway "$GRPC_GATEWAY_VERSION"
go_tool protoc-gen-openapiv2 github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2 "$GRPC_GATEWAY_VERSION"
go_tool golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
