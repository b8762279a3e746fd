package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testLanding(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"LandingToken", testLandingToken},
		{"RejectLinks", testRejectLinks},
		{"KVKKState", testKVKKState},
	})
}

// A consent-page token finds its verification whatever the tenant, every
// page column round-trips, and an empty hash finds nothing (SMS-code
// verifications have none).
func testLandingToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	sms := verification(ten, b, nil, base)
	v := verification(ten, b, nil, base)
	v.Method, v.LandingTokenHash, v.LandingTexts = store.MethodLandingPage, "hash-1", "t1,t2,t3"
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertVerification(ctx, sms); err != nil {
			return err
		}
		return tx.InsertVerification(ctx, v)
	})
	got, err := s.VerificationByLandingToken(ctx, "hash-1")
	if err != nil {
		t.Fatalf("VerificationByLandingToken: %v", err)
	}
	same(t, "verification by token", *got, *v)
	_, err = s.VerificationByLandingToken(ctx, "")
	wantErr(t, "VerificationByLandingToken(empty)", err, store.ErrNotFound)
	_, err = s.VerificationByLandingToken(ctx, "hash-2")
	wantErr(t, "VerificationByLandingToken(unknown)", err, store.ErrNotFound)

	want := *v
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		l, err := tx.LockLandingVerification(ctx, "hash-1")
		if err != nil {
			return err
		}
		l.PageViewedAt, l.PageSubmittedAt = ptr(at(time.Minute)), ptr(at(2*time.Minute))
		l.IPAddress, l.UserAgent, l.TickedBoxes, l.PageLanguage, l.KVKK = "203.0.113.7", "Mozilla/5.0", "etk,kvkk", "en", store.KVKKGranted
		want = *l
		return tx.UpdateVerification(ctx, l)
	})
	got, err = s.GetVerification(ctx, ten.ID, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "page columns", *got, want)

	// A second verification cannot take the same token.
	dup := verification(ten, b, nil, base)
	dup.LandingTokenHash = "hash-1"
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.InsertVerification(ctx, dup) })
	wantErr(t, "InsertVerification(same token)", err, store.ErrConflict)
}

func testRejectLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	l := &store.RejectLink{TokenHash: "r-1", TenantID: ten.ID, BrandID: b.ID, Recipient: "+905321234567",
		RecipientType: store.Individual, Types: "1,2", MessageID: "m-1", CreatedAt: base}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertRejectLink(ctx, l) })
	got, err := s.RejectLinkByToken(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "reject link", *got, *l)
	_, err = s.RejectLinkByToken(ctx, "r-2")
	wantErr(t, "RejectLinkByToken(unknown)", err, store.ErrNotFound)

	// The first use is kept; a later one does not move it.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.MarkRejectLinkUsed(ctx, "r-1", at(time.Hour)) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.MarkRejectLinkUsed(ctx, "r-1", at(2*time.Hour))
	})
	got, err = s.RejectLinkByToken(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	l.UsedAt = ptr(at(time.Hour))
	same(t, "used reject link", *got, *l)
}

// The KVKK explicit consent is a state of its own, the row of pseudo type
// ConsentKVKK: the check path's one query returns it with the ETK rows, per
// recipient type; a put of an ETK row leaves it alone; every reader of
// states (in a transaction, in bulk) sees it; and its events round-trip
// with their page evidence.
func testKVKKState(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const r = "+905321234567"
	e := event(ten, b, r, 1)
	e.Type, e.Status, e.KVKK = store.ConsentKVKK, store.StatusRejected, store.KVKKDeclined
	e.TickedBoxes, e.PageViewAt, e.PageSubmitAt = "etk", ptr(at(time.Minute)), ptr(at(2*time.Minute))
	sms := consentState(ten, b, r, store.Individual, store.ConsentSMS, store.StatusGranted)
	kvkk := consentState(ten, b, r, store.Individual, store.ConsentKVKK, store.StatusRejected)
	kvkk.EventID, kvkk.KVKK = e.ID, store.KVKKDeclined
	merchant := consentState(ten, b, r, store.Merchant, store.ConsentKVKK, store.StatusGranted)
	merchant.KVKK = store.KVKKGranted
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{e}); err != nil {
			return err
		}
		return tx.PutConsentStates(ctx, []*store.ConsentState{&sms, &kvkk, &merchant})
	})
	check := func(what string, want ...store.ConsentState) {
		t.Helper()
		got, err := s.ConsentStates(ctx, ten.ID, b.ID, r, store.Individual)
		if err != nil {
			t.Fatalf("%s: ConsentStates: %v", what, err)
		}
		same(t, what, byType(got), byType(want))
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.ConsentStates(ctx, ten.ID, b.ID, r, store.Individual)
			same(t, what+" (Tx.ConsentStates)", byType(got), byType(want))
			return err
		})
	}
	check("ETK and KVKK states", sms, kvkk)

	// An ETK rejection replaces the ETK row only.
	rej := sms
	rej.Status, rej.EventID, rej.ConsentTime = store.StatusRejected, uuid.NewString(), at(time.Hour)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutConsentStates(ctx, []*store.ConsentState{&rej})
	})
	check("after an ETK rejection", rej, kvkk)

	// A later KVKK choice replaces the KVKK row, in bulk too.
	kvkk2 := kvkk
	kvkk2.Status, kvkk2.KVKK, kvkk2.EventID, kvkk2.ConsentTime = store.StatusGranted, store.KVKKGranted, uuid.NewString(), at(2*time.Hour)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutConsentStates(ctx, []*store.ConsentState{&kvkk2})
	})
	check("after a new KVKK choice", rej, kvkk2)

	// The bulk reader returns both recipient types' KVKK rows.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ConsentStatesOf(ctx, ten.ID, b.ID, []string{r})
		same(t, "ConsentStatesOf", sortStates(got), sortStates([]store.ConsentState{rej, kvkk2, merchant}))
		return err
	})

	evs, err := s.ListConsentEvents(ctx, store.EventFilter{TenantID: ten.ID, Recipient: r, Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v %v", evs, err)
	}
	same(t, "KVKK event with page evidence", evs[0], *e)
}
