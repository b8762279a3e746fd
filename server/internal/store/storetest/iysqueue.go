package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

// The İYS queue's heads: one per consent with open uploads, its oldest.

func testIYSQueue(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"RefusalHandsOn", testIYSRefusalHandsOn},
		{"SkippedNeverClaimedNorBlocks", testIYSSkipped},
		{"BacklogBehindHeads", testIYSBacklogBehindHeads},
		{"QueueWhileFinishing", testIYSQueueWhileFinishing},
	})
}

// checkHeads fails t unless every consent of the tenant with open uploads
// has exactly one head, its oldest open upload, and no closed upload is one.
func checkHeads(t *testing.T, s store.Store, tenantID string) {
	t.Helper()
	type key struct {
		recipient string
		rtype     store.RecipientType
		typ       store.ConsentType
	}
	var all []store.IYSUpload
	for page := (store.IYSUploadFilter{TenantID: tenantID, Limit: 1000}); ; {
		got, err := s.ListIYSUploads(t.Context(), page)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
		if len(got) < page.Limit {
			break
		}
		page.AfterTime, page.AfterEventID = got[len(got)-1].ConsentTime, got[len(got)-1].EventID
	}
	open := map[key][]store.IYSUpload{}
	for _, u := range all {
		if u.State == store.IYSPending || u.State == store.IYSSubmitted {
			k := key{u.Recipient, u.RecipientType, u.Type}
			open[k] = append(open[k], u)
		} else if u.Head {
			t.Errorf("closed upload %s (state %d) is a head", u.EventID, u.State)
		}
	}
	for k, ups := range open {
		slices.SortFunc(ups, func(a, b store.IYSUpload) int {
			if c := a.ConsentTime.Compare(b.ConsentTime); c != 0 {
				return c
			}
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return compareStrings(a.EventID, b.EventID)
		})
		for i, u := range ups {
			if u.Head != (i == 0) {
				t.Errorf("consent %v: open upload %d of %d (%s) has head=%t", k, i+1, len(ups), u.EventID, u.Head)
			}
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// A refusal closes the head as an acceptance does: the next change goes.
func testIYSRefusalHandsOn(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	onay := upload(ten, b, "+905320000001", store.ConsentSMS, at(-2*time.Hour))
	ret := upload(ten, b, "+905320000001", store.ConsentSMS, at(-time.Hour))
	ret.Status = store.StatusRejected
	insertUploads(t, s, onay)
	insertUploads(t, s, ret) // queued later, in a transaction of its own
	checkHeads(t, s, ten.ID)
	got, _ := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 10)
	if ids := eventIDs(got); len(ids) != 1 || ids[0] != onay.EventID {
		t.Fatalf("claim = %v, want only the ONAY", ids)
	}
	got[0].State, got[0].ErrorCode, got[0].UpdatedAt = store.IYSRefused, "H178", base
	if n, err := s.FinishIYSUploads(ctx, got, store.IYSPending, ""); err != nil || n != 1 {
		t.Fatalf("FinishIYSUploads(refused) = %d, %v", n, err)
	}
	checkHeads(t, s, ten.ID)
	got, _ = s.ClaimIYSUploads(ctx, ten.ID, b.ID, base.Add(2*time.Minute), base.Add(3*time.Minute), 10)
	if ids := eventIDs(got); len(ids) != 1 || ids[0] != ret.EventID {
		t.Errorf("claim after the refusal = %v, want the RET", ids)
	}
}

// A skipped upload (İYS holds it already) is never claimed and does not
// hold back a later change of the same consent.
func testIYSSkipped(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	held := upload(ten, b, "+905320000001", store.ConsentSMS, at(-200*time.Hour))
	held.State, held.ErrorCode = store.IYSSkipped, store.IYSSkipRegistered
	insertUploads(t, s, held)
	ret := upload(ten, b, "+905320000001", store.ConsentSMS, at(-time.Hour))
	ret.Status = store.StatusRejected
	insertUploads(t, s, ret)
	checkHeads(t, s, ten.ID)
	got, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 10)
	if ids := eventIDs(got); err != nil || len(ids) != 1 || ids[0] != ret.EventID {
		t.Errorf("claim = %v, %v; want the RET alone", ids, err)
	}
	sums, err := s.IYSUploadSummary(ctx, store.IYSSummaryQuery{TenantID: ten.ID, NearBefore: base, OverdueBefore: at(-100 * time.Hour)})
	if err != nil || len(sums) != 1 || sums[0].Skipped != 1 || sums[0].Pending != 1 || sums[0].Overdue != 0 {
		t.Errorf("summary = %+v, %v; want 1 skipped, 1 pending, the skipped one not overdue", sums, err)
	}
}

// Changes queued behind uploads in flight (the rejections that follow a
// first import) cost a claim nothing until their turn, then go in consent
// order.
func testIYSBacklogBehindHeads(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const n = 2000
	var onays, rets []*store.IYSUpload
	for i := range n {
		r := fmt.Sprintf("+90533%07d", i)
		onays = append(onays, upload(ten, b, r, store.ConsentSMS, at(-time.Duration(2*n-i)*time.Second)))
		ret := upload(ten, b, r, store.ConsentSMS, at(-time.Duration(n-i)*time.Second))
		ret.Status = store.StatusRejected
		rets = append(rets, ret)
	}
	insertUploads(t, s, onays...)
	insertUploads(t, s, rets...)
	checkHeads(t, s, ten.ID)
	var claimed []store.IYSUpload
	for len(claimed) < n {
		got, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 700)
		if err != nil || len(got) == 0 {
			t.Fatalf("claim after %d: %d uploads, %v", len(claimed), len(got), err)
		}
		for i := range got {
			if got[i].Status != store.StatusGranted {
				t.Fatalf("claimed a RET (%s) while its ONAY is open", got[i].EventID)
			}
			got[i].State, got[i].RequestID, got[i].UpdatedAt = store.IYSSubmitted, "req-1", base
		}
		if _, err := s.FinishIYSUploads(ctx, got, store.IYSPending, ""); err != nil {
			t.Fatal(err)
		}
		claimed = append(claimed, got...)
	}
	if got, _ := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 700); len(got) != 0 {
		t.Fatalf("claim with every ONAY submitted = %d uploads, want none", len(got))
	}
	for i := range claimed {
		claimed[i].State, claimed[i].TransactionID = store.IYSAccepted, "tx"
	}
	if n2, err := s.FinishIYSUploads(ctx, claimed, store.IYSSubmitted, "req-1"); err != nil || n2 != n {
		t.Fatalf("accept the ONAYs = %d, %v", n2, err)
	}
	checkHeads(t, s, ten.ID)
	got, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim of the RETs = %d, %v", len(got), err)
	}
	for i, u := range got {
		if u.EventID != rets[i].EventID {
			t.Errorf("RET claim %d = %s, want %s (the oldest first)", i, u.EventID, rets[i].EventID)
		}
	}
}

