package consent

import (
	"context"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// Notifier tells this process's watches that a tenant's events were
// committed. It is wired to the store's commit hook (OnConsentCommit);
// events committed by other processes are found by the watches' poll.
type Notifier struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// NewNotifier returns a notifier without watches.
func NewNotifier() *Notifier {
	return &Notifier{subs: map[string]map[chan struct{}]struct{}{}}
}

// Notify wakes every watch of the tenant. It never blocks: a watch that is
// busy has one wake-up pending, which is all it needs, since it reads
// everything after its position when it wakes.
func (n *Notifier) Notify(tenantID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs[tenantID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// subscribe returns a channel that Notify wakes for the tenant, and the
// function that ends the subscription.
func (n *Notifier) subscribe(tenantID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.subs[tenantID] == nil {
		n.subs[tenantID] = map[chan struct{}]struct{}{}
	}
	n.subs[tenantID][ch] = struct{}{}
	return ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		delete(n.subs[tenantID], ch)
		if len(n.subs[tenantID]) == 0 {
			delete(n.subs, tenantID)
		}
	}
}

// EventLog is what a watch reads: the tenant's events after a position,
// in order.
type EventLog interface {
	ConsentEventsAfter(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]store.ConsentEvent, error)
}

// Watcher streams a tenant's consent events from a position, then live.
type Watcher struct {
	log   EventLog
	dir   Directory
	notes *Notifier
	now   func() time.Time
	// Page is how many events one read takes; a watch holds at most one
	// page, whatever the speed of its client.
	Page int
	// Poll is how often a watch reads without being woken, to see the
	// events other processes commit.
	Poll time.Duration
	// Heartbeat is how long a live watch stays silent before it says so.
	Heartbeat time.Duration

	stop     chan struct{}
	stopOnce sync.Once
}

// NewWatcher returns a watcher reading log, woken by n.
func NewWatcher(log EventLog, d Directory, n *Notifier, now func() time.Time) *Watcher {
	if now == nil {
		now = time.Now
	}
	return &Watcher{log: log, dir: d, notes: n, now: now, Page: 500, Poll: time.Second,
		Heartbeat: 30 * time.Second, stop: make(chan struct{})}
}

// Close ends every watch, running or to come, as unavailable: a server
// that stops does not wait for streams that never end by themselves, and
// their clients resume elsewhere from the last sequence they received.
func (w *Watcher) Close() { w.stopOnce.Do(func() { close(w.stop) }) }

// WatchRequest selects the events of a watch.
type WatchRequest struct {
	// AfterSeq is the last sequence the client received; 0 for all.
	AfterSeq  int64
	Brand     string // a brand code; "" for every brand
	Recipient string // any spelling; "" for every recipient
}

// WatchItem is one message of a watch: an event, or a heartbeat (Event
// nil) saying that every event up to Seq has been sent or passed over.
type WatchItem struct {
	Event *store.ConsentEvent
	Seq   int64
	Time  time.Time
}

// Watch calls send for every event of the caller's tenant after
// req.AfterSeq that the filters keep, in sequence order, then for each new
// one once it is committed, until ctx ends (nil) or send fails. It sends a
// heartbeat when it has caught up and after every Heartbeat of silence.
// send runs on this goroutine and nothing more is read while it blocks, so
// a slow client holds up only its own watch, and one page of it.
func (w *Watcher) Watch(ctx context.Context, p auth.Principal, req WatchRequest, send func(WatchItem) error) error {
	if req.AfterSeq < 0 {
		return errs.Invalid("after_sequence", "after_sequence %d: want 0 or the sequence of an event", req.AfterSeq)
	}
	keep, err := w.filter(ctx, p.TenantID, req)
	if err != nil {
		return err
	}
	// Subscribed before the first read: a commit between a read and the
	// wait that follows it still wakes the watch.
	woken, unsubscribe := w.notes.subscribe(p.TenantID)
	defer unsubscribe()
	size := max(w.Page, 1) // a page of 0 would read nothing, forever
	timer := time.NewTimer(w.Poll)
	defer timer.Stop()
	pos, caughtUp, lastSent := req.AfterSeq, false, w.now()
	for {
		for full := true; full; {
			if w.ended(ctx) {
				return w.endErr(ctx)
			}
			page, err := w.log.ConsentEventsAfter(ctx, p.TenantID, pos, size)
			if err != nil {
				if w.ended(ctx) {
					return w.endErr(ctx)
				}
				return errs.Internal(err, "read consent events")
			}
			for i := range page {
				e := &page[i]
				pos = e.Seq
				if !keep(e) {
					continue
				}
				if err := send(WatchItem{Event: e, Seq: e.Seq, Time: w.now()}); err != nil {
					return w.sendErr(ctx, err)
				}
				lastSent = w.now()
			}
			full = len(page) == size
		}
		if now := w.now(); !caughtUp || now.Sub(lastSent) >= w.Heartbeat {
			if err := send(WatchItem{Seq: pos, Time: now}); err != nil {
				return w.sendErr(ctx, err)
			}
			caughtUp, lastSent = true, now
		}
		// Reset discards a fire not received (Go 1.23 timers).
		timer.Reset(max(min(w.Poll, w.Heartbeat-w.now().Sub(lastSent)), 0))
		select {
		case <-ctx.Done():
		case <-w.stop:
		case <-woken:
		case <-timer.C:
		}
	}
}

// filter resolves the request's brand and recipient to a test of events.
func (w *Watcher) filter(ctx context.Context, tenantID string, req WatchRequest) (func(*store.ConsentEvent) bool, error) {
	brandID, recip := "", ""
	if req.Brand != "" {
		b, err := w.dir.Brand(ctx, tenantID, req.Brand)
		if err != nil {
			return nil, err
		}
		brandID = b.ID
	}
	if req.Recipient != "" {
		r, err := parseRecipient(req.Recipient)
		if err != nil {
			return nil, err
		}
		recip = r.Value
	}
	return func(e *store.ConsentEvent) bool {
		return (brandID == "" || e.BrandID == brandID) && (recip == "" || e.Recipient == recip)
	}, nil
}

func (w *Watcher) ended(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-w.stop:
		return true
	default:
		return false
	}
}

// endErr is a watch's end: nil when its client went away, unavailable when
// the server stops.
func (w *Watcher) endErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return &errs.Error{Kind: errs.KindUnavailable,
		Message: "the server is stopping; watch again from the last sequence received"}
}

func (w *Watcher) sendErr(ctx context.Context, err error) error {
	if w.ended(ctx) {
		return w.endErr(ctx)
	}
	return err
}
