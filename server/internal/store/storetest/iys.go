package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testIYS(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"Configs", testIYSConfigs},
		{"ClaimOrderAndLease", testIYSClaim},
		{"ClaimWaitsForEarlierChange", testIYSClaimOrder},
		{"ConcurrentClaims", testIYSConcurrentClaims},
		{"FinishIsConditional", testIYSFinish},
		{"Requests", testIYSRequests},
		{"ListAndSummary", testIYSListSummary},
		{"Cursor", testIYSCursor},
		{"PreviousConsentTimes", testPreviousConsentTimes},
	})
}

func iysConfig(ten store.Tenant, b store.Brand) *store.IYSConfig {
	return &store.IYSConfig{BrandID: b.ID, TenantID: ten.ID, IYSCode: "700001", BrandCode: "700002", Username: "user",
		PasswordEnc: []byte{1, 2, 3, 0, 255}, BaseURL: "https://api.sandbox.iys.org.tr", Enabled: true, CreatedAt: base, UpdatedAt: base}
}

func testIYSConfigs(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, ob := newTenant(t, s)
	if _, err := s.GetIYSConfig(ctx, ten.ID, b.ID); err == nil {
		t.Fatal("GetIYSConfig before any: no error")
	}
	c := iysConfig(ten, b)
	if err := s.PutIYSConfig(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetIYSConfig(ctx, ten.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "stored configuration", *got, *c)

	upd := *c
	upd.Username, upd.Enabled, upd.PasswordEnc, upd.CreatedAt, upd.UpdatedAt = "user2", false, []byte{9}, at(time.Hour), at(time.Hour)
	if err := s.PutIYSConfig(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetIYSConfig(ctx, ten.ID, b.ID)
	want := upd
	want.CreatedAt = base // creation time is kept
	same(t, "replaced configuration", *got, want)

	// Another tenant can neither read nor overwrite it.
	wantErr(t, "GetIYSConfig of another tenant", func() error { _, err := s.GetIYSConfig(ctx, other.ID, b.ID); return err }(), store.ErrNotFound)
	steal := iysConfig(other, b)
	wantErr(t, "PutIYSConfig over another tenant's brand", s.PutIYSConfig(ctx, steal), store.ErrNotFound)
	if err := s.PutIYSConfig(ctx, iysConfig(other, ob)); err != nil {
		t.Fatal(err)
	}
	mine, err := s.ListIYSConfigs(ctx, ten.ID)
	if err != nil || len(mine) != 1 || mine[0].BrandID != b.ID {
		t.Errorf("ListIYSConfigs(tenant) = %v, %v", mine, err)
	}
	all, err := s.ListIYSConfigs(ctx, "")
	if err != nil || len(all) != 2 {
		t.Errorf("ListIYSConfigs(all) = %d configs, %v; want 2", len(all), err)
	}
}

// upload is a pending upload of a consent given at consent.
func upload(ten store.Tenant, b store.Brand, recipient string, typ store.ConsentType, consent time.Time) *store.IYSUpload {
	return &store.IYSUpload{EventID: uuid.NewString(), TenantID: ten.ID, BrandID: b.ID, Recipient: recipient,
		RecipientType: store.Individual, Type: typ, Status: store.StatusGranted, Source: "HS_WEB", ConsentTime: consent,
		State: store.IYSPending, NextAttemptAt: base, CreatedAt: consent, UpdatedAt: consent}
}

func insertUploads(t *testing.T, s store.Store, ups ...*store.IYSUpload) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertIYSUploads(t.Context(), ups) })
}

func eventIDs(ups []store.IYSUpload) []string {
	out := make([]string, len(ups))
	for i := range ups {
		out[i] = ups[i].EventID
	}
	return out
}

func testIYSClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	_, ob := newTenant(t, s)
	u1 := upload(ten, b, "+905320000001", store.ConsentSMS, at(-3*time.Hour))
	u2 := upload(ten, b, "+905320000002", store.ConsentSMS, at(-2*time.Hour))
	u3 := upload(ten, b, "+905320000003", store.ConsentSMS, at(-4*time.Hour))
	notDue := upload(ten, b, "+905320000004", store.ConsentSMS, at(-5*time.Hour))
	notDue.NextAttemptAt = at(time.Hour)
	done := upload(ten, b, "+905320000005", store.ConsentSMS, at(-6*time.Hour))
	done.State = store.IYSAccepted
	insertUploads(t, s, u1, u2, u3, notDue, done)

	got, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 2)
	if err != nil {
		t.Fatal(err)
	}
	if ids := eventIDs(got); len(ids) != 2 || ids[0] != u3.EventID || ids[1] != u1.EventID {
		t.Fatalf("first claim = %v, want the two oldest due (%s, %s)", ids, u3.EventID, u1.EventID)
	}
	if got[0].Attempts != 1 || got[0].LeaseUntil == nil || !got[0].LeaseUntil.Equal(base.Add(time.Minute)) {
		t.Errorf("claimed upload %+v: want 1 attempt and the lease", got[0])
	}
	got, _ = s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 10)
	if ids := eventIDs(got); len(ids) != 1 || ids[0] != u2.EventID {
		t.Errorf("second claim = %v, want only %s (the others are leased, not due or done)", ids, u2.EventID)
	}
	if got, _ := s.ClaimIYSUploads(ctx, ten.ID, ob.ID, base, base.Add(time.Minute), 10); len(got) != 0 {
		t.Errorf("claim of another brand = %d uploads, want 0", len(got))
	}
	// After the lease, the uploads are claimable again.
	got, _ = s.ClaimIYSUploads(ctx, ten.ID, b.ID, base.Add(2*time.Minute), base.Add(3*time.Minute), 10)
	if len(got) != 3 || got[0].Attempts != 2 {
		t.Errorf("claim after the lease = %d uploads (attempts %v), want 3 with 2 attempts", len(got), got)
	}
}

// A consent's later change waits while an earlier one is pending or
// submitted.
func testIYSClaimOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	onay := upload(ten, b, "+905320000001", store.ConsentSMS, at(-2*time.Hour))
	ret := upload(ten, b, "+905320000001", store.ConsentSMS, at(-time.Hour))
	ret.Status = store.StatusRejected
	call := upload(ten, b, "+905320000001", store.ConsentCall, at(-time.Hour))
	insertUploads(t, s, ret, onay, call)
	got, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if ids := eventIDs(got); len(ids) != 2 || ids[0] != onay.EventID || ids[1] != call.EventID {
		t.Fatalf("claim = %v, want the ONAY and the other type, not the RET", ids)
	}
	got[0].State, got[0].RequestID, got[0].UpdatedAt = store.IYSSubmitted, "req-1", base
	if _, err := s.FinishIYSUploads(ctx, got[:1], store.IYSPending, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base.Add(2*time.Minute), base.Add(3*time.Minute), 10); len(got) != 1 || got[0].EventID != call.EventID {
		t.Errorf("claim with the ONAY submitted = %v, want only the other type", eventIDs(got))
	}
	got[0].State = store.IYSAccepted
	if _, err := s.FinishIYSUploads(ctx, got[:1], store.IYSSubmitted, "req-1"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.ClaimIYSUploads(ctx, ten.ID, b.ID, base.Add(4*time.Minute), base.Add(5*time.Minute), 10)
	found := false
	for _, u := range got {
		found = found || u.EventID == ret.EventID
	}
	if !found {
		t.Errorf("claim with the ONAY accepted = %v, want the RET", eventIDs(got))
	}
}

