package outbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
)

// fixture is a migrated SQLite store with one tenant and brand.
type fixture struct {
	st     *sqlstore.Store
	tenant *store.Tenant
	brand  *store.Brand
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	now := time.Now().UTC()
	tn := &store.Tenant{ID: "t1", Name: "Acme", Mersis: "0123456789012345", CreatedAt: now, TenantSettings: store.DefaultTenantSettings()}
	b := &store.Brand{ID: "b1", TenantID: "t1", Code: "ACME", Name: "Acme", Sender: "ACME", IsDefault: true, CreatedAt: now}
	if err := st.CreateTenant(ctx, tn, b); err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, tenant: tn, brand: b}
}

// queue commits one activation message (or rolls it back) and returns its id.
func (f *fixture) queue(t *testing.T, rollback bool) string {
	t.Helper()
	q := NewQueue(sms.DefaultTemplates(), time.Now)
	var id string
	errRollback := errors.New("rollback")
	err := f.st.InTx(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		id, _, err = q.QueueActivation(context.Background(), tx, f.tenant, f.brand, "05321234567", "v1", "975310",
			[]store.ConsentType{store.ConsentSMS})
		if err != nil {
			return err
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	if rollback != errors.Is(err, errRollback) || (!rollback && err != nil) {
		t.Fatalf("queue: %v", err)
	}
	return id
}

func (f *fixture) message(t *testing.T, id string) store.Message {
	t.Helper()
	var m store.Message
	if err := f.st.DB().Where("id = ?", id).Take(&m).Error; err != nil {
		t.Fatal(err)
	}
	return m
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newWorker(f *fixture, p sms.Provider, c *clock) *Worker {
	w := NewWorker(f.st, StaticRouter{p}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.now = c.now
	return w
}

// flaky fails its first n sends with err, then delegates.
type flaky struct {
	sms.Provider
	mu  sync.Mutex
	n   int
	err error
}

func (p *flaky) Send(ctx context.Context, m sms.Message) (sms.Result, error) {
	p.mu.Lock()
	fail := p.n > 0
	p.n--
	p.mu.Unlock()
	if fail {
		return sms.Result{}, p.err
	}
	return p.Provider.Send(ctx, m)
}

// named is a sandbox pretending to be a real provider.
type named struct{ *sms.Sandbox }

func (named) Name() string { return "netgsm" }

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"rolled back change sends nothing", func(t *testing.T, f *fixture) {
			f.queue(t, true)
			sb := sms.NewSandbox(0)
			n, err := newWorker(f, sb, &clock{t: time.Now().Add(time.Second)}).RunOnce(ctx)
			if err != nil || n != 0 || sb.Sent() != 0 {
				t.Fatalf("claimed %d, sent %d, err %v; want nothing", n, sb.Sent(), err)
			}
		}},
		{"committed message is sent once", func(t *testing.T, f *fixture) {
			id := f.queue(t, false)
			sb := sms.NewSandbox(0)
			w := newWorker(f, sb, &clock{t: time.Now().Add(time.Second)})
			for i := 0; i < 3; i++ {
				if _, err := w.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}
			m := f.message(t, id)
			if sb.Sent() != 1 || m.Status != store.MessageSent || m.ProviderMessageID != "sandbox-"+id || m.SentAt == nil {
				t.Fatalf("sent %d, message %+v", sb.Sent(), m)
			}
			if !strings.Contains(m.Body, "975310") {
				t.Fatalf("sandbox body lost its code: %q", m.Body)
			}
		}},
		{"crash after send, before recording: resent once under the same id", func(t *testing.T, f *fixture) {
			id := f.queue(t, false)
			sb := sms.NewSandbox(0)
			c := &clock{t: time.Now().Add(time.Second)}
			// The first worker claims and sends, then dies before FinishMessage.
			claimed, err := f.st.ClaimMessages(ctx, c.now(), c.now().Add(30*time.Second), 10)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim: %v %d", err, len(claimed))
			}
			if _, err := sb.Send(ctx, sms.Message{ID: id, Sender: "ACME", Recipient: claimed[0].Recipient, Body: claimed[0].Body}); err != nil {
				t.Fatal(err)
			}
			w := newWorker(f, sb, c)
			if n, _ := w.RunOnce(ctx); n != 0 {
				t.Fatalf("a leased message was claimed again (%d)", n)
			}
			c.add(31 * time.Second) // the dead worker's lease runs out
			if n, err := w.RunOnce(ctx); err != nil || n != 1 {
				t.Fatalf("after lease: claimed %d, err %v", n, err)
			}
			m := f.message(t, id)
			if sb.Sent() != 1 || m.Status != store.MessageSent || m.Attempts != 2 {
				t.Fatalf("sent %d times, message status %d attempts %d", sb.Sent(), m.Status, m.Attempts)
			}
		}},
		{"transient failure retries later", func(t *testing.T, f *fixture) {
			id := f.queue(t, false)
			sb := sms.NewSandbox(0)
			c := &clock{t: time.Now().Add(time.Second)}
			w := newWorker(f, &flaky{Provider: sb, n: 1, err: errors.New("provider timeout")}, c)
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			m := f.message(t, id)
			if m.Status != store.MessageQueued || m.LastError == "" || !m.NextAttemptAt.After(c.now()) {
				t.Fatalf("after a transient failure: %+v", m)
			}
			if n, _ := w.RunOnce(ctx); n != 0 {
				t.Fatal("retried before its backoff")
			}
			c.add(10 * time.Minute)
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if m := f.message(t, id); m.Status != store.MessageSent || m.LastError != "" || sb.Sent() != 1 {
				t.Fatalf("after retry: %+v", m)
			}
		}},
		{"permanent failure stops and drops the code", func(t *testing.T, f *fixture) {
			id := f.queue(t, false)
			c := &clock{t: time.Now().Add(time.Second)}
			w := newWorker(f, &flaky{Provider: sms.NewSandbox(0), n: 5, err: sms.Permanent(errors.New("invalid number"))}, c)
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			m := f.message(t, id)
			if m.Status != store.MessageFailed || strings.Contains(m.Body, "975310") || !strings.Contains(m.LastError, "invalid number") {
				t.Fatalf("after a permanent failure: %+v", m)
			}
		}},
		{"real provider: code removed from the stored body once sent", func(t *testing.T, f *fixture) {
			id := f.queue(t, false)
			w := newWorker(f, named{sms.NewSandbox(0)}, &clock{t: time.Now().Add(time.Second)})
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			m := f.message(t, id)
			if m.Status != store.MessageSent || strings.Contains(m.Body, "975310") || !strings.Contains(m.Body, "******") {
				t.Fatalf("stored body after a real send: %q", m.Body)
			}
			msgs, _, err := NewLister(f.st).List(ctx, f.tenant.ID, "", 10, "")
			if err != nil || len(msgs) != 1 || strings.Contains(msgs[0].Body, "975310") {
				t.Fatalf("list shows %v (%v)", msgs, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newFixture(t))
		})
	}
}

func TestListerShowsSandboxCodesOnly(t *testing.T) {
	f := newFixture(t)
	f.queue(t, false)
	msgs, next, err := NewLister(f.st).List(context.Background(), f.tenant.ID, "+90 532 123 45 67", 10, "")
	if err != nil || len(msgs) != 1 || next != "" {
		t.Fatalf("list: %v %d %q", err, len(msgs), next)
	}
	if !strings.Contains(msgs[0].Body, "975310") {
		t.Fatalf("sandbox body should be shown in full: %q", msgs[0].Body)
	}
	if _, _, err := NewLister(f.st).List(context.Background(), f.tenant.ID, "not a number", 10, ""); err == nil {
		t.Fatal("a malformed recipient filter was accepted")
	}
}
