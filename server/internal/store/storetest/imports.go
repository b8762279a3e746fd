package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

// testImports covers what historic imports rely on: row hashes that make a
// file idempotent, and bulk reads and writes large enough to need more than
// one statement on each engine.
func testImports(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"ImportRows", testImportRows},
		{"ImportRowsInBulk", testImportRowsBulk},
		{"ConsentStatesOf", testConsentStatesOf},
		{"PutConsentStatesInBulk", testPutConsentStatesBulk},
		{"EventsAndUploadsInBulk", testEventsAndUploadsBulk},
	})
}

func importRow(tenantID, hash, eventID string) *store.ImportRow {
	return &store.ImportRow{TenantID: tenantID, RowHash: hash, EventID: eventID, CreatedAt: base}
}

func testImportRows(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	other, _ := newTenant(t, s)

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ImportedRows(ctx, ten.ID, []string{"a", "b"})
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("ImportedRows of an empty table = %v", got)
		}
		if got, err := tx.ImportedRows(ctx, ten.ID, nil); err != nil || len(got) != 0 {
			t.Errorf("ImportedRows(none) = %v, %v", got, err)
		}
		if err := tx.InsertImportRows(ctx, nil); err != nil {
			t.Errorf("InsertImportRows(none): %v", err)
		}
		// A row that changed nothing has no event.
		return tx.InsertImportRows(ctx, []*store.ImportRow{
			importRow(ten.ID, "a", uuid.NewString()), importRow(ten.ID, "b", ""), importRow(other.ID, "c", ""),
			importRow(ten.ID, `"{,}\`, ""),
		})
	})

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ImportedRows(ctx, ten.ID, []string{"a", "b", "c", "d", `"{,}\`, "NULL"})
		if err != nil {
			return err
		}
		// "c" is another tenant's: the same file imported by two tenants
		// is two imports.
		if want := map[string]bool{"a": true, "b": true, `"{,}\`: true}; !mapsEqual(got, want) {
			t.Errorf("ImportedRows = %v, want %v", got, want)
		}
		return nil
	})

	// A hash imported twice is a conflict, and the transaction's other
	// rows roll back with it.
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertImportRows(ctx, []*store.ImportRow{importRow(ten.ID, "e", ""), importRow(ten.ID, "a", "")})
	})
	wantErr(t, "InsertImportRows of an imported hash", err, store.ErrConflict)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ImportedRows(ctx, ten.ID, []string{"e"})
		if len(got) != 0 {
			t.Errorf("a row of the rolled-back transaction is marked imported: %v", got)
		}
		return err
	})
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// testImportRowsBulk writes and reads more hashes than one statement can
// bind on SQLite.
func testImportRowsBulk(t *testing.T, s store.Store) {
	ten, _ := newTenant(t, s)
	const n = 10000
	rows := make([]*store.ImportRow, n)
	hashes := make([]string, 0, n+1)
	for i := range rows {
		h := fmt.Sprintf("%064x", i)
		rows[i] = importRow(ten.ID, h, "")
		hashes = append(hashes, h)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertImportRows(ctx, rows) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ImportedRows(ctx, ten.ID, append(hashes, "new"))
		if err != nil {
			return err
		}
		if len(got) != n || got["new"] {
			t.Errorf("ImportedRows found %d of %d hashes (new: %v)", len(got), n, got["new"])
		}
		return nil
	})
}

func testConsentStatesOf(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, _ := newTenant(t, s)
	b2 := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "100002", Name: "Second", Sender: "S2", CreatedAt: base}
	if err := s.CreateBrand(ctx, &b2); err != nil {
		t.Fatal(err)
	}
	const r1, r2, r3 = "+905321112233", "ayse@example.com.tr", "+905329998877"
	// Characters that mean something in SQL or in array literals.
	const r4 = `o'neil"{x},y\z NULL@example.com`
	want := []store.ConsentState{
		consentState(ten, b, r4, store.Individual, store.ConsentEmail, store.StatusGranted),
		consentState(ten, b, r1, store.Individual, store.ConsentSMS, store.StatusGranted),
		consentState(ten, b, r1, store.Individual, store.ConsentCall, store.StatusRejected),
		consentState(ten, b, r1, store.Merchant, store.ConsentSMS, store.StatusRejected),
		consentState(ten, b, r2, store.Individual, store.ConsentEmail, store.StatusGranted),
	}
	putStates(t, s, append(slices.Clone(want),
		consentState(ten, b, r3, store.Individual, store.ConsentSMS, store.StatusGranted),   // not asked for
		consentState(ten, b2, r1, store.Individual, store.ConsentSMS, store.StatusGranted),  // another brand
		consentState(other, b, r1, store.Individual, store.ConsentSMS, store.StatusGranted), // another tenant
	)...)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ConsentStatesOf(ctx, ten.ID, b.ID, []string{r1, r2, r4, "+905320000000", "NULL"})
		same(t, "ConsentStatesOf", sortStates(got), sortStates(want))
		if err != nil {
			return err
		}
		got, err = tx.ConsentStatesOf(ctx, ten.ID, b.ID, nil)
		if len(got) != 0 {
			t.Errorf("ConsentStatesOf(no recipients) = %d states", len(got))
		}
		return err
	})
}

// sortStates orders states by recipient, recipient type and type.
func sortStates(states []store.ConsentState) []store.ConsentState {
	out := slices.Clone(states)
	slices.SortFunc(out, func(a, b store.ConsentState) int {
		if c := strings.Compare(a.Recipient, b.Recipient); c != 0 {
			return c
		}
		if a.RecipientType != b.RecipientType {
			return int(a.RecipientType) - int(b.RecipientType)
		}
		return int(a.Type) - int(b.Type)
	})
	return out
}

// testPutConsentStatesBulk inserts and replaces more states than one
// statement can bind on SQLite, and reads them back in bulk.
func testPutConsentStatesBulk(t *testing.T, s store.Store) {
	ten, b := newTenant(t, s)
	const n = 3000
	states := make([]*store.ConsentState, n)
	recipients := make([]string, n)
	for i := range states {
		recipients[i] = fmt.Sprintf("+90532%07d", i)
		st := consentState(ten, b, recipients[i], store.Individual, store.ConsentSMS, store.StatusGranted)
		states[i] = &st
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutConsentStates(ctx, states[:n/2]) })
	// The second put replaces the first half and inserts the second.
	for _, st := range states {
		st.Status, st.ConsentTime, st.IYSSource = store.StatusRejected, at(time.Hour), "HS_ISLAK_IMZA"
		st.EventID, st.UpdatedAt = uuid.NewString(), at(time.Hour+time.Second)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutConsentStates(ctx, states) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ConsentStatesOf(ctx, ten.ID, b.ID, recipients)
		if err != nil {
			return err
		}
		if len(got) != n {
			t.Fatalf("ConsentStatesOf = %d states, want %d", len(got), n)
		}
		want := make([]store.ConsentState, n)
		for i, st := range states {
			want[i] = *st
		}
		same(t, "states after the bulk upsert", sortStates(got), sortStates(want))
		return nil
	})
}

