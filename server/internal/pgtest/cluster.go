package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dirPrefix starts every cluster directory's name; the owning process's pid
// follows, so a later run can tell abandoned clusters from live ones.
const dirPrefix = "izin-pgtest-"

// Cluster is a PostgreSQL server that tests create databases on: either one
// this package started (StartCluster) or an existing one (Connect).
type Cluster struct {
	admin    *url.URL // superuser connection to the maintenance database
	external bool

	// Set only for clusters we started.
	dir     string // root: data/, sockets, log; removed by Stop
	dataDir string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the postmaster has been reaped
	startup time.Duration

	seq      atomic.Uint64
	stopOnce sync.Once
	stopErr  error
}

// URL returns the superuser URL of the cluster's maintenance database
// (postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable for a started
// cluster). Tests should use their own database from NewDatabase instead.
func (c *Cluster) URL() string { return c.admin.String() }

// Connect uses an existing server, given as a postgres:// URL whose user may
// CREATE DATABASE. Stop on the result does nothing.
func Connect(ctx context.Context, rawURL string) (*Cluster, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// NewDatabase derives per-database URLs by replacing the path,
		// which needs the URL form rather than key=value. The value is
		// not echoed: it may hold a password.
		return nil, errors.New("want a postgres://USER[:PASSWORD]@HOST:PORT/DB URL")
	}
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", redact(rawURL), err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		return nil, fmt.Errorf("pinging %s: %w", redact(rawURL), err)
	}
	return &Cluster{admin: u, external: true}, nil
}

// StartCluster initdb's and starts a private cluster in a new directory under
// os.TempDir(), listening on 127.0.0.1 on a free port, tuned for speed over
// durability. Call Stop to shut it down and delete it.
func StartCluster(ctx context.Context) (c *Cluster, err error) {
	begin := time.Now()
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	base := os.TempDir()
	cleanupStale(base)
	if err := ensureTraversable(base, owner); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-*", dirPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if owner != nil {
		if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
			return nil, err
		}
	}
	c = &Cluster{dir: dir, dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "postgres.log")}

	initdb := command(ctx, owner, filepath.Join(bin, "initdb"),
		"-D", c.dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, tail(out))
	}

	// The free-port probe races with other processes grabbing the same
	// port; a few retries make that harmless.
	for attempt := 1; ; attempt++ {
		err = c.start(ctx, owner, bin)
		if err == nil || !errors.Is(err, errPortInUse) || attempt == 5 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	c.startup = time.Since(begin)
	return c, nil
}

var errPortInUse = errors.New("port already in use")

// start runs the postmaster on a fresh port and waits until it accepts
// connections.
func (c *Cluster) start(ctx context.Context, owner *osUser, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// Unix socket paths are limited to 107 bytes; TCP is what tests use, so
	// drop the socket rather than fail when TMPDIR is deep.
	sockDir := c.dir
	if len(sockDir)+len("/.s.PGSQL.65535.lock") > 100 {
		sockDir = ""
	}
	logf, err := os.Create(c.logPath)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own descriptor

	// Run postgres directly, not via pg_ctl, so it stays our child: the
	// parent-death signal then shuts it down if the test binary is killed.
	cmd := command(context.Background(), owner, filepath.Join(bin, "postgres"),
		"-D", c.dataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+sockDir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "shared_buffers=128MB",
	)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	c.cmd, c.exited = cmd, exited
	c.admin = &url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}

	if err := c.waitReady(ctx); err != nil {
		c.kill()
		log, _ := os.ReadFile(c.logPath)
		if errors.Is(err, errPortInUse) {
			return err
		}
		if bytes.Contains(log, []byte("Address already in use")) {
			return fmt.Errorf("%w: %d", errPortInUse, port)
		}
		return fmt.Errorf("%v\npostgres log:\n%s", err, tail(log))
	}
	return nil
}

