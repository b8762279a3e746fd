package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
)

// watchStream is one WatchConsentEvents call, received in the background.
type watchStream struct {
	items  chan *izinv1.WatchConsentEventsResponse
	errc   chan error
	cancel context.CancelFunc
	last   int64 // the last sequence received
	// whole: the watch has no filter, so each event's sequence is the one
	// after the last.
	whole bool
}

// watch opens a watch with key; it is cancelled when t ends.
func (s *server) watch(t *testing.T, key string, req *izinv1.WatchConsentEventsRequest) *watchStream {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	if key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}
	stream, err := izinv1.NewConsentServiceClient(s.conn).WatchConsentEvents(ctx, req)
	if err != nil {
		cancel()
		t.Fatalf("open watch: %v", err)
	}
	w := &watchStream{items: make(chan *izinv1.WatchConsentEventsResponse), errc: make(chan error, 1), cancel: cancel,
		last: req.GetAfterSequence(), whole: req.GetBrand() == "" && req.GetRecipient() == ""}
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				w.errc <- err
				return
			}
			select {
			case w.items <- m:
			case <-ctx.Done():
				w.errc <- ctx.Err()
				return
			}
		}
	}()
	t.Cleanup(cancel)
	return w
}

// next waits, boundedly, for the next message; it checks that sequences
// never go back and, without a filter, that events come one sequence after
// another.
func (w *watchStream) next(t *testing.T) *izinv1.WatchConsentEventsResponse {
	t.Helper()
	select {
	case m := <-w.items:
		if e := m.GetEvent(); e != nil {
			if e.GetSequence() <= w.last {
				t.Fatalf("event %d after %d: a repeat or out of order", e.GetSequence(), w.last)
			}
			if w.whole && e.GetSequence() != w.last+1 {
				t.Fatalf("event %d after %d: a gap", e.GetSequence(), w.last)
			}
			w.last = e.GetSequence()
		} else if hb := m.GetHeartbeat().GetSequence(); hb < w.last {
			t.Fatalf("heartbeat at %d after event %d", hb, w.last)
		}
		return m
	case err := <-w.errc:
		t.Fatalf("the watch ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("no message within 30 s (last sequence %d)", w.last)
	}
	return nil
}

// untilHeartbeat receives the events before the next heartbeat, and the
// heartbeat's sequence.
func (w *watchStream) untilHeartbeat(t *testing.T) ([]*izinv1.ConsentEvent, int64) {
	t.Helper()
	var out []*izinv1.ConsentEvent
	for {
		m := w.next(t)
		if m.GetEvent() == nil {
			return out, m.GetHeartbeat().GetSequence()
		}
		out = append(out, m.GetEvent())
	}
}

// events receives n events, passing over heartbeats.
func (w *watchStream) events(t *testing.T, n int) []*izinv1.ConsentEvent {
	t.Helper()
	var out []*izinv1.ConsentEvent
	for len(out) < n {
		if e := w.next(t).GetEvent(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// err waits for the watch to fail and returns its status.
func (w *watchStream) err(t *testing.T) *apiError {
	t.Helper()
	select {
	case m := <-w.items:
		t.Fatalf("got %v, want an error", m)
	case err := <-w.errc:
		return fromStatus(status.Convert(err), 0)
	case <-time.After(30 * time.Second):
		t.Fatal("no error within 30 s")
	}
	return nil
}

func seqsOf(evs []*izinv1.ConsentEvent) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.GetSequence()
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// grantTo records SMS and CALL consents (two events) for recipients
// 0532 600 00 from … to-1.
func grantTo(ctx context.Context, t *testing.T, c client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		must(c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: fmt.Sprintf("0532 600 00 %02d", i),
			Types: smsAndCall}))(t)
	}
}

// listAll lists every event of the caller's tenant.
func listAll(ctx context.Context, t *testing.T, c client) []*izinv1.ConsentEvent {
	t.Helper()
	var out []*izinv1.ConsentEvent
	req := &izinv1.ListConsentEventsRequest{PageSize: 1000}
	for {
		resp := must(c.ListConsentEvents(ctx, req))(t)
		out = append(out, resp.GetEvents()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = resp.GetNextPageToken()
	}
}