// testEventsAndUploadsBulk appends more events and uploads in one call than
// one statement can bind.
func testEventsAndUploadsBulk(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const n = 2000
	events := make([]*store.ConsentEvent, n)
	uploads := make([]*store.IYSUpload, n)
	for i := range events {
		e := event(ten, b, fmt.Sprintf("+90532%07d", i), int64(i+1))
		events[i] = e
		uploads[i] = &store.IYSUpload{EventID: e.ID, TenantID: ten.ID, BrandID: b.ID, Recipient: e.Recipient,
			RecipientType: e.RecipientType, Type: e.Type, Status: e.Status, Source: e.IYSSource,
			ConsentTime: e.ConsentTime, State: store.IYSPending, NextAttemptAt: base, CreatedAt: base, UpdatedAt: base}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertConsentEvents(ctx, events); err != nil {
			return err
		}
		if err := tx.InsertIYSUploads(ctx, uploads); err != nil {
			return err
		}
		return tx.SetChainHead(ctx, store.ChainHead{TenantID: ten.ID, Seq: n, Hash: events[n-1].Hash})
	})
	var seqs []int64
	if err := s.WalkConsentEvents(ctx, ten.ID, func(e *store.ConsentEvent) error {
		seqs = append(seqs, e.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != n || seqs[0] != 1 || seqs[n-1] != n {
		t.Errorf("walked %d events, want %d in order", len(seqs), n)
	}
	if raw, ok := s.(rawDB); ok {
		var count int64
		if err := raw.DB().Model(&store.IYSUpload{}).Where("tenant_id = ?", ten.ID).Count(&count).Error; err != nil {
			t.Fatal(err)
		}
		if count != n {
			t.Errorf("%d İYS uploads stored, want %d", count, n)
		}
	}
}
