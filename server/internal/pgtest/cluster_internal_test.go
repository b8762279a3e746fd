package pgtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startLocal starts a private cluster for one test, applying the package's
// skip-or-fail policy.
func startLocal(t *testing.T) *Cluster {
	t.Helper()
	if os.Getenv(EnvDatabaseURL) != "" {
		t.Skipf("%s is set: local clusters are not used", EnvDatabaseURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := StartCluster(ctx)
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

// gone reports whether pid has exited; a zombie awaiting its reaper (the
// orphaned postmaster's new parent) counts as gone.
func gone(pid int) bool {
	if !processAlive(pid) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// Field 3, after "(comm)", is the state.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !gone(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartClusterAndStop(t *testing.T) {
	begin := time.Now()
	c := startLocal(t)
	t.Logf("StartCluster took %v (initdb + start + ready); bin dir: %s", time.Since(begin).Round(time.Millisecond), mustBinDir(t))

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	var version string
	var fsync string
	if err := conn.QueryRow(ctx, `SELECT version(), current_setting('fsync')`).Scan(&version, &fsync); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(ctx); err != nil {
		t.Error(err)
	}
	t.Logf("%s", version)
	if fsync != "off" {
		t.Errorf("fsync = %s, want off", fsync)
	}

	pid := c.cmd.Process.Pid
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil { // idempotent
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Fatalf("cluster dir %s not removed: %v", c.dir, err)
	}
	if _, err := pgx.Connect(ctx, c.URL()); err == nil {
		t.Fatal("server still accepting connections after Stop")
	}
}

func mustBinDir(t *testing.T) string {
	d, err := findBinDir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// helperEnv marks the re-executed test binary that plays a test process
// killed while owning a cluster.
const helperEnv = "PGTEST_HELPER_PROCESS"

func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("only runs as the helper process of TestKilledOwner")
	}
	c, err := StartCluster(context.Background())
	if err != nil {
		fmt.Printf("ERROR %v\n", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
	fmt.Printf("READY %d %s\n", c.cmd.Process.Pid, c.dir)
	time.Sleep(time.Minute) // until killed
	os.Exit(1)
}

// A test binary killed outright (timeout, SIGKILL) must not leave a server
// running, and its directory must be cleaned by the next start.
func TestKilledOwner(t *testing.T) {
	if os.Getenv(EnvDatabaseURL) != "" {
		t.Skipf("%s is set: local clusters are not used", EnvDatabaseURL)
	}
	if _, err := findBinDir(); err != nil {
		unavailable(t, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	var dir string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERROR ") {
			_ = cmd.Wait()
			unavailable(t, fmt.Errorf("helper: %s", line))
		}
		if _, err := fmt.Sscanf(line, "READY %d %s", &pid, &dir); err == nil {
			break
		}
	}
	if pid == 0 {
		_ = cmd.Wait()
		t.Fatal("helper process did not report a cluster")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	waitGone(t, pid) // via the parent-death signal
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("expected the killed owner's dir to be left behind: %v", err)
	}
	cleanupStale(filepath.Dir(dir))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("stale cluster dir %s not removed: %v", dir, err)
	}
}

// The stale cleanup also stops a server that outlived its owner (no
// parent-death signal on this OS, or it was lost).
func TestStopStalePostmaster(t *testing.T) {
	c := startLocal(t)
	stopStalePostmaster(c.dataDir)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("postmaster still running")
	}
}

// fakeTB records Fatal/Skip instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                      {}
func (f *fakeTB) Fatal(args ...any)            { f.fatal = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(s string, args ...any) { f.fatal = fmt.Sprintf(s, args...) }
func (f *fakeTB) Skipf(s string, args ...any)  { f.skip = fmt.Sprintf(s, args...) }

func TestUnavailablePolicy(t *testing.T) {
	for _, tc := range []struct {
		ci, require string
		wantFail    bool
	}{
		{"", "", false},
		{"false", "0", false},
		{"true", "", true},
		{"", "1", true},
	} {
		t.Run(fmt.Sprintf("CI=%q,%s=%q", tc.ci, EnvRequire, tc.require), func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(EnvRequire, tc.require)
			f := &fakeTB{TB: t}
			unavailable(f, fmt.Errorf("boom"))
			if tc.wantFail {
				if f.fatal == "" || f.skip != "" || !strings.Contains(f.fatal, "boom") {
					t.Fatalf("want failure, got fatal=%q skip=%q", f.fatal, f.skip)
				}
				return
			}
			if f.skip == "" || f.fatal != "" || !strings.Contains(f.skip, "apt-get install postgresql-15") {
				t.Fatalf("want skip with install hint, got fatal=%q skip=%q", f.fatal, f.skip)
			}
		})
	}
}

func TestHarnessRequiresRun(t *testing.T) {
	h := New()
	f := &fakeTB{TB: t}
	if c := h.Cluster(f); c != nil || !strings.Contains(f.fatal, "TestMain") {
		t.Fatalf("Cluster without Run: c=%v fatal=%q", c, f.fatal)
	}
}

func TestFromEnvUsesExistingServer(t *testing.T) {
	c := startLocal(t)
	t.Setenv(EnvDatabaseURL, c.URL())
	ext, err := fromEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !ext.external || ext.URL() != c.URL() {
		t.Fatalf("fromEnv = %+v, want external cluster at %s", ext, c.URL())
	}

	t.Setenv(EnvDatabaseURL, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if _, err := fromEnv(context.Background()); err == nil || !strings.Contains(err.Error(), EnvDatabaseURL) {
		t.Fatalf("unreachable %s: err = %v", EnvDatabaseURL, err)
	}
}

func TestDatabaseName(t *testing.T) {
	c := &Cluster{}
	valid := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	seen := map[string]bool{}
	for _, name := range []string{
		"TestX",
		"TestVeryLong/" + strings.Repeat("Sub-Test#ÜÖ", 20),
		"",
	} {
		got := c.databaseName(name)
		if len(got) > 63 || !valid.MatchString(got) || seen[got] {
			t.Errorf("databaseName(%q) = %q", name, got)
		}
		seen[got] = true
	}
}
