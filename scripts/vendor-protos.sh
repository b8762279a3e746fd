#!/usr/bin/env bash
# Refreshes third_party/proto from pinned package-registry artifacts (no BSR, no git).
#
#   google/api, google/rpc        Maven  com.google.api.grpc:proto-google-common-protos (jar)
#   buf/validate/validate.proto   Maven  build.buf:protovalidate (protovalidate-java jar)
#   protoc-gen-openapiv2/options  Go     github.com/grpc-ecosystem/grpc-gateway/v2 (module zip)
#   LICENSES/                     Go     the Go modules holding the matching Go types
#
# After copying, the files are compiled with buf and each descriptor is compared with
# the descriptor compiled into the Go package that the generated code links against
# (buf/validate and protoc-gen-openapiv2 must match exactly; google/* drift is only
# reported as a warning). Set VERIFY=0 to skip that step.
#
# Needs: mvn, go, python3 (zip/json helpers), and bin/buf (scripts/tools.sh).
set -euo pipefail

# --- pins -------------------------------------------------------------------------
GOOGLE_COMMON_PROTOS_VERSION=2.81.0
# protovalidate-java 1.3.0 ships validate.proto of the protovalidate schema v1.2.0, the
# schema targeted by buf.build/go/protovalidate v1.4.0 (its buf.yaml and Makefile pin
# protovalidate v1.2.0; its go.mod requires the Go types pinned below).
PROTOVALIDATE_JAVA_VERSION=1.3.0
PROTOVALIDATE_SCHEMA_VERSION=v1.2.0 # informational (README)
GRPC_GATEWAY_VERSION=v2.33.0        # keep equal to scripts/tools.sh
# Go modules holding the Go types of these files (licenses + verification):
PROTOVALIDATE_GO_TYPES_VERSION=v1.36.12-20260825204119-511051f7f437.1 # required by buf.build/go/protovalidate v1.4.0
GENPROTO_VERSION=v0.0.0-20261026165753-2ffab32bce7e                   # googleapis/api, required by grpc-gateway v2.33.0
PROTOBUF_GO_VERSION=v1.36.12
MAVEN_DEPENDENCY_PLUGIN_VERSION=3.8.1
# -----------------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/third_party/proto"
BUF="${BUF:-$ROOT/bin/buf}"
VERIFY="${VERIFY:-1}"

GOOGLE_FILES=(
  google/api/annotations.proto
  google/api/http.proto
  google/api/field_behavior.proto
  google/api/httpbody.proto
  google/rpc/code.proto
  google/rpc/error_details.proto
  google/rpc/status.proto
)
VALIDATE_FILES=(buf/validate/validate.proto)
OPENAPIV2_FILES=(
  protoc-gen-openapiv2/options/annotations.proto
  protoc-gen-openapiv2/options/openapiv2.proto
)

log() { printf 'vendor-protos: %s\n' "$*" >&2; }

[[ -x "$BUF" ]] || { log "$BUF not found; run scripts/tools.sh (make tools) first"; exit 1; }

TMP="$(mktemp -d)"
trap 'chmod -R u+w "$TMP" 2>/dev/null || true; rm -rf "$TMP"' EXIT
STAGE="$TMP/stage"
mkdir -p "$STAGE/LICENSES"

# unzip_files ZIP DESTDIR FILE... (python's zipfile: no dependency on unzip)
unzip_files() {
  python3 - "$@" <<'PY'
import sys, zipfile, os
zpath, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(zpath) as z:
    for n in names:
        out = os.path.join(dest, n)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(n) as src, open(out, "wb") as dst:
            dst.write(src.read())
PY
}

# maven_jar GROUP:ARTIFACT:VERSION: fetch one jar from Maven Central, print its path.
maven_jar() {
  local gav="$1" dir="$TMP/maven"
  (cd "$TMP" && mvn --batch-mode --quiet -Dstyle.color=never \
    "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy" \
    -Dartifact="$gav:jar" -Dtransitive=false -DoutputDirectory="$dir") >"$TMP/mvn.log" 2>&1 ||
    { cat "$TMP/mvn.log" >&2; exit 1; }
  local a="${gav#*:}"
  echo "$dir/${a%%:*}-${gav##*:}.jar"
}

