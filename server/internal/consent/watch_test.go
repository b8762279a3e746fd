package consent_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// memLog is an in-memory event log of one tenant that counts its reads.
type memLog struct {
	mu     sync.Mutex
	tenant string
	events []store.ConsentEvent
	reads  int
}

func (l *memLog) ConsentEventsAfter(_ context.Context, tenantID string, after int64, limit int) ([]store.ConsentEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	var out []store.ConsentEvent
	for _, e := range l.events {
		if e.TenantID == tenantID && e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// add appends events of the given brands (one each), recipients cycling.
func (l *memLog) add(brands ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range brands {
		seq := int64(len(l.events) + 1)
		l.events = append(l.events, store.ConsentEvent{TenantID: l.tenant, Seq: seq, BrandID: b,
			Recipient: fmt.Sprintf("+90532000000%d", seq%2)})
	}
}

func (l *memLog) readCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads
}

// brands is a Directory of two brands, ACME (id b1) and OTHER (id b2).
type brands struct{}

func (brands) Tenant(context.Context, string) (*store.Tenant, error) { return &store.Tenant{}, nil }
func (brands) BrandByID(context.Context, string, string) (*store.Brand, error) {
	return nil, errs.NotFound("no")
}
func (brands) Brand(_ context.Context, _, code string) (*store.Brand, error) {
	switch code {
	case "ACME":
		return &store.Brand{ID: "b1", Code: code}, nil
	case "OTHER":
		return &store.Brand{ID: "b2", Code: code}, nil
	}
	return nil, errs.NotFound("brand %q not found", code)
}

var watcher = auth.Principal{TenantID: "t1", Scope: store.ScopeCheck}

// watching is a watch running in the background.
type watching struct {
	items  chan consent.WatchItem
	done   chan error
	cancel context.CancelFunc
}

func startWatch(t *testing.T, w *consent.Watcher, req consent.WatchRequest) *watching {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	wt := &watching{items: make(chan consent.WatchItem), done: make(chan error, 1), cancel: cancel}
	go func() {
		wt.done <- w.Watch(ctx, watcher, req, func(it consent.WatchItem) error {
			select {
			case wt.items <- it:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-wt.done; err != nil {
			t.Logf("the watch ended with %v", err)
		}
	})
	return wt
}

// next waits (boundedly) for the watch's next item.
func (wt *watching) next(t *testing.T) consent.WatchItem {
	t.Helper()
	select {
	case it := <-wt.items:
		return it
	case err := <-wt.done:
		t.Fatalf("the watch ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no item within 10 s")
	}
	return consent.WatchItem{}
}

// untilHeartbeat returns the sequences of the events before the next
// heartbeat, and the heartbeat's.
func (wt *watching) untilHeartbeat(t *testing.T) (events []int64, heartbeat int64) {
	t.Helper()
	for {
		it := wt.next(t)
		if it.Event == nil {
			return events, it.Seq
		}
		if it.Seq != it.Event.Seq {
			t.Errorf("item of event %d has sequence %d", it.Event.Seq, it.Seq)
		}
		events = append(events, it.Event.Seq)
	}
}

func newWatcher(log *memLog) (*consent.Watcher, *consent.Notifier) {
	n := consent.NewNotifier()
	w := consent.NewWatcher(log, brands{}, n, nil)
	w.Page, w.Poll = 2, time.Hour // tests that want the poll set it
	return w, n
}

func TestWatchFromCursor(t *testing.T) {
	log := &memLog{tenant: "t1"}
	log.add("b1", "b2", "b1", "b1", "b2", "b1", "b2")
	log.events = append(log.events, store.ConsentEvent{TenantID: "t2", Seq: 1, BrandID: "x"})
	for _, tc := range []struct {
		name       string
		req        consent.WatchRequest
		want       []int64
		wantBeatAt int64
	}{
		{"from the beginning", consent.WatchRequest{}, []int64{1, 2, 3, 4, 5, 6, 7}, 7},
		{"after a cursor", consent.WatchRequest{AfterSeq: 4}, []int64{5, 6, 7}, 7},
		{"after the last", consent.WatchRequest{AfterSeq: 7}, nil, 7},
		{"after more than there is", consent.WatchRequest{AfterSeq: 99}, nil, 99},
		{"one brand", consent.WatchRequest{Brand: "OTHER"}, []int64{2, 5, 7}, 7},
		{"one brand, passing over the last", consent.WatchRequest{Brand: "ACME", AfterSeq: 2}, []int64{3, 4, 6}, 7},
		{"one recipient, any spelling", consent.WatchRequest{Recipient: "0532 000 00 01"}, []int64{1, 3, 5, 7}, 7},
		{"brand and recipient", consent.WatchRequest{Brand: "ACME", Recipient: "+905320000000"}, []int64{4, 6}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := newWatcher(log)
			got, beat := startWatch(t, w, tc.req).untilHeartbeat(t)
			if !slices.Equal(got, tc.want) || beat != tc.wantBeatAt {
				t.Errorf("events %v, then a heartbeat at %d; want %v and %d", got, beat, tc.want, tc.wantBeatAt)
			}
		})
	}
}

// TestWatchLive: once caught up, a watch sends each new event when the
// notifier wakes it, or, for events of other processes, at its poll.
func TestWatchLive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		notify bool
		poll   time.Duration
	}{
		{"woken by the notifier", true, time.Hour},
		{"found by the poll", false, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &memLog{tenant: "t1"}
			log.add("b1")
			w, n := newWatcher(log)
			w.Poll = tc.poll
			wt := startWatch(t, w, consent.WatchRequest{})
			if got, beat := wt.untilHeartbeat(t); !slices.Equal(got, []int64{1}) || beat != 1 {
				t.Fatalf("backlog %v, heartbeat %d", got, beat)
			}
			for round := range 3 {
				log.add("b1", "b2", "b1") // more than a page
				if tc.notify {
					n.Notify("t2") // another tenant's commit wakes nobody here
					n.Notify("t1")
				}
				for i := range int64(3) {
					want := int64(round*3+2) + i
					if it := wt.next(t); it.Event == nil || it.Event.Seq != want {
						t.Fatalf("round %d: got %+v, want event %d", round, it, want)
					}
				}
			}
		})
	}
}

