package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Execute(context.Background(), []string{"version", "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("version --json: exit %d\n%s", code, errOut.String())
	}
	var v buildInfo
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&v); err != nil || dec.More() {
		t.Fatalf("version --json: not one JSON object (%v)", err)
	}
	if v.Version == "" || v.GoVersion != runtime.Version() {
		t.Errorf("version --json: %+v", v)
	}
	out.Reset()
	if code := Execute(context.Background(), []string{"version"}, &out, &errOut); code != 0 ||
		!strings.HasPrefix(out.String(), "izin "+v.Version+"\n") || !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}

func TestReadBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.time", Value: "2025-03-14T09:26:53Z"},
		{Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   buildInfo
	}{
		{"linked version wins", "v1.2.0", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.1.0"}, Settings: vcs},
			buildInfo{Version: "v1.2.0", Commit: "0123abc", CommitTime: "2025-03-14T09:26:53Z", Modified: true, GoVersion: "go1.26.0"}},
		{"go install's module version", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.1.0"}},
			buildInfo{Version: "v1.1.0", GoVersion: "go1.26.0"}},
		{"a plain build is dev", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:1]},
			buildInfo{Version: "dev", Commit: "0123abc", GoVersion: "go1.26.0"}},
	} {
		if got := readBuildInfo(tc.linked, tc.bi, true); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := readBuildInfo("", nil, false); got.Version != "dev" || got.GoVersion == "" {
		t.Errorf("without build info: %+v", got)
	}
}
