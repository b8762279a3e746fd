// Writes the SDK version from ../VERSION (sdk/VERSION, the single source of the
// version of every izin SDK) into package.json, package-lock.json and
// src/version.ts. Run by `npm run build` (so by test.sh and prepack); a unit
// test asserts that the three agree with sdk/VERSION.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const version = readFileSync(join(pkgDir, "..", "VERSION"), "utf8").trim();
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  throw new Error(`sdk/VERSION: not a semantic version: ${JSON.stringify(version)}`);
}

// writeIfChanged keeps the files' timestamps when nothing changes.
function writeIfChanged(path, text) {
  let old = null;
  try {
    old = readFileSync(path, "utf8");
  } catch {}
  if (old !== text) {
    writeFileSync(path, text);
    console.log(`stamp-version: ${path.slice(pkgDir.length + 1)} -> ${version}`);
  }
}

const pkgPath = join(pkgDir, "package.json");
const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
pkg.version = version;
writeIfChanged(pkgPath, JSON.stringify(pkg, null, 2) + "\n");

const lockPath = join(pkgDir, "package-lock.json");
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
lock.version = version;
if (lock.packages && lock.packages[""]) lock.packages[""].version = version;
writeIfChanged(lockPath, JSON.stringify(lock, null, 2) + "\n");

writeIfChanged(
  join(pkgDir, "src", "version.ts"),
  `// Written by scripts/stamp-version.mjs from sdk/VERSION; do not edit.\n\n/** The version of this SDK (sdk/VERSION). */\nexport const VERSION = ${JSON.stringify(version)};\n`,
);