// TestWatchHeartbeats: a silent live watch says so every Heartbeat.
func TestWatchHeartbeats(t *testing.T) {
	log := &memLog{tenant: "t1"}
	log.add("b1", "b2")
	w, _ := newWatcher(log)
	w.Heartbeat = 20 * time.Millisecond
	wt := startWatch(t, w, consent.WatchRequest{Brand: "ACME"})
	if got, beat := wt.untilHeartbeat(t); !slices.Equal(got, []int64{1}) || beat != 2 {
		t.Fatalf("backlog %v, heartbeat %d; want [1] and 2", got, beat)
	}
	first := time.Now()
	for range 2 {
		if it := wt.next(t); it.Event != nil || it.Seq != 2 {
			t.Fatalf("got %+v, want a heartbeat at 2", it)
		}
	}
	if d := time.Since(first); d < 2*w.Heartbeat {
		t.Errorf("two heartbeats within %v; want one per %v", d, w.Heartbeat)
	}
}

// TestWatchHoldsOnePage: while the client does not take what is sent, the
// watch reads nothing more.
func TestWatchHoldsOnePage(t *testing.T) {
	log := &memLog{tenant: "t1"}
	for range 100 {
		log.add("b1")
	}
	w, _ := newWatcher(log)
	w.Page = 10
	wt := startWatch(t, w, consent.WatchRequest{})
	first := wt.next(t) // the watch now blocks sending the second event
	if first.Event == nil || first.Event.Seq != 1 {
		t.Fatalf("first item %+v", first)
	}
	if r := log.readCount(); r != 1 {
		t.Fatalf("%d reads while the client holds the first event; want 1", r)
	}
	got, beat := wt.untilHeartbeat(t)
	if len(got) != 99 || got[0] != 2 || got[98] != 100 || beat != 100 {
		t.Fatalf("then %d events (%v…), heartbeat %d", len(got), got[:min(3, len(got))], beat)
	}
	if r := log.readCount(); r != 11 {
		t.Errorf("%d reads for 100 events in pages of 10; want 11 (the last one empty)", r)
	}
}

// TestWatchEnds: a request the rules refuse ends before the first read; a
// client that goes away ends the watch cleanly; a server that stops ends
// it as unavailable.
func TestWatchEnds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		req       consent.WatchRequest
		wantKind  errs.Kind
		wantField string
	}{
		{"negative cursor", consent.WatchRequest{AfterSeq: -1}, errs.KindInvalid, "after_sequence"},
		{"bad recipient", consent.WatchRequest{Recipient: "12ab"}, errs.KindInvalid, "recipient"},
		{"unknown brand", consent.WatchRequest{Brand: "NOPE"}, errs.KindNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &memLog{tenant: "t1"}
			w, _ := newWatcher(log)
			err := w.Watch(t.Context(), watcher, tc.req, func(consent.WatchItem) error {
				t.Error("sent an item")
				return nil
			})
			e, ok := errs.As(err)
			if !ok || e.Kind != tc.wantKind || e.Field != tc.wantField || log.readCount() != 0 {
				t.Errorf("err %v after %d reads; want kind %v on field %q before any read", err, log.readCount(), tc.wantKind, tc.wantField)
			}
		})
	}

	t.Run("client cancels", func(t *testing.T) {
		w, _ := newWatcher(&memLog{tenant: "t1"})
		wt := startWatch(t, w, consent.WatchRequest{})
		wt.untilHeartbeat(t)
		wt.cancel()
		if err := <-wt.done; err != nil {
			t.Errorf("a cancelled watch returned %v, want nil", err)
		}
		wt.done <- nil // for the cleanup
	})
	t.Run("server stops", func(t *testing.T) {
		w, _ := newWatcher(&memLog{tenant: "t1"})
		wt := startWatch(t, w, consent.WatchRequest{})
		wt.untilHeartbeat(t)
		w.Close()
		err := <-wt.done
		if e, ok := errs.As(err); !ok || e.Kind != errs.KindUnavailable {
			t.Errorf("a watch of a stopping server returned %v, want unavailable", err)
		}
		wt.done <- nil
		err = w.Watch(t.Context(), watcher, consent.WatchRequest{}, func(consent.WatchItem) error { return nil })
		if e, ok := errs.As(err); !ok || e.Kind != errs.KindUnavailable {
			t.Errorf("a watch started after Close returned %v, want unavailable", err)
		}
	})
	t.Run("send fails", func(t *testing.T) {
		log := &memLog{tenant: "t1"}
		log.add("b1")
		w, _ := newWatcher(log)
		broken := errors.New("broken pipe")
		if err := w.Watch(t.Context(), watcher, consent.WatchRequest{}, func(consent.WatchItem) error { return broken }); !errors.Is(err, broken) {
			t.Errorf("got %v, want the send's error", err)
		}
	})
}
