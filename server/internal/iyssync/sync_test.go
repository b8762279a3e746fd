package iyssync

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iys/iystest"
	"github.com/izinhq/izin/server/internal/pgtest"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/tenancy"
)

var pg = pgtest.New()

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

var testSecret = bytes.Repeat([]byte{0x42}, 32)

// engines runs f on a fresh SQLite and a fresh PostgreSQL database.
func engines(t *testing.T, f func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, "sqlite:"+filepath.Join(t.TempDir(), "izin.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, pg.DatabaseURL(t))
	})
}

// clock is the worker's clock: real time plus an offset a test moves.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
	fixed  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		return c.fixed
	}
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// countingMetrics counts refusals by code.
type countingMetrics struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *countingMetrics) Refused(code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[code]++
}

// fixture is a tenant with one brand connected to a fake İYS.
type fixture struct {
	st      *sqlstore.Store
	ten     *tenancy.Service
	fake    *iystest.Server
	svc     *Service
	w       *Worker
	cons    *consent.Service
	clock   *clock
	metrics *countingMetrics
	tenant  string
	brand   *store.Brand
	p       auth.Principal
}

func testClientFactory(base string, creds iys.Credentials) (Client, error) {
	return iys.New(base, creds,
		iys.WithSleeper(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		iys.WithRetryPolicy(iys.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxRateLimitWaits: 2}))
}

