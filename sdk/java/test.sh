#!/usr/bin/env bash
# Builds and tests the Java SDK: generates the gRPC/protobuf classes from proto/
# (protoc and protoc-gen-grpc-java are pinned Maven artifacts), runs the unit
# tests and the conformance test against a real izin started by
# ../conformance/with-server.sh, and packages target/izin-sdk-<version>.jar.
# The version is sdk/VERSION. Maven downloads what it needs from Maven Central
# into ~/.m2 (set MAVEN_REPO_LOCAL to use another local repository).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
version="$(tr -d '[:space:]' <../VERSION)"

mvn_args=(-B -q -Dstyle.color=never -Drevision="$version")
if [[ -n ${MAVEN_REPO_LOCAL:-} ]]; then
	mvn_args+=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL")
fi

# One Maven run inside the server's environment: unit tests, ConformanceTest
# (which fails when CI=true and the server's environment is missing), the jar.
../conformance/with-server.sh mvn "${mvn_args[@]}" clean verify

jar="target/izin-sdk-$version.jar"
[[ -f $jar ]] || { echo "test.sh: $jar was not built" >&2; exit 1; }
# The jar must carry sdk/VERSION, in its manifest and in dev/izin/version.properties.
python3 - "$jar" "$version" <<'PY'
import sys, zipfile
jar, want = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(jar) as z:
    manifest = z.read("META-INF/MANIFEST.MF").decode()
    props = z.read("dev/izin/version.properties").decode()
got = {line.split(":", 1)[1].strip() for line in manifest.splitlines() if line.startswith("Implementation-Version:")}
got |= {line.split("=", 1)[1].strip() for line in props.splitlines() if line.startswith("version=")}
if got != {want}:
    sys.exit(f"test.sh: {jar} says version {sorted(got)}, sdk/VERSION says {want}")
PY

# Surefire's summary, for the log.
python3 - <<'PY'
import glob, xml.etree.ElementTree as ET
t = f = e = s = 0
for p in glob.glob("target/surefire-reports/TEST-*.xml"):
    r = ET.parse(p).getroot()
    t += int(r.get("tests")); f += int(r.get("failures")); e += int(r.get("errors")); s += int(r.get("skipped"))
print(f"java-sdk: {t - f - e - s} passed, {f + e} failed, {s} skipped")
PY
echo "java-sdk: built $jar"
