package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/izinhq/izin/server/internal/store"
)

func testConsentEventsAfter(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	empty, _ := newTenant(t, s)
	events := insertEvents(t, s, ten, 25, func(i int, e *store.ConsentEvent) {
		e.BrandID, e.BrandCode, e.Recipient = b.ID, b.Code, "+905321112233"
	})
	insertEvents(t, s, other, 5, func(i int, e *store.ConsentEvent) {
		e.BrandID, e.BrandCode, e.Recipient = otherBrand.ID, otherBrand.Code, "+905321112233"
	})
	seqRange := func(from, to int64) []int64 {
		var out []int64
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		tenantID string
		after    int64
		limit    int
		want     []int64
	}{
		{"from the beginning", ten.ID, 0, 100, seqRange(1, 25)},
		{"a page", ten.ID, 10, 5, seqRange(11, 15)},
		{"the last page, short", ten.ID, 20, 10, seqRange(21, 25)},
		{"after the last", ten.ID, 25, 10, nil},
		{"other tenant", other.ID, 0, 100, seqRange(1, 5)},
		{"tenant without events", empty.ID, 0, 100, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ConsentEventsAfter(ctx, tc.tenantID, tc.after, tc.limit)
			if err != nil {
				t.Fatalf("ConsentEventsAfter: %v", err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
				if e.TenantID != tc.tenantID {
					t.Errorf("event %d of tenant %s", e.Seq, e.TenantID)
				}
			}
			if !slices.Equal(seqs, tc.want) {
				t.Errorf("seqs = %v, want %v", seqs, tc.want)
			}
		})
	}
	got, err := s.ConsentEventsAfter(ctx, ten.ID, 0, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("ConsentEventsAfter(0, 1) = %d events, %v", len(got), err)
	}
	same(t, "first event", got[0], events[0])
}

// testConsentCommits pins when OnConsentCommit's function runs: after the
// commit of a transaction that appended events (which are then readable),
// once per tenant, and never for a rollback or a transaction without
// events.
func testConsentCommits(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, ab := newTenant(t, s)
	b, bb := newTenant(t, s)
	var mu sync.Mutex
	var calls []string
	visible := map[string]int{}
	s.OnConsentCommit(func(tenantID string) {
		// Runs after the commit: another connection sees the events.
		evs, err := s.ConsentEventsAfter(context.Background(), tenantID, 0, 100)
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, tenantID)
		if err == nil {
			visible[tenantID] = len(evs)
		}
	})
	appendTo := func(ctx context.Context, tx store.Tx, ten store.Tenant, br store.Brand, n int) error {
		head, err := tx.LockChain(ctx, ten.ID)
		if err != nil {
			return err
		}
		var evs []*store.ConsentEvent
		for i := range n {
			evs = append(evs, event(ten, br, "+905321112233", head.Seq+int64(i)+1))
		}
		if err := tx.InsertConsentEvents(ctx, evs); err != nil {
			return err
		}
		return tx.SetChainHead(ctx, store.ChainHead{TenantID: ten.ID, Seq: head.Seq + int64(n)})
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		fn        func(ctx context.Context, tx store.Tx) error
		wantErr   error
		wantCalls []string
	}{
		{"events of one tenant, in two inserts", func(ctx context.Context, tx store.Tx) error {
			if err := appendTo(ctx, tx, a, ab, 2); err != nil {
				return err
			}
			return appendTo(ctx, tx, a, ab, 1)
		}, nil, []string{a.ID}},
		{"rolled back", func(ctx context.Context, tx store.Tx) error {
			if err := appendTo(ctx, tx, b, bb, 1); err != nil {
				return err
			}
			return boom
		}, boom, nil},
		{"no events", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.LockChain(ctx, b.ID)
			return err
		}, nil, nil},
		{"two tenants", func(ctx context.Context, tx store.Tx) error {
			if err := appendTo(ctx, tx, b, bb, 1); err != nil {
				return err
			}
			return appendTo(ctx, tx, a, ab, 1)
		}, nil, []string{b.ID, a.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			calls = nil
			mu.Unlock()
			if err := s.InTx(ctx, tc.fn); !errors.Is(err, tc.wantErr) {
				t.Fatalf("InTx: %v, want %v", err, tc.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(calls, tc.wantCalls) {
				t.Errorf("told of tenants %v, want %v", calls, tc.wantCalls)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if visible[a.ID] != 4 || visible[b.ID] != 1 {
		t.Errorf("events readable when told: %d of a, %d of b; want 4 and 1", visible[a.ID], visible[b.ID])
	}
}
