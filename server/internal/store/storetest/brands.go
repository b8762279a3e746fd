package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testBrandUpdates(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"Update", testUpdateBrand},
		{"UpdateIsTenantScoped", testUpdateBrandTenantScoped},
	})
}

// listBrands is ListBrands that fails the test on an error.
func listBrands(t *testing.T, s store.Store, tenantID string) []store.Brand {
	t.Helper()
	bs, err := s.ListBrands(t.Context(), tenantID)
	if err != nil {
		t.Fatalf("ListBrands: %v", err)
	}
	return bs
}

func testUpdateBrand(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, def := newTenant(t, s)
	second := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "100002", Name: "Outlet",
		Sender: "OUTLET", RejectRoute: "RET OUTLET 4455", CreatedAt: at(time.Minute)}
	if err := s.CreateBrand(ctx, &second); err != nil {
		t.Fatalf("CreateBrand: %v", err)
	}

	for _, tc := range []struct {
		name string
		edit func(b *store.Brand)
	}{
		{"every mutable field", func(b *store.Brand) {
			b.Name, b.Sender, b.RejectRoute = "Outlet Mağaza", "OUTLETMGZ", "RET OUTLETMGZ 3338"
		}},
		{"reject route back to the default", func(b *store.Brand) { b.RejectRoute = "" }},
		// Writing what is there is no error: a row that matched counts.
		{"nothing changed", func(*store.Brand) {}},
	} {
		want := listBrands(t, s, ten.ID)[1]
		tc.edit(&want)
		// Code, default flag and creation time are not the update's to change.
		in := want
		in.Code, in.IsDefault, in.CreatedAt = "999999", true, at(time.Hour)
		if err := s.UpdateBrand(ctx, &in); err != nil {
			t.Fatalf("UpdateBrand(%s): %v", tc.name, err)
		}
		same(t, "ListBrands after UpdateBrand("+tc.name+")", listBrands(t, s, ten.ID), []store.Brand{def, want})
	}

	missing := second
	missing.ID = uuid.NewString()
	wantErr(t, "UpdateBrand(unknown id)", s.UpdateBrand(ctx, &missing), store.ErrNotFound)
}

// A tenant cannot change another tenant's brand, even knowing its id.
func testUpdateBrandTenantScoped(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, otherDef := newTenant(t, s)

	in := b
	in.TenantID, in.Name, in.Sender = other.ID, "Stolen", "STOLEN"
	wantErr(t, "UpdateBrand(another tenant's brand)", s.UpdateBrand(ctx, &in), store.ErrNotFound)
	same(t, "brands of the owner", listBrands(t, s, ten.ID), []store.Brand{b})
	same(t, "brands of the other tenant", listBrands(t, s, other.ID), []store.Brand{otherDef})
}
