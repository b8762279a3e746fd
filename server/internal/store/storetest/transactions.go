package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testTransactions(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"ErrorRollsBack", testRollbackOnError},
		{"PanicRollsBack", testRollbackOnPanic},
		{"UncommittedIsInvisible", testUncommittedInvisible},
		{"ConcurrentChainWriters", testConcurrentChainWriters},
	})
}

// writeAll makes one write of every kind a transaction offers.
func writeAll(t *testing.T, tx store.Tx, ten store.Tenant, b store.Brand, v, nv *store.Verification) error {
	ctx := t.Context()
	head, err := tx.LockChain(ctx, ten.ID)
	if err != nil {
		return err
	}
	e := event(ten, b, "+905321112233", head.Seq+1)
	if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{e}); err != nil {
		return err
	}
	if err := tx.SetChainHead(ctx, store.ChainHead{TenantID: ten.ID, Seq: e.Seq, Hash: e.Hash}); err != nil {
		return err
	}
	st := consentState(ten, b, "+905321112233", store.Individual, store.ConsentSMS, store.StatusGranted)
	if err := tx.PutConsentStates(ctx, []*store.ConsentState{&st}); err != nil {
		return err
	}
	if err := tx.InsertVerification(ctx, nv); err != nil {
		return err
	}
	locked, err := tx.LockVerification(ctx, ten.ID, v.ID)
	if err != nil {
		return err
	}
	locked.Status = store.VerificationVerified
	if err := tx.UpdateVerification(ctx, locked); err != nil {
		return err
	}
	if err := tx.InsertMessage(ctx, message(t, ten, b, "+905321112233", base)); err != nil {
		return err
	}
	return tx.PutIdempotency(ctx, &store.Idempotency{TenantID: ten.ID, Operation: "op", Key: "k",
		RequestHash: "h", Response: []byte("r"), CreatedAt: base})
}

// checkUntouched fails unless the tenant is as setup left it.
func checkUntouched(t *testing.T, s store.Store, ten store.Tenant, b store.Brand, v, nv *store.Verification) {
	t.Helper()
	ctx := t.Context()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		head, err := tx.LockChain(ctx, ten.ID)
		same(t, "chain head", head, store.ChainHead{TenantID: ten.ID})
		return err
	})
	if es, err := s.ListConsentEvents(ctx, store.EventFilter{TenantID: ten.ID, Limit: 10}); err != nil || len(es) != 0 {
		t.Errorf("events = %d, %v; want none", len(es), err)
	}
	if st, err := s.ConsentStates(ctx, ten.ID, b.ID, "+905321112233", store.Individual); err != nil || len(st) != 0 {
		t.Errorf("consent states = %d, %v; want none", len(st), err)
	}
	if got, err := s.GetVerification(ctx, ten.ID, v.ID); err != nil {
		t.Error(err)
	} else {
		same(t, "verification", *got, *v)
	}
	_, err := s.GetVerification(ctx, ten.ID, nv.ID)
	wantErr(t, "verification inserted in the transaction", err, store.ErrNotFound)
	if ms, err := s.ListMessages(ctx, store.MessageFilter{TenantID: ten.ID, Limit: 10}); err != nil || len(ms) != 0 {
		t.Errorf("messages = %d, %v; want none", len(ms), err)
	}
	_, err = s.GetIdempotency(ctx, ten.ID, "op", "k")
	wantErr(t, "idempotency key", err, store.ErrNotFound)
}

// setupTx makes a tenant with a verification v, and a verification nv to
// insert later.
func setupTx(t *testing.T, s store.Store) (ten store.Tenant, b store.Brand, v, nv *store.Verification) {
	t.Helper()
	ten, b = newTenant(t, s)
	src := newSource(t, s, ten.ID)
	v = verification(ten, b, &src.ID, base)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertVerification(t.Context(), v) })
	return ten, b, v, verification(ten, b, nil, base)
}

