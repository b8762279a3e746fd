package iys_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iys/iystest"
)

const (
	code  = iystest.DefaultIYSCode
	brand = iystest.DefaultBrand
)

// A Wednesday with no holiday near it, so that dates a few hours back are
// well within İYS's 3-business-day window.
var start = time.Date(2026, 1, 14, 12, 0, 0, 0, iys.Istanbul())

// sleepLog records the waits of a client whose sleeper moves the fake clock
// instead of sleeping, so backoff and Retry-After cost no real time.
type sleepLog struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *sleepLog) waits() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.d...)
}

type env struct {
	fake   *iystest.Server
	client *iys.Client
	sleeps *sleepLog
}

func newEnv(t *testing.T, fakeOpts []iystest.Option, clientOpts ...iys.Option) *env {
	t.Helper()
	fake := iystest.New(t, append([]iystest.Option{iystest.WithStart(start)}, fakeOpts...)...)
	log := &sleepLog{}
	opts := []iys.Option{
		iys.WithClock(fake.Now),
		iys.WithSleeper(func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			log.mu.Lock()
			log.d = append(log.d, d)
			log.mu.Unlock()
			fake.Advance(d)
			return nil
		}),
		iys.WithRetryPolicy(iys.RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second}),
	}
	c, err := iys.New(fake.URL, fake.Credentials(), append(opts, clientOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: fake, client: c, sleeps: log}
}

func onay(recipient string, at time.Time) iys.Consent {
	return iys.Consent{Recipient: recipient, RecipientType: iys.Individual, Type: iys.SMS, Status: iys.Granted, Source: iys.SourceWeb, ConsentDate: at}
}

func ret(recipient string, at time.Time) iys.Consent {
	c := onay(recipient, at)
	c.Status = iys.Rejected
	return c
}

func key(recipient string) iystest.Key {
	return iystest.Key{IYSCode: code, BrandCode: brand, Recipient: recipient, RecipientType: iys.Individual, Type: iys.SMS}
}

func phone(i int) string { return fmt.Sprintf("+90532%07d", i) }

