package tenancy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

func str(s string) *string { return &s }

func TestUpdateBrand(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	// An hour-long cache: a change seen at once is the cache's invalidation.
	svc := tenancy.New(st, nil, time.Hour)
	c, err := svc.CreateTenant(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.CreateTenant(ctx, tenancy.NewTenant{Name: "Other A.Ş.", Mersis: "0123456789012346",
		Brand: store.Brand{Code: "OTHER", Name: "Other", Sender: "OTHER"}})
	if err != nil {
		t.Fatal(err)
	}
	orig := *c.Brand

	tests := []struct {
		name   string
		tenant string
		code   string
		update tenancy.BrandUpdate
		want   func(b *store.Brand) // the brand after; nil: refused
		kind   errs.Kind
		field  string
	}{
		{name: "name only", code: "ACME", update: tenancy.BrandUpdate{Name: str("  Acme Outlet ")},
			want: func(b *store.Brand) { b.Name = "Acme Outlet" }},
		{name: "sender only", code: "ACME", update: tenancy.BrandUpdate{Sender: str("ACME MGZ")},
			want: func(b *store.Brand) { b.Sender = "ACME MGZ" }},
		{name: "reject route set", code: "ACME", update: tenancy.BrandUpdate{RejectRoute: str("RET ACME 4455")},
			want: func(b *store.Brand) { b.RejectRoute = "RET ACME 4455" }},
		{name: "reject route back to default", code: "ACME", update: tenancy.BrandUpdate{RejectRoute: str("")},
			want: func(b *store.Brand) { b.RejectRoute = "" }},
		{name: "nothing given", code: "ACME", want: func(*store.Brand) {}},
		{name: "sender too long", code: "ACME", update: tenancy.BrandUpdate{Name: str("Kept out"), Sender: str("ACMEMARKET12")},
			kind: errs.KindInvalid, field: "brand.sender"},
		{name: "sender with Turkish letters", code: "ACME", update: tenancy.BrandUpdate{Sender: str("ŞEKER")},
			kind: errs.KindInvalid, field: "brand.sender"},
		{name: "empty name", code: "ACME", update: tenancy.BrandUpdate{Name: str(" ")},
			kind: errs.KindInvalid, field: "brand.name"},
		{name: "reject route too long for one SMS", code: "ACME",
			update: tenancy.BrandUpdate{RejectRoute: str("Ret için " + strings.Repeat("çok uzun bir açıklama ", 4))},
			kind:   errs.KindInvalid, field: "brand.reject_route"},
		{name: "unknown code", code: "NOPE", update: tenancy.BrandUpdate{Name: str("x")}, kind: errs.KindNotFound},
		{name: "another tenant's brand", code: "OTHER", update: tenancy.BrandUpdate{Name: str("Stolen")}, kind: errs.KindNotFound},
	}
	cur := orig
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Warm the cache, so a stale read would show.
			if _, err := svc.Brand(ctx, c.Tenant.ID, "ACME"); err != nil {
				t.Fatal(err)
			}
			got, err := svc.UpdateBrand(ctx, c.Tenant.ID, tt.code, tt.update)
			if tt.want == nil {
				e, ok := errs.As(err)
				if !ok || e.Kind != tt.kind || e.Field != tt.field {
					t.Fatalf("got %v, want a %v error on %q", err, tt.kind, tt.field)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				tt.want(&cur)
				if !sameBrand(*got, cur) {
					t.Errorf("UpdateBrand returned %+v, want %+v", *got, cur)
				}
			}
			cached, err := svc.Brand(ctx, c.Tenant.ID, "ACME")
			if err != nil {
				t.Fatal(err)
			}
			stored, err := st.ListBrands(ctx, c.Tenant.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameBrand(*cached, cur) || len(stored) != 1 || !sameBrand(stored[0], cur) {
				t.Errorf("after: cached %+v, stored %+v; want %+v", *cached, stored, cur)
			}
		})
	}
	if cur.ID != orig.ID || cur.Code != orig.Code || !cur.IsDefault || !cur.CreatedAt.Equal(orig.CreatedAt) {
		t.Errorf("identity changed: %+v, was %+v", cur, orig)
	}
	ob, err := st.ListBrands(ctx, other.Tenant.ID)
	if err != nil || len(ob) != 1 || ob[0].Name != "Other" {
		t.Errorf("other tenant's brands: %+v, %v", ob, err)
	}
}

// sameBrand compares brands, times as instants.
func sameBrand(a, b store.Brand) bool {
	ta, tb := a.CreatedAt, b.CreatedAt
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb)
}
