package evidence

import (
	"context"
	"errors"
	"testing"

	"github.com/izinhq/izin/server/internal/store"
)

// chainStore serves a fixed head and event list; only the methods an audit
// calls are implemented (the embedded Tx is nil).
type chainStore struct {
	store.Tx
	head    store.ChainHead
	events  []*store.ConsentEvent
	walkErr error
}

func (s *chainStore) InTx(ctx context.Context, fn func(context.Context, store.Tx) error) error {
	return fn(ctx, s)
}

func (s *chainStore) LockChain(context.Context, string) (store.ChainHead, error) { return s.head, nil }

func (s *chainStore) WalkConsentEvents(_ context.Context, _ string, fn func(*store.ConsentEvent) error) error {
	for _, e := range s.events {
		if err := fn(e); err != nil {
			return err
		}
	}
	return s.walkErr
}

func TestVerifyTenant(t *testing.T) {
	storeDown := errors.New("store down")
	tests := []struct {
		name      string
		setup     func(s *chainStore)
		wantCount int64
		wantBreak int64 // seq of the break; 0 is none
		wantErr   error
	}{
		{name: "intact", setup: func(*chainStore) {}, wantCount: 5},
		{name: "empty", setup: func(s *chainStore) { s.events, s.head = nil, store.ChainHead{TenantID: "t"} }},
		{name: "tampered row", setup: func(s *chainStore) { s.events[2].Recipient = "+905329999999" }, wantCount: 2, wantBreak: 3},
		{name: "removed row", setup: func(s *chainStore) {
			s.events = append(s.events[:1:1], s.events[2:]...)
		}, wantCount: 1, wantBreak: 3},
		{name: "broken link", setup: func(s *chainStore) {
			s.events[3].PrevHash = s.events[1].Hash
			s.events[3].Hash = Hash(s.events[3])
		}, wantCount: 3, wantBreak: 4},
		{name: "head ahead of the events", setup: func(s *chainStore) { s.events = s.events[:4] }, wantCount: 4, wantBreak: 5},
		{name: "events appended during the walk", setup: func(s *chainStore) {
			more, _ := chain(7)
			s.events = more // the same first five events and two more
		}, wantCount: 5},
		{name: "store error", setup: func(s *chainStore) { s.walkErr = storeDown }, wantCount: 5, wantErr: storeDown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, head := chain(5)
			s := &chainStore{head: head, events: evs}
			tc.setup(s)
			n, err := VerifyTenant(t.Context(), s, "t")
			if n != tc.wantCount {
				t.Errorf("checked %d events, want %d", n, tc.wantCount)
			}
			var b *Break
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.wantBreak != 0:
				if !errors.As(err, &b) || b.Seq != tc.wantBreak {
					t.Errorf("err = %v, want a break at seq %d", err, tc.wantBreak)
				}
			case err != nil:
				t.Errorf("err = %v, want none", err)
			}
		})
	}
}
