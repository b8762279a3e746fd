package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/pgtest"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/verify"
)

var pg = pgtest.New()

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

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

type env struct {
	dir   *tenancy.Service
	st    *sqlstore.Store
	svc   *verify.Service
	p     auth.Principal
	clock *clock
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.OpenURL(t, url)
	c := &clock{t: time.Now().UTC()}
	ten := tenancy.New(st, nil, time.Minute)
	created, err := ten.CreateTenant(ctx, tenancy.NewTenant{Name: "Acme", Mersis: "0123456789012345",
		Brand: store.Brand{Code: "ACME", Name: "Acme", Sender: "ACME"}})
	if err != nil {
		t.Fatal(err)
	}
	q := outbox.NewQueue(sms.DefaultTemplates(), c.now)
	return &env{dir: ten, st: st, clock: c, svc: verify.New(st, ten, q, []byte("0123456789abcdef0123456789abcdef"), c.now),
		p: auth.Principal{TenantID: created.Tenant.ID, KeyID: created.KeyInfo.ID, Scope: store.ScopeAdmin}}
}

func engines(t *testing.T, run func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		run(t, newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "izin.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		run(t, newEnv(t, pg.DatabaseURL(t)))
	})
}

var codeRE = regexp.MustCompile(`^(\d{6}) `)

