import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { VERSION } from "@izinhq/izin";

// The tests run from build/test/: ../../ is sdk/typescript/, ../../../ is sdk/.
const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), "utf8");
const sdkVersion = read("../../../VERSION").trim();

test("the version comes from sdk/VERSION", () => {
  assert.match(sdkVersion, /^\d+\.\d+\.\d+/);
  assert.equal(VERSION, sdkVersion, "src/version.ts (run scripts/stamp-version.mjs)");
  const pkg = JSON.parse(read("../../package.json")) as { version: string };
  assert.equal(pkg.version, sdkVersion, "package.json (run scripts/stamp-version.mjs)");
  const lock = JSON.parse(read("../../package-lock.json")) as { version: string; packages: Record<string, { version: string }> };
  assert.equal(lock.version, sdkVersion, "package-lock.json");
  assert.equal(lock.packages[""]!.version, sdkVersion, "package-lock.json");
});

test("the tests import the built package (dist/) by its name", () => {
  // "@izinhq/izin" resolves through package.json "exports" to dist/index.js.
  assert.match(import.meta.resolve("@izinhq/izin"), /\/dist\/index\.js$/);
});