func testRollbackOnError(t *testing.T, s store.Store) {
	ten, b, v, nv := setupTx(t, s)
	boom := errors.New("boom")
	err := s.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
		if err := writeAll(t, tx, ten, b, v, nv); err != nil {
			t.Fatalf("writes: %v", err)
		}
		return fmt.Errorf("late failure: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Errorf("InTx = %v, want fn's error", err)
	}
	checkUntouched(t, s, ten, b, v, nv)

	// The same writes then commit: the rollback left no locks or debris.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return writeAll(t, tx, ten, b, v, nv) })
}

func testRollbackOnPanic(t *testing.T, s store.Store) {
	ten, b, v, nv := setupTx(t, s)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want fn's panic", r)
			}
		}()
		_ = s.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error {
			if err := writeAll(t, tx, ten, b, v, nv); err != nil {
				t.Errorf("writes: %v", err)
			}
			panic("boom")
		})
	}()
	checkUntouched(t, s, ten, b, v, nv)
}

// Writes in progress are not seen outside their transaction.
func testUncommittedInvisible(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		st := consentState(ten, b, "+905321112233", store.Individual, store.ConsentSMS, store.StatusGranted)
		if err := tx.PutConsentStates(ctx, []*store.ConsentState{&st}); err != nil {
			return err
		}
		if got, err := s.ConsentStates(ctx, ten.ID, b.ID, st.Recipient, store.Individual); err != nil || len(got) != 0 {
			t.Errorf("store.ConsentStates during the transaction = %d, %v; want none", len(got), err)
		}
		return nil
	})
	if got, err := s.ConsentStates(ctx, ten.ID, b.ID, "+905321112233", store.Individual); err != nil || len(got) != 1 {
		t.Errorf("ConsentStates after commit = %d, %v; want 1", len(got), err)
	}
}

// Concurrent consent writers each lock the chain, append one event and
// move the head; none is lost and the chain has no gap or fork.
func testConcurrentChainWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	const workers, each = 8, 10

	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		// Half the workers of a second tenant run alongside: their locks
		// must not block or disturb the first tenant's.
		for _, tb := range []struct {
			ten store.Tenant
			b   store.Brand
		}{{ten, b}, {other, otherBrand}} {
			if tb.ten.ID == other.ID && w%2 == 1 {
				continue
			}
			wg.Go(func() {
				for range each {
					err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
						head, err := tx.LockChain(ctx, tb.ten.ID)
						if err != nil {
							return err
						}
						e := event(tb.ten, tb.b, "+905321112233", head.Seq+1)
						e.ID = uuid.NewString()
						if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{e}); err != nil {
							return err
						}
						st := consentState(tb.ten, tb.b, "+905321112233", store.Individual, store.ConsentSMS, store.StatusGranted)
						st.EventID = e.ID
						if err := tx.PutConsentStates(ctx, []*store.ConsentState{&st}); err != nil {
							return err
						}
						return tx.SetChainHead(ctx, store.ChainHead{TenantID: tb.ten.ID, Seq: e.Seq, Hash: e.Hash})
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("InTx: %v", err)
	}

	for _, c := range []struct {
		ten  store.Tenant
		want int64
	}{{ten, workers * each}, {other, workers / 2 * each}} {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			head, err := tx.LockChain(ctx, c.ten.ID)
			same(t, "chain head", head, store.ChainHead{TenantID: c.ten.ID, Seq: c.want, Hash: fmt.Sprintf("hash-%d", c.want)})
			return err
		})
		var seq int64
		err := s.WalkConsentEvents(ctx, c.ten.ID, func(e *store.ConsentEvent) error {
			seq++
			if e.Seq != seq || e.PrevHash != fmt.Sprintf("hash-%d", seq-1) {
				return fmt.Errorf("event %d: seq %d, prev %s", seq, e.Seq, e.PrevHash)
			}
			return nil
		})
		if err != nil || seq != c.want {
			t.Errorf("chain of %d events (want %d): %v", seq, c.want, err)
		}
	}
}
