// Package pgtest gives tests throwaway PostgreSQL databases.
//
// A test package holds one Harness, wires it into TestMain, and asks it for
// databases; the first request starts one private cluster for the whole test
// binary, so packages whose tests never ask pay nothing:
//
//	var pg = pgtest.New()
//
//	func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pg.DatabaseURL(t) // fresh empty database, dropped after the test
//		...
//	}
//
// The cluster is built from the installed PostgreSQL server binaries
// (pg_config --bindir, else /usr/lib/postgresql/*/bin). If
// IZIN_TEST_DATABASE_URL is set, databases are created on that server
// instead and nothing is started.
//
// When PostgreSQL is unavailable, tests are skipped, unless CI=true or
// IZIN_REQUIRE_POSTGRES=1, in which case they fail: CI must never go green
// by silently skipping the database tests.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// EnvDatabaseURL names an existing server (a postgres:// URL with
	// rights to CREATE DATABASE) to use instead of starting one.
	EnvDatabaseURL = "IZIN_TEST_DATABASE_URL"
	// EnvRequire, like CI=true, turns "PostgreSQL unavailable" from a skip
	// into a failure.
	EnvRequire = "IZIN_REQUIRE_POSTGRES"

	// startTimeout is generous because a loaded CI machine runs several
	// test binaries, each initdb-ing its own cluster, at once.
	startTimeout = 2 * time.Minute
)

// Harness lazily starts one cluster per test binary and stops it when
// Run returns. The zero value is not usable; call New.
type Harness struct {
	running atomic.Bool

	once    sync.Once
	cluster *Cluster
	err     error
}

// New returns a Harness; assign it to a package-level var and call its Run
// from TestMain.
func New() *Harness { return &Harness{} }

// Run runs the tests and then stops the cluster if any test started it.
// Use it as: func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }.
func (h *Harness) Run(m *testing.M) int {
	h.running.Store(true)
	code := m.Run()
	// Claim the Once so a goroutine leaked by a test cannot start a
	// cluster that nobody would stop.
	h.once.Do(func() { h.err = errors.New("pgtest: Harness.Run has already returned") })
	if h.cluster != nil {
		if err := h.cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping cluster: %v\n", err)
		}
	}
	return code
}

// DatabaseURL creates a fresh, empty database and returns its URL, e.g.
// postgres://postgres@127.0.0.1:PORT/NAME?sslmode=disable. The database is
// dropped (WITH (FORCE)) when the test finishes. It skips or fails tb if
// PostgreSQL is unavailable (see the package doc).
func (h *Harness) DatabaseURL(tb testing.TB) string {
	tb.Helper()
	c := h.Cluster(tb)
	if c == nil {
		return "" // only reachable with a TB whose Fatal/Skip return
	}
	return c.NewDatabase(tb)
}

// Cluster returns the shared cluster, starting it on first use. It skips or
// fails tb if PostgreSQL is unavailable (see the package doc).
func (h *Harness) Cluster(tb testing.TB) *Cluster {
	tb.Helper()
	if !h.running.Load() {
		// Without Run nobody would stop the server after the tests.
		tb.Fatal("pgtest: Harness.Run was not called; add to the test package:\n" +
			"\tfunc TestMain(m *testing.M) { os.Exit(pg.Run(m)) }")
		return nil
	}
	started := false
	h.once.Do(func() {
		started = true
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		h.cluster, h.err = fromEnv(ctx)
	})
	if h.err != nil {
		unavailable(tb, h.err)
		return nil
	}
	if started && !h.cluster.external {
		tb.Logf("pgtest: started PostgreSQL in %v at %s", h.cluster.startup.Round(time.Millisecond), h.cluster.URL())
	}
	return h.cluster
}

// fromEnv connects to IZIN_TEST_DATABASE_URL if set, else starts a cluster.
func fromEnv(ctx context.Context) (*Cluster, error) {
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		c, err := Connect(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvDatabaseURL, err)
		}
		return c, nil
	}
	return StartCluster(ctx)
}

// requirePostgres reports whether a missing PostgreSQL must fail tests.
func requirePostgres() bool {
	for _, env := range []string{"CI", EnvRequire} {
		if ok, _ := strconv.ParseBool(os.Getenv(env)); ok {
			return true
		}
	}
	return false
}

// unavailable applies the skip-or-fail policy to a start/connect error.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if requirePostgres() {
		tb.Fatalf("pgtest: PostgreSQL is required here (CI=true or %s=1) but unavailable: %v\n"+
			"Install the server with scripts/ci-install-postgres.sh (apt-get install postgresql-15), "+
			"or point %s at a server.", EnvRequire, err, EnvDatabaseURL)
		return
	}
	tb.Skipf("pgtest: skipping, PostgreSQL unavailable: %v\n"+
		"To run this test: apt-get install postgresql-15 (or scripts/ci-install-postgres.sh), "+
		"or set %s=postgres://USER@HOST:PORT/postgres.", err, EnvDatabaseURL)
}
