package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release this binary is, set when building one:
//
//	go build -ldflags "-X github.com/izinhq/izin/server/internal/cli.version=v1.2.0" ./server/cmd/izin
//
// Left empty, the module version (go install …@v1.2.0) or "dev" is shown.
var version string

// buildInfo is what izin version prints.
type buildInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	// Modified is true for a build from a work tree with uncommitted changes.
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
}

// readBuildInfo combines the version set at link time with what the Go
// toolchain recorded: the commit (go build in a git work tree stamps it),
// and the module version for go install.
func readBuildInfo(linked string, bi *debug.BuildInfo, ok bool) buildInfo {
	out := buildInfo{Version: linked, GoVersion: runtime.Version()}
	if ok {
		out.GoVersion = bi.GoVersion
		if out.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			out.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				out.Commit = s.Value
			case "vcs.time":
				out.CommitTime = s.Value
			case "vcs.modified":
				out.Modified = s.Value == "true"
			}
		}
	}
	if out.Version == "" {
		out.Version = "dev"
	}
	return out
}

func (bi buildInfo) text() string {
	commit := bi.Commit
	if commit == "" {
		commit = "unknown"
	}
	if bi.Modified {
		commit += " (modified)"
	}
	if bi.CommitTime != "" {
		commit += ", " + bi.CommitTime
	}
	return fmt.Sprintf("izin %s\ncommit: %s\ngo:     %s\n", bi.Version, commit, bi.GoVersion)
}

func (r *root) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			bi, ok := debug.ReadBuildInfo()
			v := readBuildInfo(version, bi, ok)
			return r.emit(v, v.text())
		},
	}
}
