package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testConsent(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"PutConsentStateUpserts", testPutConsentState},
		{"ConsentStatesScope", testConsentStatesScope},
		{"EventsAndChainHead", testEventsAndChainHead},
		{"DuplicateSeqRefused", testDuplicateSeq},
		{"ListConsentEvents", testListConsentEvents},
		{"WalkConsentEvents", testWalkConsentEvents},
		{"ConsentEventsAfter", testConsentEventsAfter},
		{"ConsentCommits", testConsentCommits},
		{"EventsAreAppendOnly", testEventsAppendOnly},
	})
}

func consentState(ten store.Tenant, b store.Brand, recipient string, rtype store.RecipientType, typ store.ConsentType, status store.ConsentStatus) store.ConsentState {
	return store.ConsentState{
		TenantID:      ten.ID,
		BrandID:       b.ID,
		Recipient:     recipient,
		RecipientType: rtype,
		Type:          typ,
		Status:        status,
		ConsentTime:   at(-time.Hour),
		IYSSource:     "HS_WEB",
		EventID:       uuid.NewString(),
		UpdatedAt:     base,
	}
}

func putStates(t *testing.T, s store.Store, states ...store.ConsentState) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range states {
			if err := tx.PutConsentStates(t.Context(), []*store.ConsentState{&states[i]}); err != nil {
				return err
			}
		}
		return nil
	})
}

// byType orders states like store.AllConsentTypes, for comparison.
func byType(states []store.ConsentState) []store.ConsentState {
	out := slices.Clone(states)
	slices.SortFunc(out, func(a, b store.ConsentState) int { return int(a.Type) - int(b.Type) })
	return out
}

func testPutConsentState(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	src := newSource(t, s, ten.ID)
	const r = "+905321112233"

	sms := consentState(ten, b, r, store.Individual, store.ConsentSMS, store.StatusGranted)
	sms.SourceID = &src.ID
	call := consentState(ten, b, r, store.Individual, store.ConsentCall, store.StatusRejected)
	putStates(t, s, sms, call)

	got, err := s.ConsentStates(ctx, ten.ID, b.ID, r, store.Individual)
	if err != nil {
		t.Fatalf("ConsentStates: %v", err)
	}
	same(t, "states after insert", byType(got), []store.ConsentState{sms, call})

	// A second put of the same key replaces every column, including the
	// nullable source and the update time the caller chose.
	sms2 := sms
	sms2.Status = store.StatusRejected
	sms2.ConsentTime = at(time.Minute)
	sms2.SourceID = nil
	sms2.IYSSource = "HS_MESAJ"
	sms2.EventID = uuid.NewString()
	sms2.UpdatedAt = at(time.Minute + time.Microsecond)
	putStates(t, s, sms2)

	got, err = s.ConsentStates(ctx, ten.ID, b.ID, r, store.Individual)
	if err != nil {
		t.Fatalf("ConsentStates: %v", err)
	}
	same(t, "states after upsert", byType(got), []store.ConsentState{sms2, call})

	// Inside a transaction the put is visible to the transaction at once.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		email := consentState(ten, b, r, store.Individual, store.ConsentEmail, store.StatusGranted)
		if err := tx.PutConsentStates(ctx, []*store.ConsentState{&email}); err != nil {
			return err
		}
		got, err := tx.ConsentStates(ctx, ten.ID, b.ID, r, store.Individual)
		if err != nil {
			return err
		}
		same(t, "states inside the transaction", byType(got), []store.ConsentState{sms2, call, email})
		return nil
	})
}