func testIYSConcurrentClaims(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const n = 40
	var ups []*store.IYSUpload
	for i := range n {
		ups = append(ups, upload(ten, b, fmt.Sprintf("+90532%07d", i), store.ConsentSMS, at(-time.Duration(i)*time.Second)))
	}
	insertUploads(t, s, ups...)
	var (
		mu    sync.Mutex
		owner = map[string]int{}
		dups  int
		wg    sync.WaitGroup
	)
	for w := range 6 {
		wg.Go(func() {
			for {
				got, err := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 3)
				if err != nil {
					t.Errorf("ClaimIYSUploads: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, u := range got {
					if _, ok := owner[u.EventID]; ok {
						dups++
					}
					owner[u.EventID] = w
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if dups > 0 || len(owner) != n {
		t.Errorf("%d uploads claimed twice, %d claimed of %d", dups, len(owner), n)
	}
}

func testIYSFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	u := upload(ten, b, "+905320000001", store.ConsentSMS, at(-time.Hour))
	insertUploads(t, s, u)
	got, _ := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 1)
	got[0].State, got[0].RequestID, got[0].UpdatedAt = store.IYSSubmitted, "req-1", at(time.Second)
	if n, err := s.FinishIYSUploads(ctx, got, store.IYSPending, ""); err != nil || n != 1 {
		t.Fatalf("FinishIYSUploads(submitted) = %d, %v", n, err)
	}
	// A writer that expects another state or request changes nothing.
	stale := got[0]
	stale.State, stale.ErrorCode = store.IYSRefused, "H178"
	if n, _ := s.FinishIYSUploads(ctx, []store.IYSUpload{stale}, store.IYSPending, ""); n != 0 {
		t.Errorf("finish from PENDING of a submitted upload changed %d rows", n)
	}
	if n, _ := s.FinishIYSUploads(ctx, []store.IYSUpload{stale}, store.IYSSubmitted, "req-other"); n != 0 {
		t.Errorf("finish of another request changed %d rows", n)
	}
	acc := got[0]
	acc.State, acc.TransactionID, acc.UpdatedAt = store.IYSAccepted, "tx-1", at(2*time.Second)
	if n, _ := s.FinishIYSUploads(ctx, []store.IYSUpload{acc}, store.IYSSubmitted, "req-1"); n != 1 {
		t.Fatal("finish of the request changed nothing")
	}
	list, _ := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: ten.ID, Limit: 10})
	if len(list) != 1 || list[0].State != store.IYSAccepted || list[0].TransactionID != "tx-1" || list[0].RequestID != "req-1" ||
		list[0].LeaseUntil != nil || list[0].Attempts != 1 || !list[0].UpdatedAt.Equal(at(2*time.Second)) {
		t.Errorf("upload after finishing: %+v", list)
	}
}

func testIYSRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	a1 := upload(ten, b, "+905320000002", store.ConsentSMS, at(-time.Hour))
	a2 := upload(ten, b, "+905320000001", store.ConsentSMS, at(-time.Hour))
	c1 := upload(ten, b, "+905320000003", store.ConsentSMS, at(-2*time.Hour))
	insertUploads(t, s, a1, a2, c1)
	got, _ := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 10)
	for i := range got {
		got[i].State, got[i].RequestID, got[i].UpdatedAt = store.IYSSubmitted, "req-a", at(10*time.Second)
		if got[i].EventID == c1.EventID {
			got[i].RequestID, got[i].UpdatedAt = "req-c", at(5*time.Second)
		}
	}
	if _, err := s.FinishIYSUploads(ctx, got, store.IYSPending, ""); err != nil {
		t.Fatal(err)
	}
	rids, err := s.SubmittedIYSRequests(ctx, ten.ID, b.ID, at(10*time.Second), 10)
	if err != nil || len(rids) != 2 || rids[0] != "req-c" || rids[1] != "req-a" {
		t.Errorf("SubmittedIYSRequests = %v, %v; want req-c then req-a", rids, err)
	}
	if rids, _ := s.SubmittedIYSRequests(ctx, ten.ID, b.ID, at(7*time.Second), 10); len(rids) != 1 || rids[0] != "req-c" {
		t.Errorf("SubmittedIYSRequests before the second = %v, want req-c", rids)
	}
	ups, err := s.IYSUploadsOfRequest(ctx, ten.ID, "req-a")
	if err != nil || len(ups) != 2 {
		t.Fatalf("IYSUploadsOfRequest = %d, %v", len(ups), err)
	}
	first, second := a1.EventID, a2.EventID
	if second < first {
		first, second = second, first
	}
	if ups[0].EventID != first || ups[1].EventID != second {
		t.Errorf("IYSUploadsOfRequest order = %v, want (consent time, event id)", eventIDs(ups))
	}
	other, _ := newTenant(t, s)
	if ups, _ := s.IYSUploadsOfRequest(ctx, other.ID, "req-a"); len(ups) != 0 {
		t.Errorf("another tenant sees %d uploads of the request", len(ups))
	}
}