// waitReady polls until the server accepts connections, returning early if
// the postmaster dies.
func (c *Cluster) waitReady(ctx context.Context) error {
	for {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during startup (%v)", c.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("waiting for postgres to accept connections: %w", ctx.Err())
		default:
		}
		if ok, err := c.probe(ctx); ok || err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probe reports whether our server is accepting connections. It checks the
// data directory because, had the port been taken by another cluster after
// freePort released it, the connection would reach that one.
func (c *Cluster) probe(ctx context.Context) (bool, error) {
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgx.Connect(pctx, c.URL())
	if err != nil {
		return false, nil // not up yet (refused, or "starting up")
	}
	defer conn.Close(context.Background())
	var dataDir string
	if err := conn.QueryRow(pctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		return false, nil
	}
	if dataDir != c.dataDir {
		return false, fmt.Errorf("%w: %s is served by another cluster (%s)", errPortInUse, c.admin.Host, dataDir)
	}
	return true, nil
}

// Stop shuts the server down and deletes its directory. It is idempotent,
// and a no-op for a cluster from Connect.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		if c.external {
			return
		}
		c.kill()
		c.stopErr = os.RemoveAll(c.dir)
	})
	return c.stopErr
}

// kill does what "pg_ctl stop -m immediate" does, SIGQUIT to the postmaster,
// without a pg_ctl process (which would refuse to run as root) and while
// still reaping our child.
func (c *Cluster) kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// NewDatabase creates an empty database with a unique name, drops it (WITH
// (FORCE), so connections leaked by the test don't block it) when tb
// finishes, and returns its URL.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := c.databaseName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// tb's own context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	u := *c.admin
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// exec runs one statement on the maintenance database. A connection per
// call keeps Cluster safe for parallel tests without a pool.
func (c *Cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// databaseName derives a valid, unique name (at most 63 bytes) that still
// shows which test a leftover database came from.
func (c *Cluster) databaseName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 32 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	// The random part keeps names unique across test binaries sharing an
	// external server; the sequence, within one binary.
	return fmt.Sprintf("t_%s_%s%d", b.String(), hex.EncodeToString(rnd[:]), c.seq.Add(1))
}

// findBinDir locates a directory holding initdb and postgres.
func findBinDir() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		// pg_config also comes with libpq-dev alone, so check the
		// server binaries are really there.
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first; "9.6" < "15" needs a numeric compare.
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	candidates = append(candidates, dirs...)
	if p, err := exec.LookPath("initdb"); err == nil {
		if p, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(p))
		}
	}
	for _, d := range candidates {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found via pg_config --bindir, /usr/lib/postgresql/*/bin or PATH")
}

func majorOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// osUser is the account the server runs as when we are root.
type osUser struct {
	name     string
	uid, gid uint32
}

// serverUser returns nil when we may run the server as ourselves, else the
// "postgres" account, because initdb and postgres refuse to run as root.
func serverUser() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to; no \"postgres\" OS user to run it as (the postgresql package creates it): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	return &osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// command builds an exec.Cmd running as owner (if set) that dies with us.
func command(ctx context.Context, owner *osUser, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.SysProcAttr = sysProcAttr(owner)
	var env []string
	for _, kv := range os.Environ() {
		// PGDATA, PGPORT and friends would override our flags; a
		// non-C locale would localise the errors we look for.
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "LC_ALL=C", "LANG=C")
	return cmd
}

// ensureTraversable makes sure owner can reach dir: every ancestor needs the
// search bit for it. Only "others may search" is ever added.
func ensureTraversable(dir string, owner *osUser) error {
	if owner == nil {
		return nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !canSearch(fi, owner) {
			if err := os.Chmod(p, fi.Mode()|0o001); err != nil {
				return fmt.Errorf("making %s searchable for user %s: %w", p, owner.name, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cleanupStale removes cluster directories whose owning test binary is gone
// (killed before it could Stop), stopping a postmaster still running there.
// Live owners' clusters (other packages' tests running in parallel) are
// left alone.
func cleanupStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
	for _, dir := range dirs {
		pidStr, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(dir), dirPrefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		stopStalePostmaster(filepath.Join(dir, "data"))
		_ = os.RemoveAll(dir)
	}
}

// stopStalePostmaster quits the postmaster named by dataDir's pid file, if
// that process is still a postgres serving dataDir (pids get reused).
func stopStalePostmaster(dataDir string) {
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	line, _, _ := strings.Cut(string(pidFile), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(dataDir)) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	for deadline := time.Now().Add(10 * time.Second); processAlive(pid) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// tail keeps error messages readable when logs are long.
func tail(b []byte) string {
	const limit = 4000
	if len(b) > limit {
		b = append([]byte("..."), b[len(b)-limit:]...)
	}
	return string(b)
}

// redact hides a password in a URL before it lands in test output.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
