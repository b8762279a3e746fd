// Package e2e runs izin end to end: a real server in-process, on real ports,
// on each storage engine, driven through each transport (gRPC and the REST
// gateway), the way an integrator with grpcurl or curl would drive it.
package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/pgtest"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

var pg = pgtest.New()

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// testSecret keys activation-code hashes; any fixed 32 bytes will do.
const testSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// engine is a storage engine izin runs on.
type engine string

const (
	sqliteEngine   engine = "sqlite"
	postgresEngine engine = "postgres"
)

var engines = []engine{sqliteEngine, postgresEngine}

// databaseURL returns a fresh, empty database of the engine for t.
func databaseURL(t *testing.T, e engine) string {
	t.Helper()
	switch e {
	case sqliteEngine:
		return "sqlite:" + filepath.Join(t.TempDir(), "izin.db")
	case postgresEngine:
		return pg.DatabaseURL(t)
	}
	t.Fatalf("unknown engine %q", e)
	return ""
}

// server is a running izin.
type server struct {
	App      *app.App
	GRPCAddr string
	HTTPAddr string
	Engine   engine
	conn     *grpc.ClientConn
}

// startServer starts izin on a fresh database of engine e. Each configure
// func may change the configuration before the server starts.
func startServer(t *testing.T, e engine, configure ...func(*app.Config)) *server {
	t.Helper()
	return startServerAt(t, e, databaseURL(t, e), configure...)
}

// startServerAt starts izin in-process over databaseURL, on 127.0.0.1 ports
// the kernel picks, and stops it (waiting for Serve to return) when t ends.
// Every ERROR the server logs fails t: no input may end in an internal error.
func startServerAt(t *testing.T, e engine, databaseURL string, configure ...func(*app.Config)) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := app.Config{
		DatabaseURL: databaseURL,
		GRPCAddr:    "127.0.0.1:0",
		HTTPAddr:    "127.0.0.1:0",
		Secret:      testSecret,
		AutoMigrate: true,
		KeyCacheTTL: 200 * time.Millisecond,
	}
	for _, f := range configure {
		f(&cfg)
	}
	st, err := app.OpenStore(ctx, cfg, true)
	if err != nil {
		cancel()
		t.Fatalf("open store: %v", err)
	}
	logs := &testLog{t: t}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(cfg, st, log)
	if err != nil {
		cancel()
		_ = st.Close()
		t.Fatalf("app.New: %v", err)
	}
	l, err := a.Listen()
	if err != nil {
		cancel()
		_ = st.Close()
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, l) }()

	s := &server{App: a, GRPCAddr: l.GRPC.Addr().String(), HTTPAddr: l.HTTP.Addr().String(), Engine: e}
	s.conn, err = grpc.NewClient(s.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial gRPC: %v", err)
	}
	t.Cleanup(func() {
		_ = s.conn.Close()
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Serve did not return within 20 s of cancel")
		}
		logs.close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
		if n := logs.errors.Load(); n > 0 {
			t.Errorf("the server logged %d ERROR record(s); see the log above", n)
		}
	})
	return s
}

// testLog sends the server log to t.Log, counting ERROR records, and drops
// whatever is logged once the server has stopped.
type testLog struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
	errors atomic.Int64
}

func (l *testLog) Write(p []byte) (int, error) {
	line := string(p)
	if strings.Contains(line, " level=ERROR ") {
		l.errors.Add(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Log(strings.TrimRight(line, "\n"))
	}
	return len(p), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

var _ io.Writer = (*testLog)(nil)

// tenant is a tenant made for one test, with its keys.
type tenant struct {
	ID        string
	Name      string
	Mersis    string
	BrandCode string
	Sender    string
	AdminKey  string
}

var tenantSeq atomic.Int64

// newMersis returns a 16-digit MERSIS number unique within the test binary.
func newMersis() string {
	return fmt.Sprintf("%06d%010d", os.Getpid()%1000000, tenantSeq.Add(1))
}

// newTenant creates a tenant with its default brand and returns its admin key.
func (s *server) newTenant(t *testing.T, name string) *tenant {
	t.Helper()
	mersis := newMersis()
	c, err := s.App.Tenancy.CreateTenant(context.Background(), tenancy.NewTenant{
		Name:   name,
		Mersis: mersis,
		Brand:  store.Brand{Code: "ACME", Name: "Acme Mağazaları", Sender: "ACME"},
	})
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	return &tenant{ID: c.Tenant.ID, Name: name, Mersis: mersis, BrandCode: c.Brand.Code, Sender: c.Brand.Sender,
		AdminKey: c.AdminKey}
}

// newSource creates a source of the tenant and returns its id and its
// CHECK+WRITE key.
func (s *server) newSource(t *testing.T, tn *tenant, name string, typ store.SourceType) (id, key string) {
	t.Helper()
	src, key, _, err := s.App.Tenancy.CreateSource(context.Background(), tn.ID, name, typ)
	if err != nil {
		t.Fatalf("create source: %v", err)
	}
	return src.ID, key
}

// newKey creates an API key of the tenant with the given scope.
func (s *server) newKey(t *testing.T, tn *tenant, scope store.Scope) string {
	t.Helper()
	key, _, err := s.App.Tenancy.CreateAPIKey(context.Background(), tn.ID, fmt.Sprintf("key %d", scope), scope, "")
	if err != nil {
		t.Fatalf("create API key: %v", err)
	}
	return key
}

// testCtx bounds a test's calls; generous, because a loaded 2-core CI
// machine runs this package beside the store suites.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