# go_mod_dir MODULE@VERSION: download a Go module (into the module cache) and print its dir.
go_mod_dir() {
  (cd "$TMP" && GOFLAGS= GOWORK=off go mod download -json "$1") |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'
}

# --- google/api, google/rpc from Maven Central --------------------------------------
log "Maven com.google.api.grpc:proto-google-common-protos:$GOOGLE_COMMON_PROTOS_VERSION"
unzip_files "$(maven_jar "com.google.api.grpc:proto-google-common-protos:$GOOGLE_COMMON_PROTOS_VERSION")" \
  "$STAGE" "${GOOGLE_FILES[@]}"
# The jar carries no license file; genproto (the Go types of the same files) does.
cp "$(go_mod_dir "google.golang.org/genproto/googleapis/api@$GENPROTO_VERSION")/LICENSE" \
  "$STAGE/LICENSES/googleapis.txt"

# --- buf/validate from Maven Central -----------------------------------------------
log "Maven build.buf:protovalidate:$PROTOVALIDATE_JAVA_VERSION"
unzip_files "$(maven_jar "build.buf:protovalidate:$PROTOVALIDATE_JAVA_VERSION")" \
  "$STAGE" "${VALIDATE_FILES[@]}"
# The jar carries no license file; the Go types module of the same schema does.
cp "$(go_mod_dir "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go@$PROTOVALIDATE_GO_TYPES_VERSION")/LICENSE" \
  "$STAGE/LICENSES/protovalidate.txt"

# --- protoc-gen-openapiv2/options from the Go module -------------------------------
log "Go module github.com/grpc-ecosystem/grpc-gateway/v2@$GRPC_GATEWAY_VERSION"
GW_DIR="$(go_mod_dir "github.com/grpc-ecosystem/grpc-gateway/v2@$GRPC_GATEWAY_VERSION")"
cp "$GW_DIR/LICENSE" "$STAGE/LICENSES/grpc-gateway.txt"
for f in "${OPENAPIV2_FILES[@]}"; do
  mkdir -p "$STAGE/$(dirname "$f")"
  cp "$GW_DIR/$f" "$STAGE/$f"
done
chmod -R u+w,go+r "$STAGE"

# --- verify -------------------------------------------------------------------------
if [[ "$VERIFY" == 1 ]]; then
  log "verifying descriptors against the Go packages"
  "$BUF" build "$STAGE" --exclude-source-info --as-file-descriptor-set -o "$TMP/vendored.binpb"
  mkdir -p "$TMP/verify"
  cat >"$TMP/verify/main.go" <<'GO'
// Compares vendored .proto descriptors with those compiled into the Go packages.
package main

