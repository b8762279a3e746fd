package izin_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// forbidden are the server's database drivers and the server itself: an
// application importing the SDK must not build or download them.
var forbidden = []string{
	"gorm.io/",
	"github.com/mattn/go-sqlite3",
	"modernc.org/sqlite",
	"modernc.org/libc",
	"github.com/glebarez/",
	"github.com/jackc/pgx",
	"github.com/lib/pq",
	"github.com/izinhq/izin/server",
}

func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goBin); err != nil {
		goBin = "go"
	}
	out, err := exec.Command(goBin, args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func isForbidden(path string) bool {
	if path == "github.com/izinhq/izin" { // the server's module
		return true
	}
	for _, f := range forbidden {
		if strings.HasPrefix(path, f) {
			return true
		}
	}
	return false
}

// TestNoServerDependencies checks that the SDK's packages import none of
// the server's database drivers, and that its module graph has none.
func TestNoServerDependencies(t *testing.T) {
	pkgs := strings.Fields(goCmd(t, "list", "-deps", "."))
	if len(pkgs) < 10 {
		t.Fatalf("go list -deps listed only %v", pkgs)
	}
	for _, p := range pkgs {
		if isForbidden(p) {
			t.Errorf("the SDK imports %s", p)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(goCmd(t, "mod", "graph")), "\n") {
		for _, m := range strings.Fields(line) {
			if path, _, _ := strings.Cut(m, "@"); isForbidden(path) {
				t.Errorf("the SDK's module graph has %s (%s)", m, line)
			}
		}
	}
}