func newFixture(t *testing.T, url string, fakeOpts ...iystest.Option) *fixture {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.OpenURL(t, url)
	ten := tenancy.New(st, nil, time.Second)
	c, err := ten.CreateTenant(ctx, tenancy.NewTenant{Name: "Acme A.Ş.", Mersis: "0123456789012345", IYSCode: iystest.DefaultIYSCode,
		Brand: store.Brand{Code: "ACME", Name: "Acme", Sender: "ACME"}})
	if err != nil {
		t.Fatal(err)
	}
	src, _, key, err := ten.CreateSource(ctx, c.Tenant.ID, "Web shop", store.SourceEcommerce)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, ten: ten, fake: iystest.New(t, fakeOpts...), clock: &clock{}, metrics: &countingMetrics{},
		tenant: c.Tenant.ID, brand: c.Brand,
		p: auth.Principal{TenantID: c.Tenant.ID, KeyID: key.ID, SourceID: &src.ID, SourceType: store.SourceEcommerce, Scope: store.ScopeWrite}}
	sealer, err := NewSealer(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{PollDelay: -1, Lease: time.Minute, NewClient: testClientFactory, Now: f.clock.Now}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.svc = NewService(st, ten, sealer, opts)
	f.w = NewWorker(st, ten, sealer, log, opts)
	f.w.SetMetrics(f.metrics)
	f.cons = consent.New(st, ten, nil, time.Now)
	if _, err := f.svc.SetConfig(ctx, f.tenant, ConfigInput{Brand: "ACME", IYSCode: iystest.DefaultIYSCode,
		BrandCode: iystest.DefaultBrand, Username: iystest.DefaultUsername, Password: iystest.DefaultPassword,
		BaseURL: f.fake.URL, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) record(t *testing.T, rcpt string, at *time.Time, types ...store.ConsentType) {
	t.Helper()
	if _, err := f.cons.Record(t.Context(), f.p, consent.ChangeRequest{Recipient: rcpt, Types: types, ConsentTime: at}); err != nil {
		t.Fatalf("Record %s: %v", rcpt, err)
	}
}

func (f *fixture) reject(t *testing.T, rcpt string, types ...store.ConsentType) {
	t.Helper()
	if _, err := f.cons.Reject(t.Context(), f.p, consent.ChangeRequest{Recipient: rcpt, Types: types}); err != nil {
		t.Fatalf("Reject %s: %v", rcpt, err)
	}
}

func (f *fixture) sync(t *testing.T) *BrandReport {
	t.Helper()
	rep, err := f.w.RunOnce(t.Context(), f.tenant)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if len(rep.Brands) != 1 {
		t.Fatalf("RunOnce synchronised %d brands, want 1", len(rep.Brands))
	}
	return &rep.Brands[0]
}

func (f *fixture) uploads(t *testing.T, state store.IYSUploadState) []Upload {
	t.Helper()
	ups, _, err := f.svc.ListUploads(t.Context(), f.tenant, ListUploadsRequest{State: state, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ups
}

func (f *fixture) key(rcpt string, typ iys.ConsentType) iystest.Key {
	return iystest.Key{IYSCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand, Recipient: rcpt,
		RecipientType: iys.Individual, Type: typ}
}

func (f *fixture) check(t *testing.T, rcpt string, typ store.ConsentType) store.ConsentStatus {
	t.Helper()
	res, err := f.cons.Check(t.Context(), f.p, consent.CheckRequest{Recipient: rcpt, Types: []store.ConsentType{typ}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Results[0].Status
}

const phone = "+905321234567"

// Recorded consents and a rejection reach İYS, in order, with İYS's
// transaction id kept on each upload; nothing is sent twice.
func TestUploadRecordAndReject(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		f.record(t, phone, nil, store.ConsentSMS, store.ConsentCall)
		f.record(t, "Ali@Example.com.tr", nil, store.ConsentEmail)
		// Rejected within the same second as it was granted: İYS keeps
		// seconds, so the RET is sent a second after the ONAY.
		f.reject(t, phone, store.ConsentSMS)
		// The RET's date is then up to a second ahead; İYS refuses a date
		// in the future, so the worker waits for it.
		time.Sleep(1100 * time.Millisecond)

		rep := f.sync(t)
		if rep.Sent != 3 || rep.Accepted != 3 || len(rep.Errors) > 0 {
			t.Fatalf("first run: %+v, want 3 sent and accepted (the RET waits for its ONAY)", rep)
		}
		rep = f.sync(t)
		if rep.Sent != 1 || rep.Accepted != 1 || len(rep.Errors) > 0 {
			t.Fatalf("second run: %+v, want the RET sent and accepted", rep)
		}
		if rep := f.sync(t); rep.Sent != 0 {
			t.Errorf("third run sent %d, want nothing left", rep.Sent)
		}

		for _, tc := range []struct {
			key     iystest.Key
			status  iys.Status
			history int
		}{
			{f.key(phone, iys.SMS), iys.Rejected, 2},
			{f.key(phone, iys.Call), iys.Granted, 1},
			{f.key("ali@example.com.tr", iys.Email), iys.Granted, 1},
		} {
			got, ok := f.fake.Stored(tc.key)
			if !ok || got.Status != tc.status || got.Source != iys.SourceWeb {
				t.Errorf("İYS holds %+v (%v) for %s %s, want %s from HS_WEB", got, ok, tc.key.Recipient, tc.key.Type, tc.status)
			}
			if h := f.fake.History(tc.key); len(h) != tc.history {
				t.Errorf("İYS history of %s %s: %d records, want %d", tc.key.Recipient, tc.key.Type, len(h), tc.history)
			}
		}
		txs := map[string]bool{}
		for _, k := range []iystest.Key{f.key(phone, iys.SMS), f.key(phone, iys.Call), f.key("ali@example.com.tr", iys.Email)} {
			for _, c := range f.fake.History(k) {
				txs[c.TransactionID] = true
			}
		}
		ups := f.uploads(t, 0)
		if len(ups) != 4 {
			t.Fatalf("%d uploads, want 4", len(ups))
		}
		for _, u := range ups {
			if u.State != store.IYSAccepted || !txs[u.TransactionID] || u.RequestID == "" || u.BrandCode != "ACME" {
				t.Errorf("upload %+v: want ACCEPTED with one of İYS's transaction ids and a request id", u)
			}
			if !u.Deadline.Equal(iys.DefaultCalendar.Deadline(u.ConsentTime)) {
				t.Errorf("upload deadline %v, want %v", u.Deadline, iys.DefaultCalendar.Deadline(u.ConsentTime))
			}
		}
		sts, err := f.svc.Status(t.Context(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if len(sts) != 1 || sts[0].Accepted != 4 || sts[0].Pending+sts[0].Submitted+sts[0].Refused != 0 ||
			sts[0].OldestOpen != nil || sts[0].LastPull == nil || sts[0].LastError != "" || !sts[0].Enabled {
			t.Errorf("status %+v: want 4 accepted, nothing open, a pull time and no error", sts)
		}
	})
}

// A RET a citizen makes at İYS is pulled and turns a GRANTED check into
// REJECTED; it is not uploaded back; the cursor is kept.
func TestPullCitizenRejection(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		hourAgo := time.Now().Add(-time.Hour)
		f.record(t, phone, &hourAgo, store.ConsentSMS)
		f.sync(t)
		if got := f.check(t, phone, store.ConsentSMS); got != store.StatusGranted {
			t.Fatalf("check before the RET: %v, want GRANTED", got)
		}
		ret := f.fake.InjectChange(iystest.DefaultIYSCode, iystest.DefaultBrand, iys.Consent{Recipient: phone, Type: iys.SMS,
			Status: iys.Rejected, Source: iys.SourceIYSWeb})

		rep := f.sync(t)
		if rep.Applied != 1 || rep.Sent != 0 || len(rep.Errors) > 0 {
			t.Fatalf("run after the RET: %+v, want one change applied and nothing sent", rep)
		}
		if got := f.check(t, phone, store.ConsentSMS); got != store.StatusRejected {
			t.Fatalf("check after the pull: %v, want REJECTED", got)
		}
		evs, err := f.st.ListConsentEvents(t.Context(), store.EventFilter{TenantID: f.tenant, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].IYSSource != "IYS_WEB" || evs[0].Reference != "iys:"+ret.TransactionID ||
			evs[0].Status != store.StatusRejected || evs[0].SourceID != nil {
			t.Errorf("newest event %+v: want the RET from IYS_WEB referencing İYS's transaction", evs[0])
		}
		if ups := f.uploads(t, 0); len(ups) != 1 {
			t.Errorf("%d uploads, want only the ONAY: a change from İYS is not sent back", len(ups))
		}
		again := f.sync(t)
		if again.Applied != 0 || again.Sent != 0 {
			t.Errorf("a further run: %+v, want nothing applied or sent", again)
		}
		if h := f.fake.History(f.key(phone, iys.SMS)); len(h) != 2 {
			t.Errorf("İYS history: %d records, want the ONAY and the citizen's RET", len(h))
		}
	})
}

// The daily change file brings a change the feed did not deliver.
func TestReconcileDailyFile(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		hourAgo := time.Now().Add(-time.Hour)
		f.record(t, phone, &hourAgo, store.ConsentSMS)
		f.sync(t)
		f.fake.InjectChange(iystest.DefaultIYSCode, iystest.DefaultBrand, iys.Consent{Recipient: phone, Type: iys.SMS,
			Status: iys.Rejected, Source: iys.SourceIYSCallCenter})
		// Move the stored cursor past the change, as if the feed had lost it.
		cl, _ := testClientFactory(f.fake.URL, f.fake.Credentials())
		page, err := cl.Changes(t.Context(), iystest.DefaultIYSCode, iystest.DefaultBrand, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		err = f.st.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
			c, err := tx.LockIYSCursor(t.Context(), f.tenant, f.brand.ID, time.Now())
			if err != nil {
				return err
			}
			c.Cursor = page.Next
			return tx.PutIYSCursor(t.Context(), c)
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep := f.sync(t); rep.Applied != 0 {
			t.Fatalf("the feed applied %d, want 0 (the cursor is past the change)", rep.Applied)
		}
		if got := f.check(t, phone, store.ConsentSMS); got != store.StatusGranted {
			t.Fatalf("check: %v, want still GRANTED", got)
		}
		// The next day, the change is in yesterday's file.
		f.fake.Advance(24 * time.Hour)
		f.clock.Advance(24 * time.Hour)
		rep := f.sync(t)
		if rep.Applied != 1 || len(rep.Reconciled) == 0 || len(rep.Errors) > 0 {
			t.Fatalf("run the next day: %+v, want the change applied from the daily file", rep)
		}
		if got := f.check(t, phone, store.ConsentSMS); got != store.StatusRejected {
			t.Errorf("check after reconciling: %v, want REJECTED", got)
		}
		if rep := f.sync(t); len(rep.Reconciled) != 0 || rep.Applied != 0 {
			t.Errorf("a further run: %+v, want no day reconciled again", rep)
		}
	})
}

// A 429 burst leaves uploads pending (with İYS's Retry-After) and a later
// run uploads them once.
func TestRateLimitBurst(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		for _, r := range []string{"+905321234561", "+905321234562", "+905321234563"} {
			f.record(t, r, nil, store.ConsentSMS)
		}
		// One API request an hour: a status query uses it up.
		f.fake.SetRateLimit(1, time.Hour)
		cl, _ := testClientFactory(f.fake.URL, f.fake.Credentials())
		if _, err := cl.ConsentStatus(t.Context(), iystest.DefaultIYSCode, iystest.DefaultBrand, phone, iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
		rep, err := f.w.RunOnce(t.Context(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if b := rep.Brands[0]; b.Sent != 0 || b.Retrying != 3 || len(b.Errors) == 0 {
			t.Fatalf("run in the burst: %+v, want 3 retrying and errors", b)
		}
		for _, u := range f.uploads(t, 0) {
			if u.State != store.IYSPending || u.ErrorCode != "H124" || u.NextAttemptAt.Before(f.clock.Now().Add(30*time.Minute)) {
				t.Errorf("upload after 429: %+v, want PENDING with H124, next attempt after İYS's Retry-After", u.IYSUpload)
			}
		}
		if f.fake.RateLimited() == 0 {
			t.Fatal("the fake answered no 429")
		}
		f.fake.SetRateLimit(0, 0)
		if rep := f.sync(t); rep.Sent != 0 {
			t.Errorf("a run before the retry time sent %d, want 0", rep.Sent)
		}
		f.clock.Advance(2 * time.Hour)
		rep2 := f.sync(t)
		if rep2.Sent != 3 || rep2.Accepted != 3 {
			t.Errorf("run after the burst: %+v, want 3 sent and accepted", rep2)
		}
		for _, r := range []string{"+905321234561", "+905321234562", "+905321234563"} {
			if h := f.fake.History(f.key(r, iys.SMS)); len(h) != 1 {
				t.Errorf("İYS history of %s: %d records, want 1", r, len(h))
			}
		}
		sts, err := f.svc.Status(t.Context(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if sts[0].LastError != "" {
			t.Errorf("last error after a clean run: %q, want none", sts[0].LastError)
		}
	})
}

// An expired or revoked token is replaced without losing an upload.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url, iystest.WithTokenTTL(2*time.Hour, 4*time.Hour))
		f.record(t, "+905321234561", nil, store.ConsentSMS)
		if rep := f.sync(t); rep.Accepted != 1 {
			t.Fatalf("first run: %+v", rep)
		}
		// İYS's clock passes the access token's life (the client's does
		// not, so it learns it from a 401), then İYS drops every session.
		f.fake.Advance(3 * time.Hour)
		f.record(t, "+905321234562", nil, store.ConsentSMS)
		if rep := f.sync(t); rep.Accepted != 1 || len(rep.Errors) > 0 {
			t.Fatalf("run after expiry: %+v, want the upload accepted", rep)
		}
		f.fake.RevokeTokens()
		f.record(t, "+905321234563", nil, store.ConsentSMS)
		if rep := f.sync(t); rep.Accepted != 1 || len(rep.Errors) > 0 {
			t.Fatalf("run after revocation: %+v, want the upload accepted", rep)
		}
		if n := f.fake.TokenRequests(""); n < 3 {
			t.Errorf("%d token grants, want a new token after expiry and after revocation", n)
		}
		for _, r := range []string{"+905321234561", "+905321234562", "+905321234563"} {
			if h := f.fake.History(f.key(r, iys.SMS)); len(h) != 1 {
				t.Errorf("İYS history of %s: %d records, want 1", r, len(h))
			}
		}
	})
}

// A worker that dies after İYS took its bulk request but before recording
// it loses nothing: after the lease, the upload goes again, İYS answers
// H174, and the upload ends ACCEPTED with İYS's transaction id; İYS holds
// one record.
func TestWorkerKilledMidUpload(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		f.record(t, phone, nil, store.ConsentSMS)
		now := f.clock.Now()
		ups, err := f.st.ClaimIYSUploads(t.Context(), f.tenant, f.brand.ID, now, now.Add(time.Minute), 1000)
		if err != nil || len(ups) != 1 {
			t.Fatalf("claim: %v, %d uploads", err, len(ups))
		}
		cl, _ := testClientFactory(f.fake.URL, f.fake.Credentials())
		if _, err := cl.AddConsentsAsync(t.Context(), iystest.DefaultIYSCode, iystest.DefaultBrand, []iys.Consent{consentOf(&ups[0])}); err != nil {
			t.Fatal(err)
		}
		// The process is gone; its lease still holds the upload.
		if rep := f.sync(t); rep.Sent != 0 {
			t.Fatalf("run under the dead worker's lease sent %d, want 0", rep.Sent)
		}
		f.clock.Advance(2 * time.Minute)
		rep := f.sync(t)
		if rep.Sent != 1 || rep.Accepted != 1 || rep.Refused != 0 {
			t.Fatalf("run after the lease: %+v, want the upload resent and accepted", rep)
		}
		stored, ok := f.fake.Stored(f.key(phone, iys.SMS))
		if !ok {
			t.Fatal("İYS holds nothing")
		}
		got := f.uploads(t, 0)
		if len(got) != 1 || got[0].State != store.IYSAccepted || got[0].TransactionID != stored.TransactionID ||
			got[0].ErrorCode != "H174" || got[0].Attempts != 2 {
			t.Errorf("upload %+v: want ACCEPTED after 2 attempts with İYS's transaction %s and note H174", got[0].IYSUpload, stored.TransactionID)
		}
		if h := f.fake.History(f.key(phone, iys.SMS)); len(h) != 1 {
			t.Errorf("İYS history: %d records, want exactly 1", len(h))
		}
	})
}

// A change İYS refuses for a rule is REFUSED with İYS's code and message,
// listed by ListUploads and counted.
func TestRefusedRecord(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		hourAgo := time.Now().Add(-time.Hour)
		f.record(t, phone, &hourAgo, store.ConsentSMS)
		f.record(t, "+905321234562", nil, store.ConsentSMS)
		// İYS holds a newer RET for the first recipient: ours is older.
		f.fake.InjectChange(iystest.DefaultIYSCode, iystest.DefaultBrand, iys.Consent{Recipient: phone, Type: iys.SMS,
			Status: iys.Rejected, Source: iys.SourceIYSMobile})
		rep := f.sync(t)
		if rep.Refused != 1 || rep.Accepted != 1 {
			t.Fatalf("run: %+v, want one refused and one accepted", rep)
		}
		refused := f.uploads(t, store.IYSRefused)
		if len(refused) != 1 || refused[0].Recipient != phone || refused[0].ErrorCode != "H178" ||
			!strings.Contains(refused[0].ErrorMessage, "önceki tarihli") || !strings.Contains(refused[0].ErrorMessage, "older") {
			t.Fatalf("refused uploads %+v: want the first recipient's, with H178 and İYS's message", refused)
		}
		if f.metrics.m["H178"] != 1 {
			t.Errorf("refusals counted: %v, want H178 once", f.metrics.m)
		}
		// The pull brought İYS's newer RET: izin agrees with İYS.
		if got := f.check(t, phone, store.ConsentSMS); got != store.StatusRejected {
			t.Errorf("check: %v, want REJECTED after the pull", got)
		}
		if rep := f.sync(t); rep.Sent != 0 {
			t.Errorf("a refused upload was sent again (%d)", rep.Sent)
		}
		sts, err := f.svc.Status(t.Context(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if sts[0].Refused != 1 || sts[0].Accepted != 1 {
			t.Errorf("status %+v: want 1 refused, 1 accepted", sts[0])
		}
	})
}

// Status counts the backlog and finds deadlines in business days.
func TestStatusDeadlines(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ist := iys.Istanbul()
		// Wednesday 12 March 2025, 10:00. Given on Thursday the 6th: due
		// Tuesday the 11th (overdue); on Friday the 7th: due Wednesday
		// (near); on Monday the 10th: due Thursday (neither).
		f.svc.now = func() time.Time { return time.Date(2025, 3, 12, 10, 0, 0, 0, ist) }
		thu := time.Date(2025, 3, 6, 15, 0, 0, 0, ist)
		fri := time.Date(2025, 3, 7, 15, 0, 0, 0, ist)
		mon := time.Date(2025, 3, 10, 15, 0, 0, 0, ist)
		f.record(t, "+905321234561", &thu, store.ConsentSMS)
		f.record(t, "+905321234562", &fri, store.ConsentSMS)
		f.record(t, "+905321234563", &mon, store.ConsentSMS)
		sts, err := f.svc.Status(t.Context(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		s := sts[0]
		wantDeadline := time.Date(2025, 3, 12, 0, 0, 0, 0, ist)
		if s.Pending != 3 || s.Overdue != 1 || s.NearDeadline != 1 || s.OldestOpen == nil || !s.OldestOpen.Equal(thu) ||
			s.NearestDeadline == nil || !s.NearestDeadline.Equal(wantDeadline) {
			t.Errorf("status %+v: want 3 pending, 1 overdue, 1 near, oldest %v due %v", s, thu, wantDeadline)
		}
		// Paging, oldest consent first.
		first, next, err := f.svc.ListUploads(t.Context(), f.tenant, ListUploadsRequest{PageSize: 2})
		if err != nil || len(first) != 2 || next == "" || !first[0].ConsentTime.Equal(thu) {
			t.Fatalf("first page: %v, %d, %q", err, len(first), next)
		}
		rest, next2, err := f.svc.ListUploads(t.Context(), f.tenant, ListUploadsRequest{PageSize: 2, PageToken: next})
		if err != nil || len(rest) != 1 || next2 != "" || !rest[0].ConsentTime.Equal(mon) {
			t.Errorf("second page: %v, %d, %q", err, len(rest), next2)
		}
		if _, _, err := f.svc.ListUploads(t.Context(), f.tenant, ListUploadsRequest{PageToken: "junk"}); err == nil {
			t.Error("a junk page token was accepted")
		}
	})
}

func TestDeadlinesAt(t *testing.T) {
	ist := iys.Istanbul()
	cal := iys.DefaultCalendar
	// Friday 8 May 2026, 09:00.
	now := time.Date(2026, 5, 8, 9, 0, 0, 0, ist)
	dl := DeadlinesAt(cal, now)
	for _, tc := range []struct {
		given         time.Time
		near, overdue bool
	}{
		{time.Date(2026, 5, 4, 12, 0, 0, 0, ist), false, true},  // Monday: due Thursday
		{time.Date(2026, 5, 5, 12, 0, 0, 0, ist), true, false},  // Tuesday: due Friday (today)
		{time.Date(2026, 5, 6, 12, 0, 0, 0, ist), false, false}, // Wednesday: due Monday, more than a business day away
		{time.Date(2026, 5, 7, 12, 0, 0, 0, ist), false, false}, // Thursday: due Tuesday
	} {
		if got := dl.Near(tc.given); got != tc.near {
			t.Errorf("Near(%v) = %v, want %v", tc.given, got, tc.near)
		}
		if got := dl.Overdue(tc.given); got != tc.overdue {
			t.Errorf("Overdue(%v) = %v, want %v", tc.given, got, tc.overdue)
		}
		if got := dl.Overdue(tc.given); got != cal.Late(tc.given, now) {
			t.Errorf("Overdue(%v) = %v, but Calendar.Late says %v", tc.given, got, !got)
		}
	}
}

func TestSendDate(t *testing.T) {
	base := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		given, prev, want time.Time
	}{
		{base.Add(300 * time.Millisecond), time.Time{}, base},
		{base.Add(800 * time.Millisecond), base.Add(300 * time.Millisecond), base.Add(time.Second)},
		{base.Add(2500 * time.Millisecond), base.Add(300 * time.Millisecond), base.Add(2 * time.Second)},
	} {
		if got := sendDate(tc.given, tc.prev); !got.Equal(tc.want) {
			t.Errorf("sendDate(%v, %v) = %v, want %v", tc.given, tc.prev, got, tc.want)
		}
	}
}

func TestSealer(t *testing.T) {
	s, err := NewSealer(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("p@ss wörd", "brand-1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("p@ss")) {
		t.Error("the sealed value contains the password")
	}
	again, _ := s.Seal("p@ss wörd", "brand-1")
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one password are equal: the nonce is not fresh")
	}
	if got, err := s.Open(sealed, "brand-1"); err != nil || got != "p@ss wörd" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "brand-2"); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open for another brand: %v, want ErrUnseal", err)
	}
	other, _ := NewSealer(bytes.Repeat([]byte{0x43}, 32))
	if _, err := other.Open(sealed, "brand-1"); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open under another secret: %v, want ErrUnseal", err)
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Error("NewSealer accepted a short secret")
	}
}

