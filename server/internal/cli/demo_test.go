package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/cli"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
)

// syncBuffer is a buffer a running server writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var demoKeyLine = regexp.MustCompile(`API key   : (izin_[a-z0-9]+)`)

// serveDemo runs `izin serve --demo` until it prints its key, then stops it.
func serveDemo(t *testing.T, db string) (key, out string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Execute(ctx, []string{"serve", "--demo", "--database-url", db, "--secret-file", filepath.Join(filepath.Dir(db[len("sqlite:"):]), "secret"),
			"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--metrics-addr", "", "--iys-off"}, &stdout, &stderr)
	}()
	deadline := time.After(time.Minute)
	for {
		if m := demoKeyLine.FindStringSubmatch(stdout.String()); m != nil {
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("serve exited %d: %s", code, stderr.String())
			}
			return m[1], stdout.String()
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before printing a key:\n%s\n%s", code, stdout.String(), stderr.String())
		case <-deadline:
			t.Fatalf("serve printed no key within a minute:\n%s", stdout.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestDemoKeys: each `make run` prints a fresh admin key for the demo tenant
// and revokes the ones earlier runs printed, saying so.
func TestDemoKeys(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "izin.db")
	first, out1 := serveDemo(t, db)
	if strings.Contains(out1, "revoked") {
		t.Errorf("first run speaks of revoked keys:\n%s", out1)
	}
	second, out2 := serveDemo(t, db)
	if first == second || !strings.Contains(out2, "1 demo key(s) printed by earlier runs were revoked") {
		t.Errorf("second run: key %s (first %s); want a new key and a note that the first was revoked:\n%s", second, first, out2)
	}
	st, err := sqlstore.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tenants, err := st.ListTenants(context.Background())
	if err != nil || len(tenants) != 1 {
		t.Fatalf("tenants = %v, %v; want the demo tenant alone", tenants, err)
	}
	keys, err := st.ListAPIKeys(context.Background(), tenants[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, k := range keys {
		if k.RevokedAt == nil {
			active++
		}
	}
	if len(keys) != 3 || active != 2 { // the tenant's own admin key, and the second demo key
		t.Errorf("%d keys, %d active; want 3 keys, 2 active (the tenant's first admin key and the new demo key)", len(keys), active)
	}
}
