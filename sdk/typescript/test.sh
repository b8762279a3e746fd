#!/usr/bin/env bash
# Builds and tests the TypeScript SDK (@izinhq/izin) from scratch:
#   1. npm ci (pinned by package-lock.json) and the pinned buf (make tools);
#   2. regenerates src/gen from proto/ and fails if it differs from the committed files;
#   3. builds dist/ with tsc (stamping the version from sdk/VERSION);
#   4. unit tests (node --test, no server);
#   5. the conformance scenario against a real izin (../conformance/with-server.sh);
#   6. npm pack, then installs the tarball in a scratch project and imports it.
# Idempotent and non-interactive; exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

t0=$SECONDS
step() { printf '\n== sdk/typescript [%ss]: %s\n' "$((SECONDS - t0))" "$*"; }

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "buf (make tools)"
make -C "$root" --no-print-directory tools

step "regenerate src/gen and compare"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/izin-sdk-ts.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
if [[ -d src/gen ]]; then cp -R src/gen "$scratch/gen.committed"; else mkdir "$scratch/gen.committed"; fi
rm -rf src/gen
(cd "$root" && bin/buf generate --template sdk/typescript/buf.gen.yaml)
if ! diff -r "$scratch/gen.committed" src/gen >"$scratch/gen.diff"; then
	head -n 40 "$scratch/gen.diff"
	echo "sdk/typescript/src/gen was stale: it has now been regenerated; commit the changes" >&2
	exit 1
fi

step "build (tsc -> dist/)"
npm run --silent build
if grep -rlE "from \"node:|require\(" dist --include='*.js'; then
	echo "dist/ uses Node-only modules; the library must run in browsers and React Native too" >&2
	exit 1
fi

step "unit tests"
npm run --silent build:test
node --test build/test/*.unit.test.js

step "conformance (real izin via ../conformance/with-server.sh)"
../conformance/with-server.sh node --test build/test/conformance.test.js

step "npm pack"
rm -f izinhq-izin-*.tgz
npm pack --ignore-scripts --silent >"$scratch/pack.out"
tarball="$here/$(tail -n 1 "$scratch/pack.out")"
tar -tzf "$tarball" | sort >"$scratch/contents"
for f in package/package.json package/README.md package/dist/index.js package/dist/index.d.ts; do
	grep -qxF "$f" "$scratch/contents" || { echo "$tarball lacks $f" >&2; exit 1; }
done
if grep -E '^package/(src|test|build|node_modules)/' "$scratch/contents"; then
	echo "$tarball holds files that are not the package" >&2
	exit 1
fi
mkdir "$scratch/consumer"
(
	cd "$scratch/consumer"
	printf '{"name":"consumer","private":true,"type":"module"}\n' >package.json
	npm install --no-audit --no-fund --prefer-offline --loglevel=error "$tarball"
	node --input-type=module -e '
		import { readFileSync } from "node:fs";
		const izin = await import("@izinhq/izin");
		const want = readFileSync(process.argv[1], "utf8").trim();
		if (izin.VERSION !== want) throw new Error(`VERSION ${izin.VERSION} != sdk/VERSION ${want}`);
		new izin.IzinClient({ baseUrl: "http://localhost:8080", apiKey: "k" });
		console.log(`installed ${process.argv[2]}: @izinhq/izin ${izin.VERSION} imports`);
	' "$root/sdk/VERSION" "$(basename "$tarball")"
)

step "ok: $(basename "$tarball")"
