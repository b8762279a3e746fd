// Package readiness tells whether this izin should be sent traffic: the
// database takes a write transaction within a short deadline and every
// running background worker keeps completing its loop. One Checker answers
// for /readyz and for the gRPC health service; it caches its answer briefly
// and never runs two database probes at once, so a storm of probes cannot
// load the database.
package readiness

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Check names.
const (
	// Database is the database probe's check.
	Database = "database"
)

// Result statuses.
const (
	StatusOK      = "ok"
	StatusFailing = "failing"
)

// Report statuses, the names of the gRPC health service's.
const (
	Serving    = "SERVING"
	NotServing = "NOT_SERVING"
)

// Prober is what readiness needs of the database.
type Prober interface {
	// Probe fails unless the database takes writes now.
	Probe(ctx context.Context) error
}

// Result is one check's outcome.
type Result struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Report is the outcome of every check a service needs.
type Report struct {
	Service   string    `json:"service,omitempty"`
	Status    string    `json:"status"`
	Checks    []Result  `json:"checks"`
	CheckedAt time.Time `json:"checked_at"`
}

// Ready tells whether the report's service should take traffic.
func (r Report) Ready() bool { return r.Status == Serving }

// Options tune a Checker; zero fields take the defaults.
type Options struct {
	// Scopes names, per service, the checks it needs; the whole server ("")
	// needs every check. A check that does not run (a worker that is off)
	// is not needed.
	Scopes map[string][]string
	// Timeout bounds the database probe. Default 2 s.
	Timeout time.Duration
	// CacheFor is how long an answer is reused. Default 1 s.
	CacheFor time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Log receives changes of a check's status. Default: discarded.
	Log *slog.Logger
}

// Checker runs the checks.
type Checker struct {
	db   Prober
	hb   *Heartbeats
	opts Options

	mu         sync.Mutex
	last       *Report       // every check, for ""
	running    chan struct{} // closed when the run in flight ends
	probing    bool          // a probe has not returned (it may outlive its run)
	probeSince time.Time
}

// New returns a checker of db and of the workers in hb (nil: none).
func New(db Prober, hb *Heartbeats, opts Options) *Checker {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.CacheFor <= 0 {
		opts.CacheFor = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if hb == nil {
		hb = NewHeartbeats(opts.Now)
	}
	return &Checker{db: db, hb: hb, opts: opts}
}

// Services lists the services the checker answers for, "" first.
func (c *Checker) Services() []string {
	out := []string{""}
	for s := range c.opts.Scopes {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Check reports on service ("" for the whole server); ok is false for a
// service the checker does not know.
func (c *Checker) Check(ctx context.Context, service string) (r Report, ok bool) {
	need, ok := c.opts.Scopes[service]
	if !ok && service != "" {
		return Report{}, false
	}
	all := c.all(ctx)
	r = Report{Service: service, Status: Serving, CheckedAt: all.CheckedAt}
	for _, res := range all.Checks {
		if service != "" && !slices.Contains(need, res.Name) {
			continue
		}
		r.Checks = append(r.Checks, res)
		if res.Status != StatusOK {
			r.Status = NotServing
		}
	}
	return r, true
}

// all is every check's result: the cached one if it is fresh, else that of
// the run in flight, starting one if none is.
func (c *Checker) all(ctx context.Context) Report {
	c.mu.Lock()
	if c.last != nil && c.opts.Now().Sub(c.last.CheckedAt) < c.opts.CacheFor {
		r := *c.last
		c.mu.Unlock()
		return r
	}
	if c.running == nil {
		c.running = make(chan struct{})
		go c.run(c.running)
	}
	done := c.running
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return Report{Status: NotServing, CheckedAt: c.opts.Now(),
			Checks: []Result{{Name: Database, Status: StatusFailing, Reason: "the readiness check was cancelled"}}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.last
}

// run runs every check once, detached from any caller, and publishes the
// report.
func (c *Checker) run(done chan struct{}) {
	db, dbErr := c.probe()
	checks := append([]Result{db}, c.hb.results(c.opts.Now())...)
	r := &Report{Status: Serving, Checks: checks, CheckedAt: c.opts.Now()}
	for _, res := range checks {
		if res.Status != StatusOK {
			r.Status = NotServing
		}
	}
	c.mu.Lock()
	prev := c.last
	c.last, c.running = r, nil
	c.mu.Unlock()
	c.logChanges(prev, r, dbErr)
	close(done)
}

// probe runs the database probe, giving up on it after the timeout. A probe
// that ignores its deadline is left to finish; no second one starts until
// it has. The error, for the log, is the probe's own.
func (c *Checker) probe() (Result, error) {
	fail := func(reason string, err error) (Result, error) {
		return Result{Name: Database, Status: StatusFailing, Reason: reason}, err
	}
	c.mu.Lock()
	if c.probing {
		since := c.probeSince
		c.mu.Unlock()
		return fail("the previous database probe, started "+round(c.opts.Now().Sub(since)).String()+" ago, has not returned", nil)
	}
	c.probing, c.probeSince = true, c.opts.Now()
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	errc := make(chan error, 1)
	go func() {
		defer cancel()
		err := c.db.Probe(ctx)
		c.mu.Lock()
		c.probing = false
		c.mu.Unlock()
		errc <- err
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		select {
		case err = <-errc: // it returned as the deadline passed
		default:
			err = ctx.Err()
		}
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fail("the database did not take a write transaction within "+c.opts.Timeout.String(), err)
	}
	if err != nil {
		// The error may name hosts and users; /readyz is public, the log is not.
		return fail("the database did not take a write transaction; the server log has the error", err)
	}
	return Result{Name: Database, Status: StatusOK}, nil
}

// logChanges logs each check whose status changed since prev, so that a
// long outage is one line, not one per probe.
func (c *Checker) logChanges(prev, cur *Report, dbErr error) {
	was := map[string]string{}
	if prev != nil {
		for _, r := range prev.Checks {
			was[r.Name] = r.Status
		}
	}
	for _, r := range cur.Checks {
		before, seen := was[r.Name]
		switch {
		case r.Status != StatusOK && before != r.Status:
			attrs := []any{"check", r.Name, "reason", r.Reason}
			if r.Name == Database && dbErr != nil {
				attrs = append(attrs, "err", dbErr)
			}
			c.opts.Log.Warn("readiness: check failing", attrs...)
		case r.Status == StatusOK && seen && before != StatusOK:
			c.opts.Log.Info("readiness: check recovered", "check", r.Name)
		}
	}
}

// ServeHTTP answers /readyz: the report as JSON, 200 when ready and 503
// when not. ?service= narrows it to one gRPC service's checks.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	rep, ok := c.Check(r.Context(), r.URL.Query().Get("service"))
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "unknown service", "service": r.URL.Query().Get("service")})
		return
	}
	if !rep.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}