func TestTokenIsCached(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := e.client.ConsentStatus(ctx, code, brand, phone(i), iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.fake.TokenRequests(""); got != 1 {
		t.Errorf("token grants = %d, want 1 for 20 requests", got)
	}
	if got := e.fake.APIRequests(); got != 20 {
		t.Errorf("API requests = %d, want 20", got)
	}
}

func TestOneTokenFetchUnderConcurrency(t *testing.T) {
	// The token endpoint is slow, so that every goroutine arrives while the
	// first fetch is under way.
	e := newEnv(t, []iystest.Option{iystest.WithTokenDelay(50 * time.Millisecond), iystest.WithTokenTTL(time.Hour, 4*time.Hour)})
	ctx := context.Background()
	burst := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := e.client.ConsentStatus(ctx, code, brand, phone(i), iys.Individual, iys.SMS)
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	burst()
	if p, r := e.fake.TokenRequests("password"), e.fake.TokenRequests("refresh_token"); p != 1 || r != 0 {
		t.Fatalf("first burst: password grants %d, refresh grants %d; want 1, 0", p, r)
	}
	e.fake.Advance(61 * time.Minute) // access token expired, refresh token valid
	burst()
	if p, r := e.fake.TokenRequests("password"), e.fake.TokenRequests("refresh_token"); p != 1 || r != 1 {
		t.Fatalf("after expiry: password grants %d, refresh grants %d; want 1, 1", p, r)
	}
	if got := e.fake.APIRequests(); got != 100 {
		t.Errorf("API requests = %d, want 100 (no request should have met an expired token)", got)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	e := newEnv(t, []iystest.Option{iystest.WithTokenTTL(time.Hour, 4*time.Hour)}, iys.WithTokenRefreshMargin(5*time.Minute))
	ctx := context.Background()
	if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(56 * time.Minute) // inside the margin, token still valid at İYS
	if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
		t.Fatal(err)
	}
	if r := e.fake.TokenRequests("refresh_token"); r != 1 {
		t.Errorf("refresh grants = %d, want 1", r)
	}
	if got := e.fake.APIRequests(); got != 2 {
		t.Errorf("API requests = %d, want 2 (no 401 round trip)", got)
	}
}

func TestPasswordGrantWhenRefreshTokenUnusable(t *testing.T) {
	ctx := context.Background()
	t.Run("refresh token expired", func(t *testing.T) {
		e := newEnv(t, []iystest.Option{iystest.WithTokenTTL(time.Hour, 2*time.Hour)})
		if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
		e.fake.Advance(3 * time.Hour)
		if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
		if p, r, hits := e.fake.TokenRequests("password"), e.fake.TokenRequests("refresh_token"), e.fake.TokenEndpointHits(); p != 2 || r != 0 || hits != 2 {
			t.Errorf("password %d, refresh %d, token hits %d; want 2, 0, 2 (no doomed refresh attempt)", p, r, hits)
		}
	})
	t.Run("refresh token refused", func(t *testing.T) {
		e := newEnv(t, []iystest.Option{iystest.WithTokenTTL(time.Hour, 4*time.Hour)})
		if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
		e.fake.RevokeRefreshTokens()
		e.fake.Advance(90 * time.Minute)
		if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
		if p, hits := e.fake.TokenRequests("password"), e.fake.TokenEndpointHits(); p != 2 || hits != 3 {
			t.Errorf("password grants %d, token hits %d; want 2, 3 (refused refresh, then password)", p, hits)
		}
	})
}

func TestReauthenticatesOnceOn401(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
		t.Fatal(err)
	}
	e.fake.RevokeTokens() // the client still believes its token valid
	if _, err := e.client.AddConsent(ctx, code, brand, onay(phone(1), start.Add(-time.Hour))); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if r := e.fake.TokenRequests("refresh_token"); r != 1 {
		t.Errorf("refresh grants = %d, want 1", r)
	}
	if got := e.fake.APIRequests(); got != 3 {
		t.Errorf("API requests = %d, want 3 (status, 401, retried add)", got)
	}
	if _, ok := e.fake.Stored(key(phone(1))); !ok {
		t.Error("consent not stored after re-authentication")
	}

	e.fake.RejectAllTokens(true)
	before, grants := e.fake.APIRequests(), e.fake.TokenRequests("")
	_, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS)
	var ie *iys.Error
	if !errors.As(err, &ie) || ie.HTTPStatus != http.StatusUnauthorized || ie.Code != "H351" || !iys.IsAuth(err) {
		t.Fatalf("err = %v, want a 401 H351 auth error", err)
	}
	if got := e.fake.APIRequests() - before; got != 2 {
		t.Errorf("API requests = %d, want 2 (one re-authentication only)", got)
	}
	if got := e.fake.TokenRequests("") - grants; got != 1 {
		t.Errorf("token grants = %d, want 1", got)
	}
}