// A request queueing a consent's next change while the worker closes its
// head must leave exactly one head: neither may count on the other to set
// it. Queueing takes the chain lock, as every consent write does.
func testIYSQueueWhileFinishing(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const n = 60
	var firsts []*store.IYSUpload
	for i := range n {
		firsts = append(firsts, upload(ten, b, fmt.Sprintf("+90534%07d", i), store.ConsentSMS, at(-time.Hour)))
	}
	insertUploads(t, s, firsts...)
	got, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), n)
	if err != nil || len(got) != n {
		t.Fatalf("claim = %d, %v", len(got), err)
	}
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			u := got[i]
			u.State, u.TransactionID, u.UpdatedAt = store.IYSAccepted, "tx", base
			if _, err := s.FinishIYSUploads(ctx, []store.IYSUpload{u}, store.IYSPending, ""); err != nil {
				t.Errorf("finish: %v", err)
			}
		})
		wg.Go(func() {
			next := upload(ten, b, got[i].Recipient, store.ConsentSMS, at(-time.Minute))
			next.Status = store.StatusRejected
			err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.LockChain(ctx, ten.ID); err != nil {
					return err
				}
				return tx.InsertIYSUploads(ctx, []*store.IYSUpload{next})
			})
			if err != nil {
				t.Errorf("queue: %v", err)
			}
		})
	}
	wg.Wait()
	checkHeads(t, s, ten.ID)
	rets, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base.Add(2*time.Minute), base.Add(3*time.Minute), 2*n)
	if err != nil || len(rets) != n {
		t.Errorf("claim of the queued changes = %d, %v; want all %d", len(rets), err, n)
	}
}
