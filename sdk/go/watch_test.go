package izin_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	izin "github.com/izinhq/izin/sdk/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func eventMsg(seq int64) *izinv1.WatchConsentEventsResponse {
	return &izinv1.WatchConsentEventsResponse{Item: &izinv1.WatchConsentEventsResponse_Event{
		Event: &izinv1.ConsentEvent{Sequence: seq}}}
}

func heartbeatMsg(seq int64) *izinv1.WatchConsentEventsResponse {
	return &izinv1.WatchConsentEventsResponse{Item: &izinv1.WatchConsentEventsResponse_Heartbeat{
		Heartbeat: &izinv1.WatchHeartbeat{Sequence: seq}}}
}

// seqOf is a message's sequence, negative for a heartbeat.
func seqOf(m *izinv1.WatchConsentEventsResponse) int64 {
	if e := m.GetEvent(); e != nil {
		return e.GetSequence()
	}
	return -m.GetHeartbeat().GetSequence()
}

// TestWatchResumes: each reconnect asks for what follows the last message
// yielded, an event's or a heartbeat's, with the request's filters; a
// failed reconnect is tried again; a final error ends the iteration.
func TestWatchResumes(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var asked []int64
	down := status.Error(codes.Unavailable, "restarting")
	f.watch = func(_ context.Context, n int, req *izinv1.WatchConsentEventsRequest, send func(*izinv1.WatchConsentEventsResponse) error) error {
		mu.Lock()
		asked = append(asked, req.GetAfterSequence())
		mu.Unlock()
		if req.GetBrand() != "ACME" {
			return status.Error(codes.InvalidArgument, "the brand was lost")
		}
		var script []*izinv1.WatchConsentEventsResponse
		var end error
		switch n {
		case 1:
			script, end = []*izinv1.WatchConsentEventsResponse{eventMsg(1), eventMsg(2), eventMsg(3)}, down
		case 2, 3:
			end = down // reconnects that fail
		case 4:
			script, end = []*izinv1.WatchConsentEventsResponse{heartbeatMsg(5)}, down
		default:
			script, end = []*izinv1.WatchConsentEventsResponse{eventMsg(6)}, status.Error(codes.PermissionDenied, "key revoked")
		}
		for _, m := range script {
			if err := send(m); err != nil {
				return err
			}
		}
		return end
	}
	c := f.client(t)
	req := &izinv1.WatchConsentEventsRequest{Brand: "ACME"}
	var got []int64
	var final error
	for m, err := range c.Watch(t.Context(), req) {
		if err != nil {
			final = err
			continue
		}
		got = append(got, seqOf(m))
	}
	if want := []int64{1, 2, 3, -5, 6}; !slices.Equal(got, want) {
		t.Errorf("yielded %v, want %v (heartbeats negative)", got, want)
	}
	if !izin.IsPermissionDenied(final) {
		t.Errorf("ended with %v, want PERMISSION_DENIED", final)
	}
	if want := []int64{0, 3, 3, 3, 5}; !slices.Equal(asked, want) {
		t.Errorf("the calls asked for events after %v, want %v", asked, want)
	}
	if req.GetAfterSequence() != 0 {
		t.Errorf("the caller's request was changed: after_sequence %d", req.GetAfterSequence())
	}
}

// TestWatchStops: breaking out of the loop cancels the stream; a context
// that ends is yielded as the error.
func TestWatchStops(t *testing.T) {
	f := newFake()
	cancelled := make(chan struct{})
	f.watch = func(ctx context.Context, _ int, _ *izinv1.WatchConsentEventsRequest, send func(*izinv1.WatchConsentEventsResponse) error) error {
		for seq := int64(1); ; seq++ {
			if err := send(eventMsg(seq)); err != nil {
				break
			}
		}
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}
	c := f.client(t)
	n := 0
	for _, err := range c.Watch(t.Context(), &izinv1.WatchConsentEventsRequest{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	<-cancelled // the server saw the stream end (the test's deadline bounds the wait)

	f2 := newFake()
	f2.watch = func(ctx context.Context, _ int, _ *izinv1.WatchConsentEventsRequest, send func(*izinv1.WatchConsentEventsResponse) error) error {
		if err := send(heartbeatMsg(0)); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var final error
	for m, err := range f2.client(t).Watch(ctx, &izinv1.WatchConsentEventsRequest{}) {
		if err != nil {
			final = err
			continue
		}
		if m.GetHeartbeat() != nil {
			cancel()
		}
	}
	if !errors.Is(final, context.Canceled) {
		t.Errorf("a cancelled watch ended with %v, want context.Canceled", final)
	}
}
