package texts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/texts"
)

var clock = time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC)

func now() time.Time { return clock }

// fixture is a store with a tenant whose brands have no texts yet (made
// through the store, not tenancy, which would seed the defaults).
type fixture struct {
	st     *sqlstore.Store
	dir    *tenancy.Service
	svc    *texts.Service
	tenant store.Tenant
	brand  store.Brand // the default brand
	p      auth.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := sqlitetest.Open(t)
	f := &fixture{st: st, dir: tenancy.New(st, nil, time.Minute)}
	f.svc = texts.New(st, f.dir, now)
	f.tenant, f.brand = addTenant(t, st, "ACME")
	f.p = auth.Principal{TenantID: f.tenant.ID, Scope: store.ScopeAdmin}
	return f
}

func addTenant(t *testing.T, st store.Store, brandCode string) (store.Tenant, store.Brand) {
	t.Helper()
	ten := store.Tenant{ID: uuid.NewString(), Name: "Acme Mağazacılık A.Ş.", Mersis: "0123456789012345",
		CreatedAt: clock, TenantSettings: store.DefaultTenantSettings()}
	b := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: brandCode, Name: "Acme", Sender: "ACME",
		IsDefault: true, CreatedAt: clock}
	if err := st.CreateTenant(context.Background(), &ten, &b); err != nil {
		t.Fatal(err)
	}
	return ten, b
}

