package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/texts"
)

// A new tenant's default brand, and every brand added later, start with
// version 1 of the six default texts, so the consent page works at once.
func TestCreateTenantSeedsTexts(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	svc := tenancy.New(st, nil, time.Minute)
	c, err := svc.CreateTenant(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	checkSeeded(t, st, c.Tenant, c.Brand)

	b, err := svc.CreateBrand(ctx, c.Tenant.ID, store.Brand{Code: "OUTLET", Name: "Acme Outlet", Sender: "OUTLET"})
	if err != nil {
		t.Fatal(err)
	}
	checkSeeded(t, st, c.Tenant, b)

	all, err := st.ListConsentTexts(ctx, store.ConsentTextFilter{TenantID: c.Tenant.ID, AllVersions: true})
	if err != nil || len(all) != 12 {
		t.Fatalf("the tenant has %d texts (%v), want 6 per brand", len(all), err)
	}
	// A refused brand publishes nothing.
	if _, err := svc.CreateBrand(ctx, c.Tenant.ID, store.Brand{Code: "OUTLET", Name: "x", Sender: "X1"}); err == nil {
		t.Fatal("duplicate brand created")
	}
	if all, _ = st.ListConsentTexts(ctx, store.ConsentTextFilter{TenantID: c.Tenant.ID, AllVersions: true}); len(all) != 12 {
		t.Fatalf("a refused brand left texts: %d", len(all))
	}
}

func checkSeeded(t *testing.T, st store.Store, ten *store.Tenant, b *store.Brand) {
	t.Helper()
	got, err := st.ListConsentTexts(context.Background(), store.ConsentTextFilter{TenantID: ten.ID, BrandID: b.ID, AllVersions: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("brand %s has %d texts, want 6", b.Code, len(got))
	}
	seen := map[string]bool{}
	for _, c := range got {
		key := texts.KindName(c.Kind) + "/" + c.Language
		seen[key] = true
		if c.Version != 1 || c.SHA256 != texts.Hash(c.Title, c.Body) {
			t.Errorf("%s: version %d, sha256 %s", key, c.Version, c.SHA256)
		}
		for _, want := range []string{ten.Name, ten.Mersis, b.Name} {
			if !strings.Contains(c.Body, want) {
				t.Errorf("%s of brand %s does not name %q", key, b.Code, want)
			}
		}
	}
	for _, k := range store.TextKinds {
		for _, lang := range texts.Languages {
			if !seen[texts.KindName(k)+"/"+lang] {
				t.Errorf("brand %s lacks %s/%s", b.Code, texts.KindName(k), lang)
			}
		}
	}
}

// noTexts is a store that cannot publish texts.
type noTexts struct{ *sqlstore.Store }

func (noTexts) CreateConsentText(context.Context, *store.ConsentText) error {
	return errors.New("consent_texts: disk full")
}

// When the texts cannot be published, creating the tenant or brand says so.
func TestCreateTenantTextSeedFailure(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	c, err := tenancy.New(st, nil, time.Minute).CreateTenant(ctx, valid())
	if err != nil {
		t.Fatal(err)
	}
	svc := tenancy.New(noTexts{st}, nil, time.Minute)
	if _, err := svc.CreateTenant(ctx, valid()); !isKind(err, errs.KindInternal) {
		t.Fatalf("CreateTenant with failing texts: %v", err)
	}
	if _, err := svc.CreateBrand(ctx, c.Tenant.ID, store.Brand{Code: "OUTLET", Name: "Outlet", Sender: "OUTLET"}); !isKind(err, errs.KindInternal) {
		t.Fatalf("CreateBrand with failing texts: %v", err)
	}
}