func testConsentStatesScope(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, _ := newTenant(t, s)
	b2 := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "100002", Name: "Second", Sender: "S2", CreatedAt: base}
	if err := s.CreateBrand(ctx, &b2); err != nil {
		t.Fatal(err)
	}
	const r, r2 = "+905321112233", "+905329998877"

	all := []store.ConsentState{
		consentState(ten, b, r, store.Individual, store.ConsentSMS, store.StatusGranted),
		consentState(ten, b, r, store.Individual, store.ConsentCall, store.StatusRejected),
		consentState(ten, b, r, store.Individual, store.ConsentEmail, store.StatusGranted),
	}
	merchant := consentState(ten, b, r, store.Merchant, store.ConsentSMS, store.StatusRejected)
	otherBrand := consentState(ten, b2, r, store.Individual, store.ConsentCall, store.StatusGranted)
	otherRecipient := consentState(ten, b, r2, store.Individual, store.ConsentEmail, store.StatusRejected)
	// Another tenant's state under the same brand id and recipient: a
	// consent_states row carries no foreign key, only the tenant tells it.
	otherTenant := consentState(other, b, r, store.Individual, store.ConsentSMS, store.StatusRejected)
	putStates(t, s, append(slices.Clone(all), merchant, otherBrand, otherRecipient, otherTenant)...)

	for _, tc := range []struct {
		name              string
		tenant, brand, to string
		rtype             store.RecipientType
		want              []store.ConsentState
	}{
		{"all types", ten.ID, b.ID, r, store.Individual, all},
		{"merchant", ten.ID, b.ID, r, store.Merchant, []store.ConsentState{merchant}},
		{"other brand", ten.ID, b2.ID, r, store.Individual, []store.ConsentState{otherBrand}},
		{"other recipient", ten.ID, b.ID, r2, store.Individual, []store.ConsentState{otherRecipient}},
		{"other tenant", other.ID, b.ID, r, store.Individual, []store.ConsentState{otherTenant}},
		{"other brand, merchant", ten.ID, b2.ID, r, store.Merchant, nil},
		{"unknown recipient", ten.ID, b.ID, "+905320000000", store.Individual, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ConsentStates(ctx, tc.tenant, tc.brand, tc.to, tc.rtype)
			if err != nil {
				t.Fatalf("ConsentStates: %v", err)
			}
			same(t, "ConsentStates", byType(got), byType(tc.want))
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.ConsentStates(ctx, tc.tenant, tc.brand, tc.to, tc.rtype)
				same(t, "Tx.ConsentStates", byType(got), byType(tc.want))
				return err
			})
		})
	}
}

func testEventsAndChainHead(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	src := newSource(t, s, ten.ID)
	vid, kid := uuid.NewString(), uuid.NewString()

	var events []*store.ConsentEvent
	for seq := int64(1); seq <= 3; seq++ {
		events = append(events, event(ten, b, "+905321112233", seq))
	}
	// Every optional column set on one event, none on the others.
	events[1].SourceID, events[1].APIKeyID, events[1].VerificationID = &src.ID, &kid, &vid
	events[1].Method = store.MethodSMSCode
	events[1].MessageIDs = uuid.NewString() + "," + uuid.NewString()
	events[1].RecipientType = store.Merchant
	events[1].Type = store.ConsentEmail
	events[1].Status = store.StatusRejected

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		head, err := tx.LockChain(ctx, ten.ID)
		if err != nil {
			return err
		}
		if head.Seq != 0 || head.Hash != "" {
			t.Errorf("new chain head = %+v, want seq 0", head)
		}
		if err := tx.InsertConsentEvents(ctx, events); err != nil {
			return err
		}
		if err := tx.InsertConsentEvents(ctx, nil); err != nil {
			t.Errorf("InsertConsentEvents(none): %v", err)
		}
		return tx.SetChainHead(ctx, store.ChainHead{TenantID: ten.ID, Seq: 3, Hash: events[2].Hash})
	})

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		head, err := tx.LockChain(ctx, ten.ID)
		same(t, "chain head after commit", head, store.ChainHead{TenantID: ten.ID, Seq: 3, Hash: "hash-3"})
		return err
	})

	got, err := s.ListConsentEvents(ctx, store.EventFilter{TenantID: ten.ID, Limit: 10})
	if err != nil {
		t.Fatalf("ListConsentEvents: %v", err)
	}
	same(t, "events, newest first", got, []store.ConsentEvent{*events[2], *events[1], *events[0]})

	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.LockChain(ctx, uuid.NewString())
		return err
	})
	wantErr(t, "LockChain(unknown tenant)", err, store.ErrNotFound)
}

// The chain cannot fork: a second event with a taken sequence number is
// refused.
func testDuplicateSeq(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertConsentEvents(ctx, []*store.ConsentEvent{event(ten, b, "+905321112233", 1)})
	})
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertConsentEvents(ctx, []*store.ConsentEvent{event(ten, b, "+905329998877", 1)})
	})
	wantErr(t, "InsertConsentEvents(taken seq)", err, store.ErrConflict)
	// Sequence numbers are per tenant.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertConsentEvents(ctx, []*store.ConsentEvent{event(other, otherBrand, "+905321112233", 1)})
	})
}

