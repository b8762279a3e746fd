package tenancy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/tenancy"
)

func open(t *testing.T) *sqlstore.Store { return sqlitetest.Open(t) }

func valid() tenancy.NewTenant {
	return tenancy.NewTenant{Name: "Acme A.Ş.", Mersis: "0123456789012345", IYSCode: "654321",
		Brand: store.Brand{Code: "ACME", Name: "Acme", Sender: "ACME"}}
}

func TestCreateTenantValidation(t *testing.T) {
	svc := tenancy.New(open(t), nil, time.Minute)
	tests := []struct {
		name  string
		edit  func(*tenancy.NewTenant)
		field string
	}{
		{"empty name", func(n *tenancy.NewTenant) { n.Name = " " }, "name"},
		{"short MERSIS", func(n *tenancy.NewTenant) { n.Mersis = "12345" }, "mersis"},
		{"letters in MERSIS", func(n *tenancy.NewTenant) { n.Mersis = "01234567890123ab" }, "mersis"},
		{"letters in İYS code", func(n *tenancy.NewTenant) { n.IYSCode = "abc" }, "iys_code"},
		{"brand code with spaces", func(n *tenancy.NewTenant) { n.Brand.Code = "A B" }, "brand.code"},
		{"sender too long", func(n *tenancy.NewTenant) { n.Brand.Sender = "ACMEMARKET12" }, "brand.sender"},
		{"sender with Turkish letters", func(n *tenancy.NewTenant) { n.Brand.Sender = "ŞEKER" }, "brand.sender"},
		{"reject route too long for one SMS", func(n *tenancy.NewTenant) {
			n.Brand.RejectRoute = "Ret için " + strings.Repeat("çok uzun bir açıklama ", 4)
		}, "brand.reject_route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			_, err := svc.CreateTenant(context.Background(), in)
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.KindInvalid || e.Field != tt.field {
				t.Fatalf("got %v, want an invalid %s", err, tt.field)
			}
		})
	}
	c, err := svc.CreateTenant(context.Background(), valid())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.AdminKey, auth.KeyPrefix) || c.KeyInfo.Scope != store.ScopeAdmin || !c.Brand.IsDefault {
		t.Fatalf("created %+v", c)
	}
	if c.KeyInfo.Hash == c.AdminKey || c.KeyInfo.Hash != auth.HashKey(c.AdminKey) {
		t.Fatal("the key must be stored as its hash only")
	}
}

func TestBrandsAndKeys(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	authn := auth.NewAuthenticator(st, time.Hour)
	svc := tenancy.New(st, authn, time.Hour)
	a, err := svc.CreateTenant(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.CreateTenant(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	// Brands resolve by code, the default by "", and never across tenants.
	if _, err := svc.CreateBrand(ctx, a.Tenant.ID, store.Brand{Code: "OUTLET", Name: "Outlet", Sender: "OUTLET"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateBrand(ctx, a.Tenant.ID, store.Brand{Code: "OUTLET", Name: "x", Sender: "X1"}); !isKind(err, errs.KindAlreadyExists) {
		t.Fatalf("duplicate brand: %v", err)
	}
	if got, err := svc.Brand(ctx, a.Tenant.ID, "OUTLET"); err != nil || got.Sender != "OUTLET" {
		t.Fatalf("brand: %+v %v", got, err)
	}
	if got, err := svc.Brand(ctx, a.Tenant.ID, ""); err != nil || got.Code != "ACME" {
		t.Fatalf("default brand: %+v %v", got, err)
	}
	if _, err := svc.Brand(ctx, b.Tenant.ID, "OUTLET"); !isKind(err, errs.KindInvalid) {
		t.Fatalf("another tenant's brand resolved: %v", err)
	}
	// Source keys carry the source; revocation takes effect at once.
	src, secret, _, err := svc.CreateSource(ctx, a.Tenant.ID, "Kiosk 1", store.SourceKiosk)
	if err != nil {
		t.Fatal(err)
	}
	p, err := authn.Authenticate(ctx, secret)
	if err != nil || p.TenantID != a.Tenant.ID || p.SourceID == nil || *p.SourceID != src.ID ||
		p.SourceType != store.SourceKiosk || !p.Allows(store.ScopeWrite) || p.Allows(store.ScopeAdmin) {
		t.Fatalf("principal %+v %v", p, err)
	}
	if _, _, err := svc.CreateAPIKey(ctx, b.Tenant.ID, "x", store.ScopeCheck, src.ID); !isKind(err, errs.KindInvalid) {
		t.Fatalf("a key bound to another tenant's source: %v", err)
	}
	if _, err := svc.RevokeAPIKey(ctx, b.Tenant.ID, p.KeyID); !isKind(err, errs.KindNotFound) {
		t.Fatalf("another tenant revoked the key: %v", err)
	}
	if _, err := svc.RevokeAPIKey(ctx, a.Tenant.ID, p.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := authn.Authenticate(ctx, secret); !isKind(err, errs.KindUnauthenticated) {
		t.Fatalf("revoked key still works: %v", err)
	}
	for _, bad := range []string{"", "izin_", "nope", auth.KeyPrefix + strings.Repeat("a", 200)} {
		if _, err := authn.Authenticate(ctx, bad); !isKind(err, errs.KindUnauthenticated) {
			t.Fatalf("key %q: %v", bad, err)
		}
	}
}

func isKind(err error, k errs.Kind) bool {
	e, ok := errs.As(err)
	return ok && e.Kind == k
}

// The tenant's last admin key cannot be revoked, even by parallel revokes
// of the last two: the tenant would be locked out of its administration.
func TestLastAdminKeyStays(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	svc := tenancy.New(st, auth.NewAuthenticator(st, time.Hour), time.Hour)
	a, err := svc.CreateTenant(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeAPIKey(ctx, a.Tenant.ID, a.KeyInfo.ID); !isKind(err, errs.KindFailedPrecondition) {
		t.Fatalf("revoking the only admin key: %v", err)
	}
	_, second, err := svc.CreateAPIKey(ctx, a.Tenant.ID, "second admin", store.ScopeAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	// Both at once: exactly one may pass.
	errc := make(chan error, 2)
	for _, id := range []string{a.KeyInfo.ID, second.ID} {
		go func() { _, err := svc.RevokeAPIKey(ctx, a.Tenant.ID, id); errc <- err }()
	}
	ok := 0
	for range 2 {
		if err := <-errc; err == nil {
			ok++
		} else if !isKind(err, errs.KindFailedPrecondition) {
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of the last two admin keys revoked, want 1", ok)
	}
	// Other keys are revoked as before.
	_, check, err := svc.CreateAPIKey(ctx, a.Tenant.ID, "reports", store.ScopeCheck, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeAPIKey(ctx, a.Tenant.ID, check.ID); err != nil {
		t.Fatal(err)
	}
}
