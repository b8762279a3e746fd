package readiness_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/readiness"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// prober answers err, or blocks until unblock is closed when block is set.
type prober struct {
	err     error
	block   chan struct{}
	calls   atomic.Int32
	honours bool // return at the deadline rather than ignoring it
}

func (p *prober) Probe(ctx context.Context) error {
	p.calls.Add(1)
	if p.block != nil {
		if p.honours {
			select {
			case <-p.block:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			<-p.block
		}
	}
	return p.err
}

const (
	verification = "izin.v1.VerificationService"
	consent      = "izin.v1.ConsentService"
)

var scopes = map[string][]string{
	consent:      {readiness.Database},
	verification: {readiness.Database, "outbox"},
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		probe   *prober
		workers func(h *readiness.Heartbeats, c *clock) // registers and beats
		service string
		ready   bool
		failing map[string]string // check name → a word its reason holds
	}{
		{
			name:  "fresh",
			probe: &prober{},
			workers: func(h *readiness.Heartbeats, c *clock) {
				beat := h.Register("outbox", 10*time.Second)
				c.Add(8 * time.Second)
				beat()
				c.Add(8 * time.Second)
			},
			ready: true,
		},
		{
			name:  "a worker that has not beaten yet, within its allowance",
			probe: &prober{},
			workers: func(h *readiness.Heartbeats, c *clock) {
				h.Register("outbox", 10*time.Second)
				c.Add(10 * time.Second)
			},
			ready: true,
		},
		{
			name:    "the database refuses writes",
			probe:   &prober{err: errors.New("pq: password authentication failed for user izin at db.internal")},
			ready:   false,
			failing: map[string]string{readiness.Database: "server log"},
		},
		{
			name:    "the database refuses writes, seen by a service",
			probe:   &prober{err: errors.New("read-only")},
			service: consent,
			ready:   false,
			failing: map[string]string{readiness.Database: "write transaction"},
		},
		{
			name:    "the probe blocks past its deadline",
			probe:   &prober{block: make(chan struct{}), honours: true},
			ready:   false,
			failing: map[string]string{readiness.Database: "within"},
		},
		{
			name:  "a stale worker",
			probe: &prober{},
			workers: func(h *readiness.Heartbeats, c *clock) {
				beat := h.Register("outbox", 10*time.Second)
				beat()
				c.Add(11 * time.Second)
			},
			ready:   false,
			failing: map[string]string{"outbox": "outbox worker last completed a loop 11s ago"},
		},
		{
			name:  "a worker that never completed a loop",
			probe: &prober{},
			workers: func(h *readiness.Heartbeats, c *clock) {
				h.Register("iys", time.Minute)
				c.Add(2 * time.Minute)
			},
			ready:   false,
			failing: map[string]string{"iys": "iys worker has not completed a loop since it started 2m0s ago"},
		},
		{
			name:  "a stale worker, seen by a service that needs it",
			probe: &prober{},
			workers: func(h *readiness.Heartbeats, c *clock) {
				h.Register("outbox", 10*time.Second)
				c.Add(time.Minute)
			},
			service: verification,
			ready:   false,
			failing: map[string]string{"outbox": "outbox"},
		},
		{
			name:  "a stale worker, seen by a service that does not need it",
			probe: &prober{},
			workers: func(h *readiness.Heartbeats, c *clock) {
				h.Register("outbox", 10*time.Second)
				c.Add(time.Minute)
			},
			service: consent,
			ready:   true,
		},
		{
			name:    "a worker that is off does not count",
			probe:   &prober{},
			service: verification, // needs "outbox", which never registered
			ready:   true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.probe.block != nil {
				t.Cleanup(func() { close(tc.probe.block) })
			}
			clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
			hb := readiness.NewHeartbeats(clk.Now)
			if tc.workers != nil {
				tc.workers(hb, clk)
			}
			c := readiness.New(tc.probe, hb, readiness.Options{Scopes: scopes, Now: clk.Now, Timeout: 20 * time.Millisecond})
			rep, ok := c.Check(context.Background(), tc.service)
			if !ok {
				t.Fatalf("Check(%q): unknown service", tc.service)
			}
			if rep.Ready() != tc.ready {
				t.Errorf("Ready = %v, want %v; report %+v", rep.Ready(), tc.ready, rep)
			}
			if rep.Service != tc.service {
				t.Errorf("Service = %q, want %q", rep.Service, tc.service)
			}
			got := map[string]string{}
			for _, r := range rep.Checks {
				if r.Status != readiness.StatusOK {
					got[r.Name] = r.Reason
				}
			}
			for name, word := range tc.failing {
				if !strings.Contains(got[name], word) {
					t.Errorf("check %q reason %q, want it failing with %q", name, got[name], word)
				}
			}
			if len(got) != len(tc.failing) {
				t.Errorf("failing checks %v, want only %v", got, tc.failing)
			}
			if strings.Contains(got[readiness.Database], "db.internal") {
				t.Errorf("the public reason leaks the database error: %q", got[readiness.Database])
			}
		})
	}
}