// insertEvents appends n events to the tenant's chain in batches and
// returns them in chain order. pick chooses each event's brand and
// recipient.
func insertEvents(t *testing.T, s store.Store, ten store.Tenant, n int, pick func(i int, e *store.ConsentEvent)) []store.ConsentEvent {
	t.Helper()
	var all []store.ConsentEvent
	const batch = 500
	for start := 0; start < n; start += batch {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			head, err := tx.LockChain(ctx, ten.ID)
			if err != nil {
				return err
			}
			var page []*store.ConsentEvent
			for i := start; i < min(start+batch, n); i++ {
				e := event(ten, store.Brand{}, "", head.Seq+int64(len(page))+1)
				pick(i, e)
				page = append(page, e)
			}
			if err := tx.InsertConsentEvents(ctx, page); err != nil {
				return err
			}
			last := page[len(page)-1]
			for _, e := range page {
				all = append(all, *e)
			}
			return tx.SetChainHead(ctx, store.ChainHead{TenantID: ten.ID, Seq: last.Seq, Hash: last.Hash})
		})
	}
	return all
}

func testListConsentEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b1 := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	b2 := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "100002", Name: "Second", Sender: "S2", CreatedAt: base}
	if err := s.CreateBrand(ctx, &b2); err != nil {
		t.Fatal(err)
	}
	const r1, r2 = "+905321112233", "+905329998877"
	events := insertEvents(t, s, ten, 25, func(i int, e *store.ConsentEvent) {
		e.BrandID, e.BrandCode = b1.ID, b1.Code
		if i%3 == 0 {
			e.BrandID, e.BrandCode = b2.ID, b2.Code
		}
		e.Recipient = r1
		if i%2 == 0 {
			e.Recipient = r2
		}
	})
	insertEvents(t, s, other, 5, func(i int, e *store.ConsentEvent) {
		e.BrandID, e.BrandCode, e.Recipient = otherBrand.ID, otherBrand.Code, r1
	})

	// want is the tenant's events matching keep, newest first.
	want := func(keep func(e store.ConsentEvent) bool) []int64 {
		var out []int64
		for i := len(events) - 1; i >= 0; i-- {
			if keep(events[i]) {
				out = append(out, events[i].Seq)
			}
		}
		return out
	}
	all := func(store.ConsentEvent) bool { return true }
	seqs := func(es []store.ConsentEvent) []int64 {
		out := make([]int64, len(es))
		for i, e := range es {
			out[i] = e.Seq
		}
		return out
	}

	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []int64
	}{
		{"all", store.EventFilter{TenantID: ten.ID, Limit: 100}, want(all)},
		{"limit", store.EventFilter{TenantID: ten.ID, Limit: 4}, want(all)[:4]},
		{"brand", store.EventFilter{TenantID: ten.ID, BrandID: b2.ID, Limit: 100},
			want(func(e store.ConsentEvent) bool { return e.BrandID == b2.ID })},
		{"recipient", store.EventFilter{TenantID: ten.ID, Recipient: r1, Limit: 100},
			want(func(e store.ConsentEvent) bool { return e.Recipient == r1 })},
		{"brand and recipient", store.EventFilter{TenantID: ten.ID, BrandID: b1.ID, Recipient: r2, Limit: 100},
			want(func(e store.ConsentEvent) bool { return e.BrandID == b1.ID && e.Recipient == r2 })},
		{"before seq", store.EventFilter{TenantID: ten.ID, BeforeSeq: 10, Limit: 100},
			want(func(e store.ConsentEvent) bool { return e.Seq < 10 })},
		{"before seq and recipient", store.EventFilter{TenantID: ten.ID, Recipient: r2, BeforeSeq: 10, Limit: 2},
			want(func(e store.ConsentEvent) bool { return e.Seq < 10 && e.Recipient == r2 })[:2]},
		{"before the first", store.EventFilter{TenantID: ten.ID, BeforeSeq: 1, Limit: 100}, nil},
		{"brand of another tenant", store.EventFilter{TenantID: ten.ID, BrandID: otherBrand.ID, Limit: 100}, nil},
		{"other tenant", store.EventFilter{TenantID: other.ID, Limit: 100}, []int64{5, 4, 3, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListConsentEvents(ctx, tc.f)
			if err != nil {
				t.Fatalf("ListConsentEvents: %v", err)
			}
			if g := seqs(got); !slices.Equal(g, tc.want) {
				t.Errorf("seqs = %v, want %v", g, tc.want)
			}
			for _, e := range got {
				if e.TenantID != tc.f.TenantID {
					t.Errorf("event %d of tenant %s", e.Seq, e.TenantID)
				}
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		var paged []int64
		f := store.EventFilter{TenantID: ten.ID, Recipient: r1, Limit: 3}
		for range 20 {
			page, err := s.ListConsentEvents(ctx, f)
			if err != nil {
				t.Fatalf("ListConsentEvents: %v", err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, seqs(page)...)
			f.BeforeSeq = page[len(page)-1].Seq
		}
		if w := want(func(e store.ConsentEvent) bool { return e.Recipient == r1 }); !slices.Equal(paged, w) {
			t.Errorf("paged seqs = %v, want %v", paged, w)
		}
	})
}

func testWalkConsentEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherBrand := newTenant(t, s)
	// Exactly two of the walk's pages of 1000: the walk must notice the end
	// though the last page is full. The other tenant's chain is one
	// partial page.
	const n = 2000
	events := insertEvents(t, s, ten, n, func(i int, e *store.ConsentEvent) {
		e.BrandID, e.BrandCode, e.Recipient = b.ID, b.Code, fmt.Sprintf("+90532%07d", i%17)
	})
	// Another tenant's chain, written after, must not show up.
	insertEvents(t, s, other, 10, func(i int, e *store.ConsentEvent) {
		e.BrandID, e.BrandCode, e.Recipient = otherBrand.ID, otherBrand.Code, "+905321112233"
	})

	var walked []store.ConsentEvent
	err := s.WalkConsentEvents(ctx, ten.ID, func(e *store.ConsentEvent) error {
		walked = append(walked, *e)
		return nil
	})
	if err != nil {
		t.Fatalf("WalkConsentEvents: %v", err)
	}
	if len(walked) != n {
		t.Fatalf("walked %d events, want %d", len(walked), n)
	}
	for i := range walked {
		if walked[i].Seq != int64(i+1) {
			t.Fatalf("event %d of the walk has seq %d: not in chain order", i, walked[i].Seq)
		}
	}
	same(t, "first walked event", walked[0], events[0])
	same(t, "last walked event", walked[n-1], events[n-1])

	walkedOther := 0
	err = s.WalkConsentEvents(ctx, other.ID, func(e *store.ConsentEvent) error {
		walkedOther++
		if e.TenantID != other.ID || e.Seq != int64(walkedOther) {
			t.Errorf("other tenant's walk: event %d is seq %d of tenant %s", walkedOther, e.Seq, e.TenantID)
		}
		return nil
	})
	if err != nil || walkedOther != 10 {
		t.Errorf("other tenant's walk: %d events, %v; want 10", walkedOther, err)
	}

	// fn's error ends the walk and is returned.
	stop := errors.New("stop")
	calls := 0
	err = s.WalkConsentEvents(ctx, ten.ID, func(e *store.ConsentEvent) error {
		calls++
		if e.Seq == 1500 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 1500 {
		t.Errorf("walk stopped at 1500: err = %v after %d calls; want stop after 1500", err, calls)
	}

	empty, _ := newTenant(t, s)
	err = s.WalkConsentEvents(ctx, empty.ID, func(*store.ConsentEvent) error {
		t.Error("fn called for a tenant without events")
		return nil
	})
	if err != nil {
		t.Errorf("WalkConsentEvents(no events): %v", err)
	}
}

// The database itself keeps the evidence: UPDATE and DELETE of a consent
// event fail even when issued directly.
func testEventsAppendOnly(t *testing.T, s store.Store) {
	raw, ok := s.(rawDB)
	if !ok {
		t.Skip("store does not expose its database handle")
	}
	ctx := t.Context()
	ten, b := newTenant(t, s)
	e := event(ten, b, "+905321112233", 1)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertConsentEvents(ctx, []*store.ConsentEvent{e})
	})

	for _, tc := range []struct{ name, sql string }{
		{"update", "UPDATE consent_events SET status = 2, reference = 'tampered' WHERE id = ?"},
		{"update of the hash", "UPDATE consent_events SET hash = 'forged' WHERE id = ?"},
		{"delete", "DELETE FROM consent_events WHERE id = ?"},
	} {
		err := raw.DB().WithContext(ctx).Exec(tc.sql, e.ID).Error
		if err == nil {
			t.Errorf("%s of a consent event succeeded", tc.name)
		}
	}
	if err := raw.DB().WithContext(ctx).Exec("DELETE FROM consent_events").Error; err == nil {
		t.Error("deleting all consent events succeeded")
	}

	got, err := s.ListConsentEvents(ctx, store.EventFilter{TenantID: ten.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "events after tampering attempts", got, []store.ConsentEvent{*e})
}
