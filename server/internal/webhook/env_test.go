package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/pgtest"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/webhook"
)

var pg = pgtest.New()

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

var engines = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"SQLite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "izin.db") }},
	{"Postgres", func(t *testing.T) string { return pg.DatabaseURL(t) }},
}

// fakeRenderer stands in for grpcserver's: the data names the record.
type fakeRenderer struct{}

func (fakeRenderer) ConsentEvent(_ context.Context, e *store.ConsentEvent) ([]byte, error) {
	return fmt.Appendf(nil, `{"id":%q,"seq":%d}`, e.ID, e.Seq), nil
}

func (fakeRenderer) Notification(_ context.Context, n *store.Notification) ([]byte, error) {
	return fmt.Appendf(nil, `{"id":%q}`, n.RefID), nil
}

// receiver records what it is sent and answers from a script.
type receiver struct {
	mu      sync.Mutex
	got     []received
	answers []int // status per request; 200 once they run out
}

type received struct {
	id, ts, sig string
	body        []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, received{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body})
	status := http.StatusOK
	if len(r.answers) > 0 {
		status, r.answers = r.answers[0], r.answers[1:]
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, strings.Repeat("no ", 500))
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	st     *sqlstore.Store
	clock  *clock
	svc    *webhook.Service
	tenant string
	brand  store.Brand
	seq    int64
}

var serverSecret = bytes.Repeat([]byte{9}, 32)

func newEnv(t *testing.T, url string) *env {
	st := sqlitetest.OpenURL(t, url)
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	sealer, err := webhook.NewSealer(serverSecret)
	if err != nil {
		t.Fatal(err)
	}
	ten := store.Tenant{ID: uuid.NewString(), Name: "T", CreatedAt: c.now(), TenantSettings: store.DefaultTenantSettings()}
	b := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "1", Name: "B", IsDefault: true, CreatedAt: c.now()}
	if err := st.CreateTenant(t.Context(), &ten, &b); err != nil {
		t.Fatal(err)
	}
	return &env{st: st, clock: c, svc: webhook.NewService(st, sealer, true, c.now), tenant: ten.ID, brand: b}
}

func (e *env) dispatcher(t *testing.T) *webhook.Dispatcher {
	sealer, _ := webhook.NewSealer(serverSecret)
	d := webhook.NewDispatcher(e.st, fakeRenderer{}, sealer, webhook.NewClient(5*time.Second, true), slog.New(slog.DiscardHandler), e.clock.now)
	d.Schedule = []time.Duration{time.Second, time.Minute, time.Hour}
	return d
}

// consent appends one consent event to the tenant's chain.
func (e *env) consent(t *testing.T, status store.ConsentStatus) {
	t.Helper()
	e.seq++
	ev := &store.ConsentEvent{ID: uuid.NewString(), TenantID: e.tenant, Seq: e.seq, BrandID: e.brand.ID, BrandCode: e.brand.Code,
		Recipient: "+905321112233", RecipientType: store.Individual, Type: store.ConsentSMS, Status: status,
		ConsentTime: e.clock.now(), CreatedAt: e.clock.now(), IYSSource: "HS_WEB", Hash: fmt.Sprint(e.seq)}
	err := e.st.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.LockChain(ctx, e.tenant); err != nil {
			return err
		}
		if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{ev}); err != nil {
			return err
		}
		return tx.SetChainHead(ctx, store.ChainHead{TenantID: e.tenant, Seq: e.seq, Hash: ev.Hash})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rounds runs the dispatcher n times, moving the clock past each retry.
func rounds(t *testing.T, d *webhook.Dispatcher, c *clock, n int) {
	t.Helper()
	for range n {
		if _, err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		c.add(2 * time.Hour)
	}
}