// A probe that ignores its deadline is abandoned, and no second probe
// starts while it hangs: a dead database cannot pile up goroutines.
func TestCheckHungProbe(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	p := &prober{block: make(chan struct{})}
	c := readiness.New(p, nil, readiness.Options{Now: clk.Now, Timeout: 20 * time.Millisecond})
	first, _ := c.Check(context.Background(), "")
	clk.Add(3 * time.Second)
	second, _ := c.Check(context.Background(), "")
	if first.Ready() || second.Ready() {
		t.Fatalf("a hung probe answered ready: %+v, %+v", first, second)
	}
	if r := second.Checks[0].Reason; !strings.Contains(r, "previous database probe") || !strings.Contains(r, "3s ago") {
		t.Errorf("second reason %q, want the hung probe named", r)
	}
	if n := p.calls.Load(); n != 1 {
		t.Errorf("%d probes started, want 1 while the first hangs", n)
	}
	close(p.block)
	// Once it has returned, a later check probes again and recovers.
	var rep readiness.Report
	for range 10000 {
		clk.Add(2 * time.Second)
		if rep, _ = c.Check(context.Background(), ""); rep.Ready() {
			break
		}
		runtime.Gosched()
	}
	if !rep.Ready() || p.calls.Load() != 2 {
		t.Errorf("after the probe returned: %+v after %d probes, want ready after 2", rep, p.calls.Load())
	}
}

// Answers are reused for CacheFor: a probe storm costs one probe a second.
func TestCheckCaches(t *testing.T) {
	clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	p := &prober{}
	c := readiness.New(p, nil, readiness.Options{Scopes: scopes, Now: clk.Now, CacheFor: time.Second})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Check(context.Background(), consent) }()
	}
	wg.Wait()
	c.Check(context.Background(), "")
	if n := p.calls.Load(); n != 1 {
		t.Errorf("51 checks within a second ran %d probes, want 1", n)
	}
	clk.Add(time.Second)
	c.Check(context.Background(), "")
	if n := p.calls.Load(); n != 2 {
		t.Errorf("after the cache expired: %d probes, want 2", n)
	}
}

func TestCheckUnknownService(t *testing.T) {
	c := readiness.New(&prober{}, nil, readiness.Options{Scopes: scopes})
	if _, ok := c.Check(context.Background(), "izin.v1.NoSuchService"); ok {
		t.Error("an unknown service was answered")
	}
	if got, want := c.Services(), []string{"", consent, verification}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Services = %q, want %q", got, want)
	}
}

func TestServeHTTP(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		probeErr    error
		code        int
		status      string
	}{
		{name: "ready", code: http.StatusOK, status: readiness.Serving},
		{name: "ready service", query: "?service=" + consent, code: http.StatusOK, status: readiness.Serving},
		{name: "not ready", probeErr: errors.New("down"), code: http.StatusServiceUnavailable, status: readiness.NotServing},
		{name: "unknown service", query: "?service=nope", code: http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := readiness.New(&prober{err: tc.probeErr}, nil, readiness.Options{Scopes: scopes})
			w := httptest.NewRecorder()
			c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz"+tc.query, nil))
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d; body %s", w.Code, tc.code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.status == "" {
				return
			}
			var rep readiness.Report
			if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Status != tc.status || len(rep.Checks) == 0 || rep.Checks[0].Name != readiness.Database {
				t.Errorf("body %s, want status %s with the database check", w.Body, tc.status)
			}
		})
	}
}
