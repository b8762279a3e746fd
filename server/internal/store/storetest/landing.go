package storetest

import (
	"testing"
	"time"

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
	inTx(t, s, func(tx store.Tx) error {
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
	inTx(t, s, func(tx store.Tx) error {
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
	err = s.InTx(ctx, func(tx store.Tx) error { return tx.InsertVerification(ctx, dup) })
	wantErr(t, "InsertVerification(same token)", err, store.ErrConflict)
}

func testRejectLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	l := &store.RejectLink{TokenHash: "r-1", TenantID: ten.ID, BrandID: b.ID, Recipient: "+905321234567",
		RecipientType: store.Individual, Types: "1,2", MessageID: "m-1", CreatedAt: base}
	inTx(t, s, func(tx store.Tx) error { return tx.InsertRejectLink(ctx, l) })
	got, err := s.RejectLinkByToken(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "reject link", *got, *l)
	_, err = s.RejectLinkByToken(ctx, "r-2")
	wantErr(t, "RejectLinkByToken(unknown)", err, store.ErrNotFound)

	// The first use is kept; a later one does not move it.
	inTx(t, s, func(tx store.Tx) error { return tx.MarkRejectLinkUsed(ctx, "r-1", at(time.Hour)) })
	inTx(t, s, func(tx store.Tx) error { return tx.MarkRejectLinkUsed(ctx, "r-1", at(2*time.Hour)) })
	got, err = s.RejectLinkByToken(ctx, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	l.UsedAt = ptr(at(time.Hour))
	same(t, "used reject link", *got, *l)
}

// The KVKK choice is kept on the state the check path reads, and on the
// event.
func testKVKKState(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	e := event(ten, b, "+905321234567", 1)
	e.KVKK, e.TickedBoxes, e.PageViewAt, e.PageSubmitAt = store.KVKKDeclined, "etk", ptr(at(time.Minute)), ptr(at(2*time.Minute))
	st := &store.ConsentState{TenantID: ten.ID, BrandID: b.ID, Recipient: e.Recipient, RecipientType: store.Individual,
		Type: store.ConsentSMS, Status: store.StatusGranted, ConsentTime: base, EventID: e.ID, KVKK: store.KVKKDeclined, UpdatedAt: base}
	inTx(t, s, func(tx store.Tx) error {
		if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{e}); err != nil {
			return err
		}
		return tx.PutConsentState(ctx, st)
	})
	states, err := s.ConsentStates(ctx, ten.ID, b.ID, e.Recipient, store.Individual)
	if err != nil || len(states) != 1 || states[0].KVKK != store.KVKKDeclined {
		t.Fatalf("states %+v %v", states, err)
	}
	// A later put replaces the choice, in bulk too.
	st2 := *st
	st2.KVKK = store.KVKKGranted
	inTx(t, s, func(tx store.Tx) error { return tx.PutConsentStates(ctx, []*store.ConsentState{&st2}) })
	states, err = s.ConsentStates(ctx, ten.ID, b.ID, e.Recipient, store.Individual)
	if err != nil || len(states) != 1 || states[0].KVKK != store.KVKKGranted {
		t.Fatalf("states after put %+v %v", states, err)
	}
	evs, err := s.ListConsentEvents(ctx, store.EventFilter{TenantID: ten.ID, Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v %v", evs, err)
	}
	same(t, "event with page evidence", evs[0], *e)
}
