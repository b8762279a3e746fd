package outbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

// failingStore cannot claim.
type failingStore struct{ Store }

func (failingStore) ClaimMessages(context.Context, time.Time, time.Time, int) ([]store.Message, error) {
	return nil, errors.New("database is gone")
}

// The worker beats after each claim and after each send, never after a
// claim that failed.
func TestHeartbeat(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		messages int
		failing  bool
		want     int
	}{
		{name: "nothing queued", want: 1},
		{name: "two messages", messages: 2, want: 3},
		{name: "claim fails", failing: true, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for range tc.messages {
				f.queue(t, false)
			}
			w := newWorker(f, sms.NewSandbox(0), &clock{t: time.Now().Add(time.Second)})
			if tc.failing {
				w = NewWorker(failingStore{}, StaticRouter{sms.NewSandbox(0)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			}
			beats := 0
			w.Heartbeat = func() { beats++ }
			_, _ = w.RunOnce(ctx)
			if beats != tc.want {
				t.Errorf("%d beats, want %d", beats, tc.want)
			}
		})
	}
}
