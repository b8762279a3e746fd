package readiness

import (
	"fmt"
	"sync"
	"time"
)

// Heartbeats records when each running background worker last completed a
// loop. A worker that is not started is not registered and does not count.
type Heartbeats struct {
	now     func() time.Time
	mu      sync.Mutex
	order   []string
	workers map[string]*worker
}

type worker struct {
	maxAge  time.Duration
	started time.Time
	last    time.Time // zero until the first beat
}

// NewHeartbeats returns an empty tracker; now is its clock (nil: time.Now).
func NewHeartbeats(now func() time.Time) *Heartbeats {
	if now == nil {
		now = time.Now
	}
	return &Heartbeats{now: now, workers: map[string]*worker{}}
}

// Register starts watching the worker called name, which must complete a
// loop at least every maxAge, counted from now. It returns the function the
// worker calls when it completes one. Registering a name again restarts its
// watch.
func (h *Heartbeats) Register(name string, maxAge time.Duration) (beat func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.workers[name]; !ok {
		h.order = append(h.order, name)
	}
	w := &worker{maxAge: maxAge, started: h.now()}
	h.workers[name] = w
	return func() {
		at := h.now()
		h.mu.Lock()
		w.last = at
		h.mu.Unlock()
	}
}

// results judges every registered worker at now, in registration order.
func (h *Heartbeats) results(now time.Time) []Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Result, 0, len(h.order))
	for _, name := range h.order {
		w := h.workers[name]
		r := Result{Name: name, Status: StatusOK}
		switch {
		case w.last.IsZero() && now.Sub(w.started) > w.maxAge:
			r.Status, r.Reason = StatusFailing, fmt.Sprintf("the %s worker has not completed a loop since it started %s ago (allowed %s)",
				name, round(now.Sub(w.started)), round(w.maxAge))
		case !w.last.IsZero() && now.Sub(w.last) > w.maxAge:
			r.Status, r.Reason = StatusFailing, fmt.Sprintf("the %s worker last completed a loop %s ago (allowed %s)",
				name, round(now.Sub(w.last)), round(w.maxAge))
		}
		out = append(out, r)
	}
	return out
}

func round(d time.Duration) time.Duration { return d.Round(time.Second) }
