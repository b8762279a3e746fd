package cli_test

import (
	"strings"
	"testing"
)

// must runs a command that should succeed and returns its output.
func must(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// refused runs a command that should fail with --json and returns its
// error message.
func refused(t *testing.T, args ...string) string {
	t.Helper()
	code, out, _ := run(t, append(args, "--json")...)
	if code == 0 {
		t.Fatalf("%s: exit 0, want a failure\n%s", strings.Join(args, " "), out)
	}
	var e struct {
		Error string `json:"error"`
	}
	decode(t, out, &e)
	if e.Error == "" {
		t.Fatalf("%s: no error in %s", strings.Join(args, " "), out)
	}
	return e.Error
}

// A word that is no command fails, at every level, and with --json says so
// in its one JSON object; a group alone prints its help.
func TestUnknownSubcommand(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"tenant", "frobnicate"}, {"audit", "lst"}, {"key", "x"}, {"iys", "x"}} {
		code, out, errOut := run(t, args...)
		if code == 0 || !strings.Contains(errOut, "unknown command") || out != "" {
			t.Errorf("izin %s: exit %d, stdout %q, stderr %q; want a failure", strings.Join(args, " "), code, out, errOut)
		}
		if msg := refused(t, args...); !strings.Contains(msg, `unknown command "`+args[len(args)-1]+`"`) {
			t.Errorf("izin %s --json: %q", strings.Join(args, " "), msg)
		}
	}
	if msg := refused(t, "tenant", "lst"); !strings.Contains(msg, "did you mean list") {
		t.Errorf("tenant lst: %q, want a suggestion", msg)
	}
	if code, out, _ := run(t, "tenant"); code != 0 || !strings.Contains(out, "create") {
		t.Errorf("izin tenant: exit %d, %q; want its help", code, out)
	}
}
