package izin_test

import (
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	izin "github.com/izinhq/izin/sdk/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// phone returns the i-th test number, in the local spelling, and its normal form.
func phone(i int) (local, normal string) {
	return fmt.Sprintf("0532%07d", i), fmt.Sprintf("+90532%07d", i)
}

func TestCheckResult(t *testing.T) {
	f := newFake()
	c := f.client(t)
	f.set("+905321234567", []izinv1.ConsentType{izin.SMS}, izinv1.ConsentStatus_CONSENT_STATUS_GRANTED)
	f.set("+905321234567", []izinv1.ConsentType{izin.Call}, izinv1.ConsentStatus_CONSENT_STATUS_REJECTED)
	res, err := c.Check(t.Context(), "0532 123 45 67")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Granted(izin.SMS) || !res.Allowed(izin.SMS) || res.Rejected(izin.SMS) {
		t.Error("SMS should be granted and allowed")
	}
	if !res.Rejected(izin.Call) || res.Granted(izin.Call) || res.Allowed(izin.Call) {
		t.Error("CALL should be rejected")
	}
	if res.Status(izin.Email) != izinv1.ConsentStatus_CONSENT_STATUS_NONE {
		t.Errorf("EMAIL %v", res.Status(izin.Email))
	}
	only, err := c.Check(t.Context(), "0532 123 45 67", izin.OnlyTypes(izin.Call), izin.ForBrand("ACME"), izin.AsMerchant())
	if err != nil {
		t.Fatal(err)
	}
	if len(only.GetResults()) != 1 || only.Result(izin.SMS) != nil || only.Status(izin.SMS) != izinv1.ConsentStatus_CONSENT_STATUS_UNSPECIFIED {
		t.Errorf("OnlyTypes(CALL) answered %v", only.GetResults())
	}
}

func TestBatchCheckChunksAndKeepsOrder(t *testing.T) {
	f := newFake()
	c := f.client(t)
	const n = 2500
	checks := make([]*izinv1.CheckConsentRequest, n)
	for i := range checks {
		local, _ := phone(i)
		if i%700 == 699 {
			local = "not a phone"
		}
		checks[i] = &izinv1.CheckConsentRequest{Recipient: local, Types: []izinv1.ConsentType{izin.SMS}}
	}
	items, err := c.BatchCheck(t.Context(), checks)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.batchSizes, []int{1000, 1000, 500}) {
		t.Errorf("batch calls %v, want [1000 1000 500]", f.batchSizes)
	}
	if len(items) != n {
		t.Fatalf("%d items, want %d", len(items), n)
	}
	for i, it := range items {
		_, normal := phone(i)
		if i%700 == 699 {
			if e, ok := izin.AsError(izin.StatusError(it.GetError())); !ok || e.Field != "recipient" || it.GetResult() != nil {
				t.Fatalf("item %d: %v, want an error naming recipient", i, it)
			}
			continue
		}
		if got := it.GetResult().GetRecipient(); got != normal || it.GetError() != nil {
			t.Fatalf("item %d is %q (error %v), want %q", i, got, it.GetError(), normal)
		}
	}
}

func TestBatchCheckEmpty(t *testing.T) {
	f := newFake()
	c := f.client(t)
	items, err := c.BatchCheck(t.Context(), nil)
	if err != nil || len(items) != 0 || len(f.batchSizes) != 0 {
		t.Errorf("items %v err %v calls %v", items, err, f.batchSizes)
	}
}

func TestBatchCheckExactMultiple(t *testing.T) {
	f := newFake()
	c := f.client(t)
	checks := make([]*izinv1.CheckConsentRequest, 2000)
	for i := range checks {
		local, _ := phone(i)
		checks[i] = &izinv1.CheckConsentRequest{Recipient: local}
	}
	if _, err := c.BatchCheck(t.Context(), checks); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.batchSizes, []int{1000, 1000}) {
		t.Errorf("batch calls %v", f.batchSizes)
	}
}

// campaign yields n checks, counting how many were taken; every 1000th
// recipient is malformed.
func campaign(n int, produced *atomic.Int64) iter.Seq[*izinv1.CheckConsentRequest] {
	return func(yield func(*izinv1.CheckConsentRequest) bool) {
		for i := range n {
			local, _ := phone(i)
			if i%1000 == 999 {
				local = "bad"
			}
			produced.Add(1)
			if !yield(&izinv1.CheckConsentRequest{Recipient: local, Types: []izinv1.ConsentType{izin.SMS}}) {
				return
			}
		}
	}
}

// settledGoroutines waits until the goroutine count is at most want.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(3 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

