package izin

import (
	"context"
	"errors"
	"io"
	"iter"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"google.golang.org/protobuf/proto"
)

// Watch follows the tenant's consent events over WatchConsentEvents: those
// after req.AfterSequence in order, then each new one as the server commits
// it. It yields events and heartbeats (a heartbeat's sequence is how far a
// filtered watch has read); store the sequence of the last one you handled
// and start the next Watch after it.
//
// When the stream breaks (UNAVAILABLE: a server restart, a network
// failure; or a rate limit with a retry delay), Watch reconnects after the
// retry policy's backoff (WithRetry) from the last sequence it yielded, so
// the events come without a gap or a repeat. It keeps reconnecting while
// the failures are of that kind, however many, and the backoff starts over
// once a message arrives. Another error (a bad key, an unknown brand) is
// yielded once and ends the iteration; so is ctx's error when ctx ends.
// Breaking out of the loop cancels the stream.
func (c *Client) Watch(ctx context.Context, req *izinv1.WatchConsentEventsRequest) iter.Seq2[*izinv1.WatchConsentEventsResponse, error] {
	return func(yield func(*izinv1.WatchConsentEventsResponse, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		req := proto.CloneOf(req) // its cursor moves with what is yielded
		for failures := 1; ; failures++ {
			more, err := c.watchOnce(ctx, req, func(m *izinv1.WatchConsentEventsResponse) bool {
				failures = 1
				return yield(m, nil)
			})
			if !more {
				return
			}
			if ctx.Err() != nil {
				yield(nil, ctx.Err())
				return
			}
			wait, ok := c.cfg.retry.wait(failures, err)
			if errors.Is(err, io.EOF) { // a proxy ended the stream; izin never does
				wait, ok = c.cfg.retry.backoff(failures), true
			}
			if !ok {
				yield(nil, toError(err))
				return
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				yield(nil, ctx.Err())
				return
			case <-t.C:
			}
		}
	}
}

// watchOnce runs one stream, moving req's cursor past each message it
// yields. It returns more=false when yield asked to stop, else the
// stream's error.
func (c *Client) watchOnce(ctx context.Context, req *izinv1.WatchConsentEventsRequest,
	yield func(*izinv1.WatchConsentEventsResponse) bool) (more bool, err error) {
	stream, err := c.consent.WatchConsentEvents(ctx, req)
	if err != nil {
		return true, err
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return true, err
		}
		if e := m.GetEvent(); e != nil {
			req.AfterSequence = e.GetSequence()
		} else {
			req.AfterSequence = max(req.AfterSequence, m.GetHeartbeat().GetSequence())
		}
		if !yield(m) {
			return false, nil
		}
	}
}