// SetConfig validates, encrypts, and keeps the stored password when none is
// given; a disabled brand is not synchronised.
func TestSetConfig(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ctx := t.Context()
		before, err := f.st.GetIYSConfig(ctx, f.tenant, f.brand.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(before.PasswordEnc, []byte(iystest.DefaultPassword)) {
			t.Error("the stored password is in clear")
		}
		c, err := f.svc.SetConfig(ctx, f.tenant, ConfigInput{IYSCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand,
			Username: iystest.DefaultUsername, BaseURL: f.fake.URL, Enabled: false})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.PasswordEnc, before.PasswordEnc) || c.Enabled || !c.CreatedAt.Equal(before.CreatedAt) {
			t.Errorf("after an update without password: %+v, want the old password kept and disabled", c)
		}
		rep, err := f.w.RunOnce(ctx, f.tenant)
		if err != nil || len(rep.Brands) != 0 {
			t.Errorf("RunOnce with the brand disabled: %v, %+v, want nothing", err, rep)
		}
		for _, in := range []ConfigInput{
			{IYSCode: "12a", BrandCode: "1", Username: "u", Password: "p"},
			{IYSCode: "1", BrandCode: "", Username: "u", Password: "p"},
			{IYSCode: "1", BrandCode: "1", Username: "", Password: "p"},
			{IYSCode: "1", BrandCode: "1", Username: "u", Password: "p", BaseURL: "ftp://x"},
			{IYSCode: "1", BrandCode: "1", Username: "u", Password: "p", Brand: "NOPE"},
		} {
			if _, err := f.svc.SetConfig(ctx, f.tenant, in); err == nil {
				t.Errorf("SetConfig(%+v) accepted", in)
			}
		}
		b, err := f.ten.CreateBrand(ctx, f.tenant, store.Brand{Code: "OTHER", Name: "Other", Sender: "OTHER"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetConfig(ctx, f.tenant, ConfigInput{Brand: b.Code, IYSCode: "1", BrandCode: "2", Username: "u"}); err == nil {
			t.Error("a new configuration without a password was accepted")
		}
		// Connectivity: the fake's account works; a wrong password does not.
		if _, err := f.svc.SetConfig(ctx, f.tenant, ConfigInput{Brand: b.Code, IYSCode: "1", BrandCode: "2", Username: "u",
			Password: "wrong", BaseURL: f.fake.URL, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetConfig(ctx, f.tenant, ConfigInput{IYSCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand,
			Username: iystest.DefaultUsername, BaseURL: f.fake.URL, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		sts, err := f.svc.Status(ctx, f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CheckConnectivity(ctx, f.tenant, sts); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range sts {
			got[s.Brand] = s.Connectivity
		}
		if got["ACME"] != "ok" || got["OTHER"] == "ok" || got["OTHER"] == "" {
			t.Errorf("connectivity %v: want ACME ok and OTHER failing", got)
		}
	})
}