// code reads the newest activation code from the sandbox outbox.
func (e *env) code(t *testing.T, verificationID string) string {
	t.Helper()
	msgs, err := e.st.MessagesOfVerification(context.Background(), e.p.TenantID, verificationID)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == store.KindActivation {
			if m := codeRE.FindStringSubmatch(msgs[i].Body); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no activation code for %s", verificationID)
	return ""
}

func wrong(code string) string {
	b := []byte(code)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

func (e *env) start(t *testing.T, recipient string) *verify.View {
	t.Helper()
	v, err := e.svc.Start(context.Background(), e.p, verify.StartRequest{Recipient: recipient,
		Types: []store.ConsentType{store.ConsentSMS, store.ConsentCall}, Method: store.MethodSMSCode})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func reason(err error) errs.Reason {
	if e, ok := errs.As(err); ok {
		return e.Reason
	}
	return ""
}

func TestConcurrentWrongCodesUseExactlyMaxAttempts(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		v := e.start(t, "05321234567")
		bad := wrong(e.code(t, v.ID))
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[errs.Reason]int{}
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.Submit(context.Background(), e.p, v.ID, bad)
				mu.Lock()
				got[reason(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		// Two wrong codes leave attempts, the third fails the verification,
		// every later one finds it closed: no attempt is lost or doubled.
		if got[errs.ReasonInvalidCode] != 2 || got[errs.ReasonTooManyAttempts] != 1 || got[errs.ReasonVerificationClosed] != 7 {
			t.Fatalf("reasons %v", got)
		}
		after, err := e.svc.Get(context.Background(), e.p, v.ID)
		if err != nil || after.Status != store.VerificationFailed || after.Attempts != 3 {
			t.Fatalf("after: %+v %v", after, err)
		}
		if _, err := e.svc.Submit(context.Background(), e.p, v.ID, e.code(t, v.ID)); reason(err) != errs.ReasonVerificationClosed {
			t.Fatalf("right code after failure: %v", err)
		}
	})
}

func TestConcurrentRightCodesRecordOnce(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		v := e.start(t, "05321234567")
		code := e.code(t, v.ID)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, closed := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := e.svc.Submit(context.Background(), e.p, v.ID, code)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && res.View.Status == store.VerificationVerified && len(res.Events) == 2:
					ok++
				case reason(err) == errs.ReasonVerificationClosed:
					closed++
				default:
					t.Errorf("unexpected: %+v %v", res, err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || closed != 7 {
			t.Fatalf("%d verified, %d closed; want 1 and 7", ok, closed)
		}
		evs, err := e.st.ListConsentEvents(context.Background(), store.EventFilter{TenantID: e.p.TenantID, Limit: 100})
		if err != nil || len(evs) != 2 {
			t.Fatalf("events %d (%v), want 2", len(evs), err)
		}
		for _, ev := range evs {
			if ev.VerificationID == nil || *ev.VerificationID != v.ID || ev.Method != store.MethodSMSCode ||
				ev.Texts == "" || ev.MessageIDs == "" {
				t.Fatalf("event evidence incomplete: %+v", ev)
			}
		}
		msgs, _ := e.st.MessagesOfVerification(context.Background(), e.p.TenantID, v.ID)
		if len(msgs) != 2 || msgs[1].Kind != store.KindConfirmation {
			t.Fatalf("messages %+v, want activation then one confirmation", msgs)
		}
	})
}

func TestExpiryAndResend(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		v := e.start(t, "05321234567")
		first := e.code(t, v.ID)

		_, err := e.svc.Resend(ctx, e.p, v.ID)
		if de, ok := errs.As(err); !ok || de.Kind != errs.KindResourceExhausted || de.RetryAfter <= 0 {
			t.Fatalf("resend at once: %v", err)
		}
		e.clock.add(3*time.Minute + time.Second)
		if _, err := e.svc.Submit(ctx, e.p, v.ID, first); reason(err) != errs.ReasonVerificationExpired {
			t.Fatalf("expired code: %v", err)
		}
		if got, _ := e.svc.Get(ctx, e.p, v.ID); got.Status != store.VerificationExpired {
			t.Fatalf("status after expiry %d", got.Status)
		}
		// A resend revives it with a new code; the old one stops working.
		again, err := e.svc.Resend(ctx, e.p, v.ID)
		if err != nil || again.Status != store.VerificationPending || again.AttemptsLeft != 3 || len(again.MessageIDs) != 2 {
			t.Fatalf("resend: %+v %v", again, err)
		}
		second := e.code(t, v.ID)
		if second == first {
			t.Skip("the random code repeated; nothing to tell apart") // one in a million
		}
		if _, err := e.svc.Submit(ctx, e.p, v.ID, first); reason(err) != errs.ReasonInvalidCode {
			t.Fatalf("old code after resend: %v", err)
		}
		e.clock.add(61 * time.Second)
		if _, err := e.svc.Resend(ctx, e.p, v.ID); err != nil {
			t.Fatalf("third send: %v", err)
		}
		e.clock.add(61 * time.Second)
		if _, err := e.svc.Resend(ctx, e.p, v.ID); reason(err) != errs.ReasonRateLimited {
			t.Fatalf("fourth send should hit the per-verification limit: %v", err)
		}
		res, err := e.svc.Submit(ctx, e.p, v.ID, e.code(t, v.ID))
		if err != nil || res.View.Status != store.VerificationVerified {
			t.Fatalf("newest code: %+v %v", res, err)
		}
	})
}

func TestStartRules(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "izin.db"))
	ctx := context.Background()
	tests := []struct {
		name     string
		req      verify.StartRequest
		kind     errs.Kind
		field    string
		reason   errs.Reason
		preStart int // verifications started to the same number first
	}{
		{name: "landline", req: verify.StartRequest{Recipient: "0212 555 12 12"}, kind: errs.KindInvalid, field: "recipient", reason: errs.ReasonRecipientMismatch},
		{name: "e-mail", req: verify.StartRequest{Recipient: "a@b.com"}, kind: errs.KindInvalid, field: "recipient"},
		{name: "malformed", req: verify.StartRequest{Recipient: "12ab"}, kind: errs.KindInvalid, field: "recipient"},
		{name: "e-mail consent by SMS", req: verify.StartRequest{Recipient: "05321234567", Types: []store.ConsentType{store.ConsentEmail}}, kind: errs.KindInvalid, field: "types"},
		{name: "unknown brand", req: verify.StartRequest{Recipient: "05321234567", Brand: "X"}, kind: errs.KindInvalid, field: "brand"},
		{name: "sixth SMS to one number in an hour", req: verify.StartRequest{Recipient: "05329990000"}, kind: errs.KindResourceExhausted, reason: errs.ReasonRateLimited, preStart: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i < tt.preStart; i++ {
				e.start(t, tt.req.Recipient)
			}
			if tt.req.Method == 0 {
				tt.req.Method = store.MethodSMSCode
			}
			if tt.req.Types == nil {
				tt.req.Types = []store.ConsentType{store.ConsentSMS}
			}
			_, err := e.svc.Start(ctx, e.p, tt.req)
			de, ok := errs.As(err)
			if !ok || de.Kind != tt.kind || de.Field != tt.field || (tt.reason != "" && de.Reason != tt.reason) {
				t.Fatalf("got %#v, want kind %d field %q reason %q", err, tt.kind, tt.field, tt.reason)
			}
		})
	}
}