func addBrand(t *testing.T, st store.Store, tenantID, code string) store.Brand {
	t.Helper()
	b := store.Brand{ID: uuid.NewString(), TenantID: tenantID, Code: code, Name: code, Sender: code, CreatedAt: clock}
	if err := st.CreateBrand(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func valid() texts.NewText {
	return texts.NewText{Kind: store.TextETK, Language: "tr", Title: "Ticari Elektronik İleti Onayı",
		Body: "Onay veriyorum.\n\nDilediğim zaman geri alabilirim."}
}

func isKind(err error, k errs.Kind) bool {
	e, ok := errs.As(err)
	return ok && e.Kind == k
}

func TestTextCreateValidation(t *testing.T) {
	f := newFixture(t)
	other, _ := addTenant(t, f.st, "OTHER")
	addBrand(t, f.st, other.ID, "OTHERS")
	tests := []struct {
		name  string
		edit  func(*texts.NewText)
		field string
	}{
		{"no kind", func(n *texts.NewText) { n.Kind = 0 }, "kind"},
		{"unknown kind", func(n *texts.NewText) { n.Kind = 9 }, "kind"},
		{"no language", func(n *texts.NewText) { n.Language = "" }, "language"},
		{"German", func(n *texts.NewText) { n.Language = "de" }, "language"},
		{"language with region", func(n *texts.NewText) { n.Language = "tr-TR" }, "language"},
		{"empty title", func(n *texts.NewText) { n.Title = "" }, "title"},
		{"blank title", func(n *texts.NewText) { n.Title = " \t " }, "title"},
		{"title of two lines", func(n *texts.NewText) { n.Title = "Onay\nMetni" }, "title"},
		{"title too long", func(n *texts.NewText) { n.Title = strings.Repeat("ş", texts.MaxTitle+1) }, "title"},
		{"empty body", func(n *texts.NewText) { n.Body = "" }, "body"},
		{"only blank lines", func(n *texts.NewText) { n.Body = "\r\n  \n\t\n" }, "body"},
		{"body too long", func(n *texts.NewText) { n.Body = strings.Repeat("ı", texts.MaxBody+1) }, "body"},
		{"NUL in body", func(n *texts.NewText) { n.Body = "Onay\x00veriyorum" }, "body"},
		{"invalid UTF-8", func(n *texts.NewText) { n.Body = "Onay \xff" }, "body"},
		{"unknown brand", func(n *texts.NewText) { n.Brand = "NOPE" }, "brand"},
		{"another tenant's brand", func(n *texts.NewText) { n.Brand = "OTHERS" }, "brand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			_, err := f.svc.Create(context.Background(), f.p, in)
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.KindInvalid || e.Field != tt.field {
				t.Fatalf("got %v, want an invalid %s", err, tt.field)
			}
		})
	}
	// At the limits it is accepted, counted in characters, not bytes.
	in := valid()
	in.Title, in.Body = strings.Repeat("ş", texts.MaxTitle), strings.Repeat("ı", texts.MaxBody)
	if _, err := f.svc.Create(context.Background(), f.p, in); err != nil {
		t.Fatalf("a text at the limits: %v", err)
	}
	// Nothing refused was written.
	all, err := f.st.ListConsentTexts(context.Background(), store.ConsentTextFilter{TenantID: f.tenant.ID, AllVersions: true})
	if err != nil || len(all) != 1 {
		t.Fatalf("%d texts written (%v), want the one valid text", len(all), err)
	}
}

func TestTextNormalisationAndHash(t *testing.T) {
	f := newFixture(t)
	got, err := f.svc.Create(context.Background(), f.p, texts.NewText{Kind: store.TextPrivacy, Language: " TR ",
		Title: "  Başlık \t", Body: "\r\n \r\nBir.  \r\n\r\nİki.\t \r\n\r\n\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Başlık" || got.Body != "Bir.\n\nİki." || got.Language != "tr" {
		t.Fatalf("stored title %q, body %q, language %q", got.Title, got.Body, got.Language)
	}
	// The rule the API documents: hex SHA-256 of title, "\n", body.
	const want = "bc2ab32d7f3a7029c4542c2446707155b87656b46e1abfd5e68279ca0ea592c5"
	if got.SHA256 != want || texts.Hash("Başlık", "Bir.\n\nİki.") != want {
		t.Fatalf("sha256 %s, want %s", got.SHA256, want)
	}
	if got.BrandCode != "ACME" || got.BrandID != f.brand.ID || got.TenantID != f.tenant.ID || got.Version != 1 {
		t.Fatalf("text %+v", got)
	}
	if !got.CreatedAt.Equal(clock.Truncate(time.Microsecond)) {
		t.Fatalf("created %s, want %s", got.CreatedAt, clock)
	}
	// Inner indentation and single line breaks stay: only trailing white
	// space and the blank lines around the body go.
	n, err := texts.Normalize(texts.NewText{Kind: store.TextETK, Language: "en", Title: "T", Body: "  a\n    b  \n\n\n c"})
	if err != nil || n.Body != "  a\n    b\n\n\n c" {
		t.Fatalf("Normalize: %q %v", n.Body, err)
	}
}

func TestTextVersions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	outlet := addBrand(t, f.st, f.tenant.ID, "OUTLET")
	var ids []string
	for i := 1; i <= 3; i++ {
		in := valid()
		in.Body = fmt.Sprintf("Sürüm %d.", i)
		got, err := f.svc.Create(ctx, f.p, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != i {
			t.Fatalf("publish %d: version %d", i, got.Version)
		}
		ids = append(ids, got.ID)
	}
	// Each brand, kind and language counts on its own.
	for _, in := range []texts.NewText{
		{Kind: store.TextETK, Language: "en", Title: "Consent", Body: "I consent."},
		{Kind: store.TextPrivacy, Language: "tr", Title: "Aydınlatma", Body: "Metin."},
		{Brand: "OUTLET", Kind: store.TextETK, Language: "tr", Title: "Onay", Body: "Outlet onayı."},
	} {
		got, err := f.svc.Create(ctx, f.p, in)
		if err != nil || got.Version != 1 {
			t.Fatalf("first %v/%s of %q: version %v, %v", in.Kind, in.Language, in.Brand, got, err)
		}
	}

	cur, err := f.svc.List(ctx, f.p, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 4 {
		t.Fatalf("current texts: %d, want 4 (ACME etk/tr, etk/en, privacy/tr; OUTLET etk/tr)", len(cur))
	}
	for _, c := range cur {
		if c.BrandCode == "ACME" && c.Kind == store.TextETK && c.Language == "tr" && (c.Version != 3 || c.ID != ids[2]) {
			t.Errorf("current ACME etk/tr is version %d", c.Version)
		}
		if (c.BrandCode == "OUTLET") != (c.BrandID == outlet.ID) {
			t.Errorf("brand code %s for brand %s", c.BrandCode, c.BrandID)
		}
	}
	all, err := f.svc.List(ctx, f.p, "ACME", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("every ACME version: %d, want 5", len(all))
	}
	only, err := f.svc.List(ctx, f.p, "OUTLET", false)
	if err != nil || len(only) != 1 || only[0].BrandCode != "OUTLET" {
		t.Fatalf("OUTLET texts: %+v %v", only, err)
	}

	// Current is the newest per kind and language; every version stays
	// readable by id.
	m, err := f.svc.Current(ctx, f.tenant.ID, f.brand.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m[store.TextETK]["tr"].ID != ids[2] || m[store.TextETK]["en"].Version != 1 || m[store.TextPrivacy]["tr"].Version != 1 {
		t.Fatalf("current: %+v", m)
	}
	if _, ok := m[store.TextExplicit]; ok {
		t.Fatal("current has an explicit-consent text nobody published")
	}
	for i, id := range ids {
		got, err := f.svc.Get(ctx, f.p, id)
		if err != nil || got.Version != i+1 || got.Body != fmt.Sprintf("Sürüm %d.", i+1) || got.BrandCode != "ACME" {
			t.Fatalf("Get(version %d): %+v %v", i+1, got, err)
		}
	}
}

func TestTextRequire(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	m, err := f.svc.Current(ctx, f.tenant.ID, f.brand.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = texts.Require(m, "tr")
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindFailedPrecondition || e.Reason != errs.ReasonConsentTextMissing ||
		e.Metadata["kind"] != "etk" || e.Metadata["language"] != "tr" {
		t.Fatalf("a brand without texts: %v (%+v)", err, e)
	}
	for _, k := range []store.TextKind{store.TextETK, store.TextPrivacy} {
		in := valid()
		in.Kind = k
		if _, err := f.svc.Create(ctx, f.p, in); err != nil {
			t.Fatal(err)
		}
	}
	m, _ = f.svc.Current(ctx, f.tenant.ID, f.brand.ID)
	if e, _ := errs.As(texts.Require(m, "tr")); e == nil || e.Metadata["kind"] != "explicit_consent" {
		t.Fatalf("explicit consent missing: %v", e)
	}
	in := valid()
	in.Kind = store.TextExplicit
	if _, err := f.svc.Create(ctx, f.p, in); err != nil {
		t.Fatal(err)
	}
	m, _ = f.svc.Current(ctx, f.tenant.ID, f.brand.ID)
	if err := texts.Require(m, "tr"); err != nil {
		t.Fatalf("every Turkish text is there: %v", err)
	}
	if e, _ := errs.As(texts.Require(m, "en")); e == nil || e.Metadata["language"] != "en" {
		t.Fatalf("no English texts: %v", e)
	}
}

func TestTextTenantIsolation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a, err := f.svc.Create(ctx, f.p, valid())
	if err != nil {
		t.Fatal(err)
	}
	otherTenant, otherBrand := addTenant(t, f.st, "ACME") // the same brand code, another tenant
	q := auth.Principal{TenantID: otherTenant.ID, Scope: store.ScopeAdmin}

	if _, err := f.svc.Get(ctx, q, a.ID); !isKind(err, errs.KindNotFound) {
		t.Fatalf("another tenant's text by id: %v", err)
	}
	if _, err := f.svc.Get(ctx, f.p, uuid.NewString()); !isKind(err, errs.KindNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := f.svc.Get(ctx, f.p, "not-a-uuid"); !isKind(err, errs.KindInvalid) {
		t.Fatalf("malformed id: %v", err)
	}
	for _, all := range []bool{false, true} {
		for _, brand := range []string{"", "ACME"} {
			got, err := f.svc.List(ctx, q, brand, all)
			if err != nil || len(got) != 0 {
				t.Fatalf("other tenant List(%q, %v): %+v %v", brand, all, got, err)
			}
		}
	}
	m, err := f.svc.Current(ctx, otherTenant.ID, f.brand.ID)
	if err != nil || len(m) != 0 {
		t.Fatalf("Current of another tenant's brand: %+v %v", m, err)
	}
	// The other tenant's own ACME text is its own version 1.
	b, err := f.svc.Create(ctx, q, valid())
	if err != nil || b.Version != 1 || b.BrandID != otherBrand.ID {
		t.Fatalf("other tenant's first text: %+v %v", b, err)
	}
}

// flaky fails CreateConsentText with err for the first fails calls.
type flaky struct {
	*sqlstore.Store
	fails int32
	err   error
	calls atomic.Int32
}

func (s *flaky) CreateConsentText(ctx context.Context, t *store.ConsentText) error {
	if s.calls.Add(1) <= s.fails {
		return s.err
	}
	return s.Store.CreateConsentText(ctx, t)
}

func TestTextConflictRetry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	conflict := fmt.Errorf("%w: consent_texts version", store.ErrConflict)
	for _, tc := range []struct {
		name  string
		fails int32
		err   error
		want  errs.Kind // -1: success
		calls int32
	}{
		{"one conflict is retried", 1, conflict, -1, 2},
		{"two conflicts give up", 2, conflict, errs.KindUnavailable, 2},
		{"other errors are not retried", 1, errors.New("disk full"), errs.KindInternal, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &flaky{Store: f.st, fails: tc.fails, err: tc.err}
			svc := texts.New(st, f.dir, now)
			got, err := svc.Create(ctx, f.p, valid())
			if tc.want < 0 {
				if err != nil || got.Version < 1 {
					t.Fatalf("got %+v %v, want success", got, err)
				}
			} else if !isKind(err, tc.want) {
				t.Fatalf("got %v, want kind %v", err, tc.want)
			}
			if n := st.calls.Load(); n != tc.calls {
				t.Fatalf("%d publish attempts, want %d", n, tc.calls)
			}
		})
	}
}

// Concurrent publishers all succeed, each with its own version.
func TestTextConcurrentPublish(t *testing.T) {
	f := newFixture(t)
	const n = 4
	errc := make(chan error, n)
	versions := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			got, err := f.svc.Create(context.Background(), f.p, valid())
			if err == nil {
				versions <- got.Version
			}
			errc <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && !isKind(err, errs.KindUnavailable) {
			t.Fatal(err)
		}
	}
	close(versions)
	seen := map[int]bool{}
	for v := range versions {
		if seen[v] {
			t.Fatalf("version %d published twice", v)
		}
		seen[v] = true
	}
}

func TestTextKindNames(t *testing.T) {
	for _, k := range store.TextKinds {
		for _, name := range []string{texts.KindName(k), texts.RefName(k), strings.ToUpper(texts.KindName(k))} {
			if got, ok := texts.ParseKind(name); !ok || got != k {
				t.Errorf("ParseKind(%q) = %v, %v; want %v", name, got, ok, k)
			}
		}
	}
	if _, ok := texts.ParseKind("kvkk"); ok {
		t.Error(`ParseKind("kvkk") succeeded`)
	}
}