import (
	"fmt"
	"os"
	"strings"

	_ "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	_ "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options"
	_ "google.golang.org/genproto/googleapis/api/annotations"
	_ "google.golang.org/genproto/googleapis/api/httpbody"
	_ "google.golang.org/genproto/googleapis/rpc/code"
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	_ "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		panic(err)
	}
	failed := false
	for _, f := range set.File {
		name := f.GetName()
		if strings.HasPrefix(name, "google/protobuf/") {
			continue
		}
		fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
		if err != nil {
			fmt.Printf("MISSING  %s (no Go package registers it)\n", name)
			failed = true
			continue
		}
		want := protodesc.ToFileDescriptorProto(fd)
		want.SourceCodeInfo, f.SourceCodeInfo = nil, nil
		switch {
		case proto.Equal(f, want):
			fmt.Printf("match    %s\n", name)
		case strings.HasPrefix(name, "google/"):
			fmt.Printf("WARNING  %s differs from its genproto Go package (see third_party/proto/README.md)\n", name)
		default:
			fmt.Printf("MISMATCH %s differs from its Go package\n", name)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
GO
  # Compare with the genproto versions gen/go resolves, if it already depends on them.
  extra=()
  for m in google.golang.org/genproto/googleapis/api google.golang.org/genproto/googleapis/rpc; do
    v="$(cd "$ROOT/gen/go" && go list -m -f '{{.Version}}' "$m" 2>/dev/null || true)"
    [[ -n "$v" ]] && extra+=("$m@$v")
  done
  [[ ${#extra[@]} -gt 0 ]] || extra=("google.golang.org/genproto/googleapis/api@$GENPROTO_VERSION")
  (
    cd "$TMP/verify"
    export GOFLAGS=-mod=mod GOWORK=off
    go mod init vendorcheck 2>/dev/null
    go get "google.golang.org/protobuf@$PROTOBUF_GO_VERSION" \
      "github.com/grpc-ecosystem/grpc-gateway/v2@$GRPC_GATEWAY_VERSION" \
      "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go@$PROTOVALIDATE_GO_TYPES_VERSION" \
      ${extra[@]+"${extra[@]}"}
    go run . "$TMP/vendored.binpb"
  ) >"$TMP/verify.log" 2>&1 && ok=1 || ok=0
  grep -v '^go: \(downloading\|added\|upgraded\|finding\|creating\)' "$TMP/verify.log" >&2 || true
  [[ "$ok" == 1 ]] || { log "verification failed; third_party/proto left unchanged"; exit 1; }
fi

# --- install ------------------------------------------------------------------------
rm -rf "$DEST/google" "$DEST/buf" "$DEST/protoc-gen-openapiv2" "$DEST/LICENSES"
mkdir -p "$DEST"
cp -R "$STAGE"/. "$DEST"/

# The README is written from the pins above so it cannot drift from them.
{
  cat <<EOF
# Vendored third-party protos

Written by \`scripts/vendor-protos.sh\` (\`make vendor-protos\`); do not edit by hand.
To change a version, edit the pins at the top of that script and run it again.

These files are only *imported* by \`proto/\`. buf lint and buf breaking ignore them,
and no code is generated from them: the generated Go code imports the existing Go
packages listed below instead, so each vendored file must describe the same schema as
the Go package version that \`gen/go/go.mod\` resolves. The script checks this by
compiling the files with buf and comparing the descriptors with those compiled into
the Go packages.

| File | Source: registry, package, version | Go types used by generated code |
| --- | --- | --- |
EOF
  for f in "${GOOGLE_FILES[@]}"; do
    printf '| `%s` | Maven Central, `com.google.api.grpc:proto-google-common-protos:%s` (jar) | `google.golang.org/genproto/googleapis/{api,rpc}/...` (version from `gen/go/go.mod`; checked against `%s`) |\n' \
      "$f" "$GOOGLE_COMMON_PROTOS_VERSION" "$GENPROTO_VERSION"
  done
  for f in "${VALIDATE_FILES[@]}"; do
    printf '| `%s` | Maven Central, `build.buf:protovalidate:%s` (protovalidate-java jar) = protovalidate schema %s | `buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go@%s`, the version `buf.build/go/protovalidate` v1.4.0 requires |\n' \
      "$f" "$PROTOVALIDATE_JAVA_VERSION" "$PROTOVALIDATE_SCHEMA_VERSION" "$PROTOVALIDATE_GO_TYPES_VERSION"
  done
  for f in "${OPENAPIV2_FILES[@]}"; do
    printf '| `%s` | Go module proxy, `github.com/grpc-ecosystem/grpc-gateway/v2@%s` (the module the generated code depends on) | `github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2/options` |\n' \
      "$f" "$GRPC_GATEWAY_VERSION"
  done
  cat <<EOF

\`google/protobuf/*.proto\` (well-known types) are not vendored: buf ships them.

Verification status at the last refresh:

- \`buf/validate/validate.proto\` compiles to exactly the descriptor embedded in the
  Go types above (comments aside), so the protovalidate Go runtime understands every
  rule the file defines. This must hold; the script fails otherwise.
- \`protoc-gen-openapiv2/options/*.proto\` are the files of the same module version.
- \`google/*\`: identical descriptors, except that genproto's
  \`google/api/field_behavior.proto\` declares the \`google.api.field_behavior\`
  extension \`[packed = false]\` and the published .proto no longer does. This only
  changes how the option value is encoded inside our own descriptors; protobuf
  decoders accept both encodings, so reading \`field_behavior\` at run time works.

Licenses (copied into \`LICENSES/\` from the Go modules of the same files):
googleapis and protovalidate are Apache-2.0, grpc-gateway is BSD-3-Clause.
EOF
} >"$DEST/README.md"
log "done: $DEST"