func testIYSListSummary(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	b2 := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "200002", Name: "Second", Sender: "SECOND", CreatedAt: base}
	if err := s.CreateBrand(ctx, &b2); err != nil {
		t.Fatal(err)
	}
	old := upload(ten, b, "+905320000001", store.ConsentSMS, at(-72*time.Hour))
	mid := upload(ten, b, "+905320000002", store.ConsentSMS, at(-36*time.Hour))
	fresh := upload(ten, b, "+905320000003", store.ConsentSMS, at(-time.Hour))
	acc := upload(ten, b, "+905320000004", store.ConsentSMS, at(-100*time.Hour))
	acc.State = store.IYSAccepted
	ref := upload(ten, b2, "+905320000005", store.ConsentSMS, at(-2*time.Hour))
	ref.State, ref.ErrorCode = store.IYSRefused, "H178"
	insertUploads(t, s, old, mid, fresh, acc, ref)

	all, err := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: ten.ID, Limit: 10})
	if ids := eventIDs(all); err != nil || len(ids) != 5 || ids[0] != acc.EventID || ids[4] != fresh.EventID {
		t.Errorf("ListIYSUploads = %v, %v; want all five, oldest consent first", ids, err)
	}
	page, _ := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: ten.ID, Limit: 2})
	rest, _ := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: ten.ID, Limit: 10,
		AfterTime: page[1].ConsentTime, AfterEventID: page[1].EventID})
	if len(page) != 2 || len(rest) != 3 || rest[0].EventID != all[2].EventID {
		t.Errorf("paging: %d then %d uploads", len(page), len(rest))
	}
	if got, _ := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: ten.ID, State: store.IYSRefused, Limit: 10}); len(got) != 1 || got[0].EventID != ref.EventID {
		t.Errorf("ListIYSUploads(REFUSED) = %v", eventIDs(got))
	}
	if got, _ := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: ten.ID, BrandID: b2.ID, Limit: 10}); len(got) != 1 {
		t.Errorf("ListIYSUploads(brand 2) = %v", eventIDs(got))
	}
	other, _ := newTenant(t, s)
	if got, _ := s.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: other.ID, Limit: 10}); len(got) != 0 {
		t.Errorf("another tenant lists %d uploads", len(got))
	}

	sums, err := s.IYSUploadSummary(ctx, store.IYSSummaryQuery{TenantID: ten.ID, OverdueBefore: at(-48 * time.Hour), NearBefore: at(-24 * time.Hour)})
	if err != nil || len(sums) != 2 {
		t.Fatalf("IYSUploadSummary = %+v, %v", sums, err)
	}
	byBrand := map[string]store.IYSBrandSummary{}
	for _, x := range sums {
		byBrand[x.BrandID] = x
	}
	first := byBrand[b.ID]
	if first.Pending != 3 || first.Accepted != 1 || first.Overdue != 1 || first.Near != 1 || first.OldestOpen == nil ||
		!first.OldestOpen.Equal(old.ConsentTime) {
		t.Errorf("summary of brand 1: %+v, want 3 pending, 1 accepted, 1 overdue, 1 near, oldest %v", first, old.ConsentTime)
	}
	if second := byBrand[b2.ID]; second.Refused != 1 || second.Pending != 0 || second.OldestOpen != nil || second.Overdue != 0 {
		t.Errorf("summary of brand 2: %+v, want 1 refused and nothing open", second)
	}
}

func testIYSCursor(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		c, err := tx.LockIYSCursor(ctx, ten.ID, b.ID, base)
		if err != nil {
			return err
		}
		if c.Cursor != "" || c.LastPullAt != nil || c.ReconciledTo != "" {
			t.Errorf("new cursor %+v, want empty", c)
		}
		pulled := at(time.Minute)
		c.Cursor, c.LastPullAt, c.LastError, c.ReconciledTo, c.UpdatedAt = "abc_1", &pulled, "boom", "2025-03-13", pulled
		return tx.PutIYSCursor(ctx, c)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		c, err := tx.LockIYSCursor(ctx, ten.ID, b.ID, base)
		if err != nil {
			return err
		}
		if c.Cursor != "abc_1" || c.LastPullAt == nil || !c.LastPullAt.Equal(at(time.Minute)) || c.LastError != "boom" || c.ReconciledTo != "2025-03-13" {
			t.Errorf("cursor read again: %+v", c)
		}
		return nil
	})
	cs, err := s.ListIYSCursors(ctx, ten.ID)
	if err != nil || len(cs) != 1 || cs[0].Cursor != "abc_1" {
		t.Errorf("ListIYSCursors = %+v, %v", cs, err)
	}
	other, _ := newTenant(t, s)
	if cs, _ := s.ListIYSCursors(ctx, other.ID); len(cs) != 0 {
		t.Errorf("another tenant lists %d cursors", len(cs))
	}
}

func testPreviousConsentTimes(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	e1, e2, e3 := event(ten, b, "+905320000001", 1), event(ten, b, "+905320000001", 2), event(ten, b, "+905320000001", 3)
	e2.Type = store.ConsentCall // another consent of the same recipient
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertConsentEvents(ctx, []*store.ConsentEvent{e1, e2, e3})
	})
	got, err := s.PreviousConsentTimes(ctx, ten.ID, []string{e1.ID, e2.ID, e3.ID, "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[e3.ID].Equal(e1.ConsentTime) {
		t.Errorf("PreviousConsentTimes = %v, want only %s → %v", got, e3.ID, e1.ConsentTime)
	}
}