func TestBadCredentials(t *testing.T) {
	fake := iystest.New(t)
	c, err := iys.New(fake.URL, iys.Credentials{Username: iystest.DefaultUsername, Password: "wrong"},
		iys.WithRetryPolicy(iys.RetryPolicy{BaseDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ConsentStatus(context.Background(), code, brand, phone(1), iys.Individual, iys.SMS)
	if !iys.IsAuth(err) || iys.IsRuleViolation(err) || iys.IsTransient(err) {
		t.Fatalf("err = %v, want an auth error", err)
	}
	if fake.APIRequests() != 0 || fake.TokenEndpointHits() != 1 {
		t.Errorf("API requests %d, token hits %d; want 0, 1", fake.APIRequests(), fake.TokenEndpointHits())
	}
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	ctx := context.Background()
	t.Run("sequential", func(t *testing.T) {
		e := newEnv(t, []iystest.Option{iystest.WithRateLimit(3, time.Second)})
		for i := 0; i < 10; i++ {
			if _, err := e.client.AddConsent(ctx, code, brand, onay(phone(i), start.Add(-time.Hour))); err != nil {
				t.Fatalf("consent %d: %v", i, err)
			}
		}
		limited := e.fake.RateLimited()
		if limited == 0 {
			t.Fatal("the burst was never rate limited; the test proves nothing")
		}
		waits := e.sleeps.waits()
		if len(waits) != limited {
			t.Errorf("waited %d times for %d 429 answers", len(waits), limited)
		}
		for _, w := range waits {
			if w < time.Second {
				t.Errorf("waited %s, less than Retry-After (1 s)", w)
			}
		}
		if got := e.fake.APIRequests(); got != 10+limited {
			t.Errorf("API requests = %d, want %d", got, 10+limited)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		e := newEnv(t, []iystest.Option{iystest.WithRateLimit(4, time.Second)},
			iys.WithRetryPolicy(iys.RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxRateLimitWaits: 50}))
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := e.client.AddConsent(ctx, code, brand, onay(phone(i), start.Add(-time.Hour)))
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if e.fake.RateLimited() == 0 {
			t.Fatal("never rate limited")
		}
		for i := 0; i < 20; i++ {
			if _, ok := e.fake.Stored(key(phone(i))); !ok {
				t.Errorf("consent %d missing", i)
			}
		}
	})
	t.Run("real time", func(t *testing.T) {
		fake := iystest.New(t, iystest.WithRateLimit(1, time.Second))
		c, err := iys.New(fake.URL, fake.Credentials())
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		for i := 0; i < 2; i++ {
			if _, err := c.ConsentStatus(ctx, code, brand, phone(i), iys.Individual, iys.SMS); err != nil {
				t.Fatal(err)
			}
		}
		if fake.RateLimited() != 1 {
			t.Fatalf("429 answers = %d, want 1", fake.RateLimited())
		}
		if took := time.Since(began); took < 900*time.Millisecond {
			t.Errorf("took %s; the client did not wait for Retry-After", took)
		}
	})
	t.Run("gives up when asked to wait too long", func(t *testing.T) {
		e := newEnv(t, []iystest.Option{iystest.WithRateLimit(1, time.Minute)},
			iys.WithRetryPolicy(iys.RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxRetryAfter: 10 * time.Second}))
		if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.ConsentStatus(ctx, code, brand, phone(2), iys.Individual, iys.SMS)
		var ie *iys.Error
		if !iys.IsRateLimited(err) || !iys.IsTransient(err) || !errors.As(err, &ie) || ie.Code != "H124" || ie.RetryAfter < 50*time.Second {
			t.Fatalf("err = %v, want H124 with RetryAfter about a minute", err)
		}
		if len(e.sleeps.waits()) != 0 {
			t.Error("the client waited although Retry-After exceeded its bound")
		}
	})
}

func TestServerErrorsAreRetried(t *testing.T) {
	ctx := context.Background()
	t.Run("500 twice then success", func(t *testing.T) {
		e := newEnv(t, nil)
		e.fake.FailNext(2)
		if _, err := e.client.AddConsent(ctx, code, brand, onay(phone(1), start.Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
		if got := e.fake.APIRequests(); got != 3 {
			t.Errorf("API requests = %d, want 3", got)
		}
		waits := e.sleeps.waits()
		if len(waits) != 2 {
			t.Fatalf("waits = %v, want 2", waits)
		}
		// Backoff with equal jitter: attempt n waits between base·2ⁿ⁻¹/2 and base·2ⁿ⁻¹.
		for i, w := range waits {
			hi := 100 * time.Millisecond << i
			if w < hi/2 || w > hi {
				t.Errorf("wait %d = %s, want within [%s, %s]", i+1, w, hi/2, hi)
			}
		}
	})
	t.Run("503 once then success", func(t *testing.T) {
		e := newEnv(t, nil)
		e.fake.FailNextWith(1, http.StatusServiceUnavailable)
		if _, err := e.client.ConsentStatus(ctx, code, brand, phone(1), iys.Individual, iys.SMS); err != nil {
			t.Fatal(err)
		}
		if got := e.fake.APIRequests(); got != 2 {
			t.Errorf("API requests = %d, want 2", got)
		}
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		e := newEnv(t, nil, iys.WithRetryPolicy(iys.RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond}))
		e.fake.FailNext(10)
		_, err := e.client.AddConsent(ctx, code, brand, onay(phone(1), start.Add(-time.Hour)))
		var ie *iys.Error
		if !errors.As(err, &ie) || !iys.IsTransient(err) || iys.IsRuleViolation(err) || ie.HTTPStatus != 500 || ie.Code != "H470" || ie.Attempts != 3 {
			t.Fatalf("err = %#v, want a transient 500 H470 after 3 attempts", err)
		}
		if got := e.fake.APIRequests(); got != 3 {
			t.Errorf("API requests = %d, want 3", got)
		}
		if _, ok := e.fake.Stored(key(phone(1))); ok {
			t.Error("stored although every attempt failed")
		}
	})
	t.Run("dropped connections", func(t *testing.T) {
		e := newEnv(t, nil, iys.WithRetryPolicy(iys.RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond}))
		e.fake.DropNext(2)
		if _, err := e.client.AddConsent(ctx, code, brand, onay(phone(1), start.Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
		e.fake.DropNext(3)
		_, err := e.client.AddConsent(ctx, code, brand, onay(phone(2), start.Add(-time.Hour)))
		var ie *iys.Error
		if !errors.As(err, &ie) || !iys.IsTransient(err) || ie.HTTPStatus != 0 || errors.Unwrap(err) == nil {
			t.Fatalf("err = %v, want a transient network error", err)
		}
	})
	t.Run("context ends during backoff", func(t *testing.T) {
		fake := iystest.New(t)
		c, err := iys.New(fake.URL, fake.Credentials(), iys.WithRetryPolicy(iys.RetryPolicy{BaseDelay: 5 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		fake.FailNext(100)
		cctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		began := time.Now()
		_, err = c.ConsentStatus(cctx, code, brand, phone(1), iys.Individual, iys.SMS)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's deadline", err)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("returned after %s; the backoff ignored the context", took)
		}
	})
}

func TestRuleViolationsAreNotRetried(t *testing.T) {
	ctx := context.Background()
	const r = "+905320000001"
	tests := []struct {
		name     string
		before   []iys.Consent
		send     iys.Consent
		code     string
		status   int
		location string
	}{
		{name: "first record RET", send: ret(r, start.Add(-time.Hour)), code: "H175", status: 400},
		{name: "ONAY after ONAY", before: []iys.Consent{onay(r, start.Add(-2*time.Hour))}, send: onay(r, start.Add(-time.Hour)), code: "H174", status: 400},
		{name: "RET after RET", before: []iys.Consent{onay(r, start.Add(-3*time.Hour)), ret(r, start.Add(-2*time.Hour))}, send: ret(r, start.Add(-time.Hour)), code: "H174", status: 400},
		{name: "older than stored", before: []iys.Consent{onay(r, start.Add(-time.Hour))}, send: ret(r, start.Add(-2*time.Hour)), code: "H178", status: 400},
		{name: "same date as stored", before: []iys.Consent{onay(r, start.Add(-time.Hour))}, send: ret(r, start.Add(-time.Hour)), code: "H178", status: 400},
		{name: "future", send: onay(r, start.Add(time.Hour)), code: "H162", status: 422, location: "consentDate"},
		{name: "before 2015-05-01", send: onay(r, time.Date(2015, 4, 30, 23, 59, 0, 0, iys.Istanbul())), code: "H156", status: 422, location: "consentDate"},
		{name: "more than 3 business days old", send: onay(r, start.AddDate(0, 0, -6)), code: "H467", status: 422, location: "consentDate"},
		{name: "not E.164", send: onay("05320000001", start.Add(-time.Hour)), code: "H121", status: 422, location: "recipient"},
		{name: "HS_2015 with another date", send: func() iys.Consent {
			c := onay(r, start.Add(-time.Hour))
			c.Source = iys.Source2015
			return c
		}(), code: "H155", status: 422, location: "consentDate"},
		{name: "İYS source from a company", send: func() iys.Consent {
			c := onay(r, start.Add(-time.Hour))
			c.Source = iys.SourceIYSWeb
			return c
		}(), code: "H119", status: 422, location: "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			for _, c := range tt.before {
				if _, err := e.client.AddConsent(ctx, code, brand, c); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			before, history := e.fake.APIRequests(), len(e.fake.History(key(r)))
			_, err := e.client.AddConsent(ctx, code, brand, tt.send)
			var ie *iys.Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *iys.Error", err)
			}
			if ie.Code != tt.code || ie.HTTPStatus != tt.status {
				t.Fatalf("got %s (HTTP %d), want %s (HTTP %d): %v", ie.Code, ie.HTTPStatus, tt.code, tt.status, err)
			}
			if !iys.IsRuleViolation(err) || iys.IsTransient(err) || iys.IsRateLimited(err) {
				t.Errorf("classification wrong for %v", err)
			}
			if ie.Message == "" || ie.Attempts != 1 {
				t.Errorf("message %q, attempts %d; want İYS's message and 1 attempt", ie.Message, ie.Attempts)
			}
			if cause, ok := iys.CodeCause(tt.code); !ok || ie.Cause() != cause {
				t.Errorf("cause %q, want the table's %q", ie.Cause(), cause)
			}
			if tt.location != "" && (len(ie.Location) == 0 || ie.Location[0] != tt.location) {
				t.Errorf("location %v, want %s", ie.Location, tt.location)
			}
			if got := e.fake.APIRequests() - before; got != 1 {
				t.Errorf("sent %d times, want once (no retry of a refusal)", got)
			}
			if got := len(e.fake.History(key(r))); got != history {
				t.Errorf("history grew from %d to %d", history, got)
			}
		})
	}
}

func TestAddConsentAndStatus(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := onay(phone(7), start.Add(-30*time.Minute))
	c.RetailerCode = 11223344
	c.RetailerAccess = []int64{22233344}
	res, err := e.client.AddConsent(ctx, code, brand, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.TransactionID == "" || res.CreationDate.Sub(start).Abs() > time.Minute {
		t.Errorf("result %+v", res)
	}
	got, err := e.client.ConsentStatus(ctx, code, brand, phone(7), iys.Individual, iys.SMS)
	if err != nil || got == nil {
		t.Fatalf("status: %v, %v", got, err)
	}
	if got.Status != iys.Granted || !got.ConsentDate.Equal(c.ConsentDate.Truncate(time.Second)) ||
		got.TransactionID != res.TransactionID || !got.CreationDate.Equal(res.CreationDate) ||
		got.RetailerCode != 11223344 || len(got.RetailerAccess) != 1 {
		t.Errorf("status = %+v", got)
	}
	none, err := e.client.ConsentStatus(ctx, code, brand, phone(8), iys.Individual, iys.SMS)
	if err != nil || none != nil {
		t.Errorf("unknown recipient: %v, %v; want nil, nil", none, err)
	}
	_, err = e.client.ConsentStatus(ctx, code, "999999", phone(7), iys.Individual, iys.SMS)
	var ie *iys.Error
	if !iys.IsAuth(err) || !errors.As(err, &ie) || ie.Code != "H353" {
		t.Errorf("foreign brand: %v, want H353", err)
	}
}

// recorder keeps the bodies of the requests a client sends.
type recorder struct {
	mu     sync.Mutex
	bodies []string
	next   http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.bodies = append(r.bodies, req.URL.Path+" "+string(b))
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func TestConsentDateSentInIstanbulTime(t *testing.T) {
	rec := &recorder{next: http.DefaultTransport}
	e := newEnv(t, nil, iys.WithHTTPClient(&http.Client{Transport: rec}))
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// 2026-01-14 10:15:30.5 in Istanbul, given in New York time (UTC-5).
	given := time.Date(2026, 1, 14, 2, 15, 30, 5e8, ny)
	if _, err := e.client.AddConsent(context.Background(), code, brand, onay(phone(1), given)); err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	for _, b := range rec.bodies {
		if path, body, _ := bytes.Cut([]byte(b), []byte(" ")); string(path) == "/sps/"+code+"/brands/"+brand+"/consents" {
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sent["consentDate"] != "2026-01-14 10:15:30" {
		t.Errorf("consentDate sent = %v, want 2026-01-14 10:15:30", sent["consentDate"])
	}
	if _, has := sent["creationDate"]; has {
		t.Error("creationDate must not be sent")
	}
	stored, ok := e.fake.Stored(key(phone(1)))
	if !ok || !stored.ConsentDate.Equal(given.Truncate(time.Second)) {
		t.Errorf("stored %v, want the same instant at second precision", stored.ConsentDate)
	}
}

func TestAsyncBulk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, []iystest.Option{iystest.WithAsyncPolls(1)})
	batch := []iys.Consent{
		onay(phone(1), start.Add(-time.Hour)),
		ret(phone(2), start.Add(-time.Hour)), // first record RET: refused when processed
		onay(phone(3), start.Add(-time.Hour)),
	}
	rid, err := e.client.AddConsentsAsync(ctx, code, brand, batch)
	if err != nil || rid == "" {
		t.Fatalf("submit: %q, %v", rid, err)
	}
	first, err := e.client.RequestResult(ctx, code, brand, rid)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range first {
		if !r.Pending() {
			t.Errorf("item %d is %s before processing", r.Index, r.Status)
		}
	}
	results, err := e.client.RequestResult(ctx, code, brand, rid)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	for i, r := range results {
		if r.Index != i {
			t.Errorf("result %d has index %d", i, r.Index)
		}
		if r.SubrequestID == "" {
			t.Errorf("item %d without subrequest id", i)
		}
	}
	for _, i := range []int{0, 2} {
		if r := results[i]; r.Status != iys.ItemSuccess || r.TransactionID == "" || r.CreationDate.IsZero() || r.Err != nil {
			t.Errorf("item %d = %+v, want success", i, r)
		}
	}
	if r := results[1]; r.Status != iys.ItemFailure || r.Err == nil || r.Err.Code != "H175" || !iys.IsRuleViolation(r.Err) || r.Err.Message == "" {
		t.Errorf("item 1 = %+v, want a H175 failure", r)
	}
	if _, ok := e.fake.Stored(key(phone(1))); !ok {
		t.Error("item 0 not stored")
	}
	if _, ok := e.fake.Stored(key(phone(2))); ok {
		t.Error("item 1 stored although refused")
	}

	_, err = e.client.RequestResult(ctx, code, brand, "no-such-request")
	if !iys.IsNotFound(err) {
		t.Errorf("unknown request id: %v, want not found", err)
	}
}

func TestAsyncBulkRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, iys.WithMaxBatch(3))
	t.Run("malformed item fails the request", func(t *testing.T) {
		_, err := e.client.AddConsentsAsync(ctx, code, brand, []iys.Consent{
			onay(phone(1), start.Add(-time.Hour)), onay("905321", start.Add(-time.Hour)),
		})
		var ie *iys.Error
		if !errors.As(err, &ie) || ie.Code != "H121" || ie.Index != 1 || !iys.IsRuleViolation(err) {
			t.Fatalf("err = %v, want H121 at item 1", err)
		}
	})
	t.Run("duplicate recipient", func(t *testing.T) {
		_, err := e.client.AddConsentsAsync(ctx, code, brand, []iys.Consent{
			onay(phone(1), start.Add(-time.Hour)), ret(phone(1), start.Add(-time.Minute)),
		})
		var ie *iys.Error
		if !errors.As(err, &ie) || ie.Code != "H194" || ie.Index != 1 {
			t.Fatalf("err = %v, want H194 at item 1", err)
		}
	})
	t.Run("size bounds are checked before sending", func(t *testing.T) {
		before := e.fake.APIRequests()
		four := make([]iys.Consent, 4)
		for i := range four {
			four[i] = onay(phone(i), start.Add(-time.Hour))
		}
		for _, batch := range [][]iys.Consent{nil, four} {
			if _, err := e.client.AddConsentsAsync(ctx, code, brand, batch); !errors.Is(err, iys.ErrBatchSize) {
				t.Errorf("%d consents: err = %v, want ErrBatchSize", len(batch), err)
			}
		}
		if e.fake.APIRequests() != before {
			t.Error("a refused batch was sent")
		}
	})
	t.Run("default bound is İYS's 1000", func(t *testing.T) {
		c, err := iys.New(e.fake.URL, e.fake.Credentials())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddConsentsAsync(ctx, code, brand, make([]iys.Consent, 1001)); !errors.Is(err, iys.ErrBatchSize) {
			t.Errorf("1001 consents: err = %v, want ErrBatchSize", err)
		}
	})
}

func TestChangesPaging(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	for i := 1; i <= 3; i++ {
		if _, err := e.client.AddConsent(ctx, code, brand, onay(phone(i), start.Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	e.fake.Advance(time.Minute)
	citizen := []iys.Source{iys.SourceIYSWeb, iys.SourceIYSMobile, iys.SourceIYSSMS}
	for i, src := range citizen {
		e.fake.InjectChange(code, brand, iys.Consent{Recipient: phone(i + 1), Type: iys.SMS, Status: iys.Rejected, Source: src})
	}
	// Another brand's change must not show.
	iystest.New(t) // unrelated server, unaffected
	e.fake.InjectChange(code, "other-brand", iys.Consent{Recipient: phone(9), Type: iys.SMS, Status: iys.Rejected, Source: iys.SourceIYSWeb})

	var all []iys.Consent
	var sizes []int
	cursor := ""
	for page := 0; page < 10; page++ {
		p, err := e.client.Changes(ctx, code, brand, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p.Changes))
		all = append(all, p.Changes...)
		if len(p.Changes) == 0 {
			if p.Next != cursor {
				t.Errorf("empty page moved the cursor from %q to %q", cursor, p.Next)
			}
			break
		}
		if p.Next == cursor {
			t.Fatal("cursor did not advance")
		}
		cursor = p.Next
	}
	if fmt.Sprint(sizes) != "[2 2 2 0]" {
		t.Errorf("page sizes %v, want [2 2 2 0]", sizes)
	}
	if len(all) != 6 {
		t.Fatalf("%d changes, want 6", len(all))
	}
	for i, c := range all {
		fromIYS := i >= 3
		if c.Source.FromIYS() != fromIYS || c.TransactionID == "" || c.CreationDate.IsZero() {
			t.Errorf("change %d = %+v", i, c)
		}
	}
	if all[3].Source != iys.SourceIYSWeb || all[3].Status != iys.Rejected || all[3].Recipient != phone(1) {
		t.Errorf("first citizen change = %+v", all[3])
	}

	// Polling from the stored cursor returns only what is new.
	e.fake.InjectChange(code, brand, iys.Consent{Recipient: phone(3), Type: iys.SMS, Status: iys.Granted, Source: iys.SourceIYSCallCenter})
	p, err := e.client.Changes(ctx, code, brand, cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Source != iys.SourceIYSCallCenter || p.Next == cursor {
		t.Errorf("poll = %+v, want the one new change", p)
	}

	onlyIYS, err := iys.New(e.fake.URL, e.fake.Credentials(), iys.WithClock(e.fake.Now), iys.WithChangesSource("IYS"))
	if err != nil {
		t.Fatal(err)
	}
	p, err = onlyIYS.Changes(ctx, code, brand, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 4 {
		t.Errorf("source=IYS: %d changes, want 4", len(p.Changes))
	}
	for _, c := range p.Changes {
		if !c.Source.FromIYS() {
			t.Errorf("source=IYS returned %s", c.Source)
		}
	}
	if _, err := e.client.Changes(ctx, code, brand, "", -1); err == nil {
		t.Error("negative limit accepted")
	}
}

func TestDailyChanges(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	yesterday := start.AddDate(0, 0, -1)
	e.fake.SetNow(yesterday.Add(-2 * time.Hour)) // Tuesday 10:00
	if _, err := e.client.AddConsent(ctx, code, brand, onay(phone(1), yesterday.Add(-3*time.Hour))); err != nil {
		t.Fatal(err)
	}
	e.fake.Advance(time.Hour)
	injected := e.fake.InjectChange(code, brand, iys.Consent{Recipient: phone(1), Type: iys.SMS, Status: iys.Rejected, Source: iys.SourceIYSSMS})
	e.fake.SetNow(start)

	got, err := e.client.DailyChanges(ctx, code, brand, yesterday)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2: %+v", len(got), got)
	}
	if got[0].Status != iys.Granted || got[0].Source != iys.SourceWeb || !got[0].ConsentDate.Equal(yesterday.Add(-3*time.Hour)) {
		t.Errorf("row 1 = %+v", got[0])
	}
	if r := got[1]; r.Status != iys.Rejected || r.Source != iys.SourceIYSSMS || r.TransactionID != injected.TransactionID || !r.CreationDate.Equal(injected.CreationDate) {
		t.Errorf("row 2 = %+v, want the injected RET %+v", r, injected)
	}

	if rows, err := e.client.DailyChanges(ctx, code, brand, start.AddDate(0, 0, -2)); err != nil || len(rows) != 0 {
		t.Errorf("a quiet day: %v, %v; want no rows", rows, err)
	}
	for _, day := range []time.Time{start, start.AddDate(0, 0, -9)} {
		_, err := e.client.DailyChanges(ctx, code, brand, day)
		var ie *iys.Error
		if !errors.As(err, &ie) || ie.Code != "H501" {
			t.Errorf("%s: err = %v, want H501", day.Format("2006-01-02"), err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, base := range []string{"", "ftp://x", "api.iys.org.tr", "http://"} {
		if _, err := iys.New(base, iys.Credentials{Username: "u", Password: "p"}); err == nil {
			t.Errorf("New(%q) accepted", base)
		}
	}
	if _, err := iys.New("https://api.sandbox.iys.org.tr", iys.Credentials{}); err == nil {
		t.Error("empty credentials accepted")
	}
}