func TestStreamCheckHundredThousand(t *testing.T) {
	const n, window = 100_000, 1000
	f := newFake()
	c := f.client(t, izin.WithStreamWindow(window))
	if _, err := c.Check(t.Context(), "05321234567"); err != nil { // connect first
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()

	var produced atomic.Int64
	received, maxAhead, maxGoroutines := 0, int64(0), 0
	for resp, err := range c.StreamCheck(t.Context(), campaign(n, &produced)) {
		if err != nil {
			t.Fatalf("after %d answers: %v", received, err)
		}
		if id := resp.GetCorrelationId(); id != fmt.Sprint(received) {
			t.Fatalf("answer %d has correlation_id %q", received, id)
		}
		if received%1000 == 999 {
			if e, ok := izin.AsError(izin.StatusError(resp.GetError())); !ok || e.Code != codes.InvalidArgument || e.Field != "recipient" {
				t.Fatalf("answer %d: %v, want INVALID_ARGUMENT for recipient", received, resp)
			}
		} else if _, normal := phone(received); resp.GetResult().GetRecipient() != normal {
			t.Fatalf("answer %d is for %q, want %q", received, resp.GetResult().GetRecipient(), normal)
		}
		received++
		// Checks are taken from the campaign only as answers come back.
		maxAhead = max(maxAhead, produced.Load()-int64(received))
		if received%500 == 0 {
			maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
		}
	}
	if received != n {
		t.Fatalf("%d answers, want %d", received, n)
	}
	if maxAhead > window+1 {
		t.Errorf("%d checks were taken ahead of the answers; the window is %d", maxAhead, window)
	}
	if maxGoroutines > baseline+8 {
		t.Errorf("up to %d goroutines during the stream, %d before", maxGoroutines, baseline)
	}
	if got := settledGoroutines(baseline); got > baseline {
		t.Errorf("%d goroutines after the stream, %d before", got, baseline)
	}
	t.Logf("window %d: at most %d checks ahead, %d goroutines (baseline %d)", window, maxAhead, maxGoroutines, baseline)
}

func TestStreamCheckBreakStopsTheSender(t *testing.T) {
	f := newFake()
	c := f.client(t, izin.WithStreamWindow(16))
	if _, err := c.Check(t.Context(), "05321234567"); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()
	var produced atomic.Int64
	got := 0
	for _, err := range c.StreamCheck(t.Context(), campaign(1_000_000, &produced)) {
		if err != nil {
			t.Fatal(err)
		}
		if got++; got == 10 {
			break
		}
	}
	if p := produced.Load(); p > 10+16+1 {
		t.Errorf("%d checks taken after breaking at 10 with a window of 16", p)
	}
	if n := settledGoroutines(baseline); n > baseline {
		t.Errorf("%d goroutines after break, %d before", n, baseline)
	}
}

func TestStreamCheckStreamError(t *testing.T) {
	f := newFake()
	f.streamFailAfter = 500
	c := f.client(t)
	var produced atomic.Int64
	answers, errs := 0, 0
	for _, err := range c.StreamCheck(t.Context(), campaign(10_000, &produced)) {
		if err != nil {
			errs++
			if izin.Code(err) != codes.Unavailable {
				t.Errorf("err %v, want UNAVAILABLE", err)
			}
			continue
		}
		answers++
	}
	if answers != 500 || errs != 1 {
		t.Errorf("%d answers and %d errors, want 500 and 1", answers, errs)
	}
}

func TestStreamCheckServerEndsEarly(t *testing.T) {
	f := newFake()
	f.streamEndAfter = 300
	c := f.client(t, izin.WithStreamWindow(64))
	var produced atomic.Int64
	answers := 0
	var last error
	for _, err := range c.StreamCheck(t.Context(), campaign(10_000, &produced)) {
		if err != nil {
			last = err
			continue
		}
		answers++
	}
	if answers != 300 || last == nil || !strings.Contains(last.Error(), "before all checks were sent") {
		t.Errorf("%d answers, error %v; want 300 and an early-end error", answers, last)
	}
}

func TestStreamCheckSendError(t *testing.T) {
	f := newFake()
	c := f.client(t)
	// Invalid UTF-8 cannot be marshalled: the sender fails, not the server.
	seq := slices.Values([]*izinv1.CheckConsentRequest{{Recipient: "05321234567"}, {Recipient: "\xff"}, {Recipient: "05321234568"}})
	var errs []error
	for _, err := range c.StreamCheck(t.Context(), seq) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "UTF-8") {
		t.Errorf("errors %v, want one marshalling error", errs)
	}
}

func TestStreamCheckEmptyAndAuthError(t *testing.T) {
	f := newFake()
	c := f.client(t)
	for resp, err := range c.StreamCheck(t.Context(), slices.Values([]*izinv1.CheckConsentRequest(nil))) {
		t.Errorf("empty campaign yielded %v, %v", resp, err)
	}
	f.fail = func(m string, _ int) error { return status.Error(codes.Unauthenticated, "missing API key") }
	var produced atomic.Int64
	for resp, err := range c.StreamCheck(t.Context(), campaign(10, &produced)) {
		if !izin.IsUnauthenticated(err) || resp != nil {
			t.Errorf("yielded %v, %v; want UNAUTHENTICATED", resp, err)
		}
	}
}

func TestStreamCheckPanicInCampaign(t *testing.T) {
	f := newFake()
	c := f.client(t)
	seq := func(yield func(*izinv1.CheckConsentRequest) bool) {
		yield(&izinv1.CheckConsentRequest{Recipient: "05321234567"})
		panic("campaign broke")
	}
	defer func() {
		if p := recover(); p != "campaign broke" {
			t.Errorf("recovered %v, want the campaign's panic", p)
		}
	}()
	for range c.StreamCheck(t.Context(), seq) {
	}
	t.Error("no panic")
}