func TestIdempotentStart(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		req := verify.StartRequest{Recipient: "05321234567", Types: []store.ConsentType{store.ConsentSMS},
			Method: store.MethodSMSCode, IdempotencyKey: "order-42"}
		var wg sync.WaitGroup
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := e.svc.Start(ctx, e.p, req)
				if err != nil {
					t.Errorf("start %d: %v", i, err)
					return
				}
				ids[i] = v.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("one key gave several verifications: %v", ids)
			}
		}
		msgs, err := e.st.ListMessages(ctx, store.MessageFilter{TenantID: e.p.TenantID, Limit: 10})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%d messages (%v), want exactly one", len(msgs), err)
		}
		req.Recipient = "05320000000"
		if _, err := e.svc.Start(ctx, e.p, req); reason(err) != errs.ReasonIdempotencyKeyReused {
			t.Fatalf("key reused for another number: %v", err)
		}
	})
}

func TestOtherTenantCannotSeeOrSubmit(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "izin.db"))
	v := e.start(t, "05321234567")
	other := e.p
	other.TenantID = "another-tenant"
	if _, err := e.svc.Get(context.Background(), other, v.ID); !isKind(err, errs.KindNotFound) {
		t.Fatalf("get: %v", err)
	}
	if _, err := e.svc.Submit(context.Background(), other, v.ID, e.code(t, v.ID)); !isKind(err, errs.KindNotFound) {
		t.Fatalf("submit: %v", err)
	}
	if got, _ := e.svc.Get(context.Background(), e.p, v.ID); got.Status != store.VerificationPending || got.AttemptsLeft != 3 {
		t.Fatalf("owner's verification changed: %+v", got)
	}
}

func isKind(err error, k errs.Kind) bool {
	e, ok := errs.As(err)
	return ok && e.Kind == k
}

// Wrong codes count per verification: resends give a guesser no new
// attempts, so one wrong code per send uses the verification up by the
// third (MaxAttempts) as surely as three to one code.
func TestWrongCodesCountAcrossResends(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		v := e.start(t, "05321234568")
		if v.AttemptsLeft != 3 {
			t.Fatalf("attempts left %d, want the default 3", v.AttemptsLeft)
		}
		want := []errs.Reason{errs.ReasonInvalidCode, errs.ReasonInvalidCode, errs.ReasonTooManyAttempts}
		for i, w := range want {
			if i > 0 {
				e.clock.add(61 * time.Second)
				if _, err := e.svc.Resend(ctx, e.p, v.ID); err != nil {
					t.Fatalf("send %d: %v", i+1, err)
				}
			}
			if _, err := e.svc.Submit(ctx, e.p, v.ID, wrong(e.code(t, v.ID))); reason(err) != w {
				t.Fatalf("wrong code to send %d: %v, want %s", i+1, err, w)
			}
		}
		if got, _ := e.svc.Get(ctx, e.p, v.ID); got.Status != store.VerificationFailed {
			t.Fatalf("status %v, want FAILED", got.Status)
		}
	})
}
