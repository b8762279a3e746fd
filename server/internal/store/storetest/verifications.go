package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testVerifications(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"InsertLockUpdate", testVerificationLifecycle},
		{"UpdateOfUnknown", testUpdateUnknownVerification},
		{"LockSerialises", testLockVerificationSerialises},
		{"CountRecent", testCountRecentVerifications},
	})
}

func testVerificationLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	src := newSource(t, s, ten.ID)
	v := verification(ten, b, &src.ID, base)
	v.APIKeyID = ptr(uuid.NewString())
	sibling := verification(ten, b, &src.ID, base) // must stay as it is
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertVerification(ctx, sibling); err != nil {
			return err
		}
		return tx.InsertVerification(ctx, v)
	})

	got, err := s.GetVerification(ctx, ten.ID, v.ID)
	if err != nil {
		t.Fatalf("GetVerification: %v", err)
	}
	same(t, "inserted verification", *got, *v)

	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.InsertVerification(ctx, v) })
	wantErr(t, "InsertVerification(same id)", err, store.ErrConflict)

	// The flow: lock, change, write back, in one transaction. Every column
	// the flow changes is written, including the update time it chose.
	want := *v
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		locked, err := tx.LockVerification(ctx, ten.ID, v.ID)
		if err != nil {
			return err
		}
		same(t, "locked verification", *locked, *v)
		locked.Status = store.VerificationVerified
		locked.Attempts = 2
		locked.Sends = 3
		locked.CodeHash = ""
		locked.LastSentAt = at(time.Minute)
		locked.ExpireAt = at(4 * time.Minute)
		locked.VerifiedAt = ptr(at(2 * time.Minute))
		locked.UpdatedAt = at(2 * time.Minute)
		want = *locked
		return tx.UpdateVerification(ctx, locked)
	})
	got, err = s.GetVerification(ctx, ten.ID, v.ID)
	if err != nil {
		t.Fatalf("GetVerification: %v", err)
	}
	same(t, "updated verification", *got, want)
	got, err = s.GetVerification(ctx, ten.ID, sibling.ID)
	if err != nil {
		t.Fatalf("GetVerification: %v", err)
	}
	same(t, "the tenant's other verification", *got, *sibling)

	_, err = s.GetVerification(ctx, ten.ID, uuid.NewString())
	wantErr(t, "GetVerification(unknown)", err, store.ErrNotFound)
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.LockVerification(ctx, ten.ID, uuid.NewString())
		return err
	})
	wantErr(t, "LockVerification(unknown)", err, store.ErrNotFound)
}

// UpdateVerification changes an existing verification of the tenant; it
// never creates one, nor touches another tenant's.
func testUpdateUnknownVerification(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)

	ghost := verification(ten, b, nil, base)
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.UpdateVerification(ctx, ghost) })
	wantErr(t, "UpdateVerification(unknown)", err, store.ErrNotFound)
	_, err = s.GetVerification(ctx, ten.ID, ghost.ID)
	wantErr(t, "GetVerification after UpdateVerification(unknown)", err, store.ErrNotFound)

	v := verification(other, otherBrand, nil, base)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertVerification(ctx, v) })
	forged := *v
	forged.TenantID, forged.BrandID = ten.ID, b.ID
	forged.Status = store.VerificationCancelled
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.UpdateVerification(ctx, &forged) })
	wantErr(t, "UpdateVerification(another tenant's)", err, store.ErrNotFound)
	got, err := s.GetVerification(ctx, other.ID, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "verification after another tenant's update", *got, *v)
}

// Concurrent flows that lock a verification and count an attempt never
// lose one.
func testLockVerificationSerialises(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	v := verification(ten, b, nil, base)
	v.MaxAttempts = 1000
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertVerification(ctx, v) })

	const workers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					cur, err := tx.LockVerification(ctx, ten.ID, v.ID)
					if err != nil {
						return err
					}
					cur.Attempts++
					return tx.UpdateVerification(ctx, cur)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("InTx: %v", err)
	}
	got, err := s.GetVerification(ctx, ten.ID, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != workers*each {
		t.Errorf("attempts = %d after %d locked increments: updates were lost", got.Attempts, workers*each)
	}
}

func testCountRecentVerifications(t *testing.T, s store.Store) {
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	src, src2 := newSource(t, s, ten.ID), newSource(t, s, ten.ID)

	var vs []*store.Verification
	for _, ago := range []time.Duration{0, 59 * time.Second, time.Minute, 61 * time.Second, time.Hour} {
		vs = append(vs, verification(ten, b, &src.ID, base.Add(-ago)))
	}
	vs = append(vs,
		verification(ten, b, &src2.ID, base),               // another source
		verification(ten, b, nil, base),                    // no source
		verification(other, otherBrand, &src.ID, base),     // another tenant, same source id
		verification(ten, b, &src.ID, base.Add(time.Hour)), // in the future: counted, since is a lower bound
	)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, v := range vs {
			if err := tx.InsertVerification(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})

	for _, tc := range []struct {
		name   string
		source string
		since  time.Time
		want   int64
	}{
		{"last minute, bound included", src.ID, base.Add(-time.Minute), 4},
		{"last 59s", src.ID, base.Add(-59 * time.Second), 3},
		{"last day", src.ID, base.Add(-24 * time.Hour), 6},
		{"since now", src.ID, base, 2},
		{"other source", src2.ID, base.Add(-time.Minute), 1},
		{"unknown source", uuid.NewString(), base.Add(-time.Hour), 0},
	} {
		n, err := countStarts(t, s, ten.ID, tc.source, tc.since)
		if err != nil || n != tc.want {
			t.Errorf("%s: CountRecentVerifications = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
}
