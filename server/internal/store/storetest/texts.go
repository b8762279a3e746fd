package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testTexts(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"Versions", testTextVersions},
		{"CurrentAndAll", testTextCurrentAndAll},
		{"ByIDsIsTenantScoped", testTextsByIDs},
		{"AppendOnly", testTextsAppendOnly},
		{"ConcurrentPublish", testTextsConcurrentPublish},
	})
}

// consentText is a text to publish; the store assigns the version.
func consentText(ten store.Tenant, b store.Brand, kind store.TextKind, lang, body string, created time.Time) *store.ConsentText {
	return &store.ConsentText{
		ID:        uuid.NewString(),
		TenantID:  ten.ID,
		BrandID:   b.ID,
		Kind:      kind,
		Language:  lang,
		Title:     "Başlık",
		Body:      body,
		SHA256:    fmt.Sprintf("%064x", len(body)),
		CreatedAt: created,
	}
}

func publishText(t *testing.T, s store.Store, c *store.ConsentText) *store.ConsentText {
	t.Helper()
	if err := s.CreateConsentText(t.Context(), c); err != nil {
		t.Fatalf("CreateConsentText: %v", err)
	}
	return c
}

// Versions count 1, 2, 3 per tenant, brand, kind and language, and a text
// reads back exactly as written.
func testTextVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	b2 := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "100002", Name: "Outlet", Sender: "OUTLET", CreatedAt: base}
	if err := s.CreateBrand(ctx, &b2); err != nil {
		t.Fatal(err)
	}
	other, ob := newTenant(t, s)

	var etk []*store.ConsentText
	for i := 1; i <= 3; i++ {
		c := publishText(t, s, consentText(ten, b, store.TextETK, "tr", fmt.Sprintf("Sürüm %d\n\nİkinci paragraf.", i), at(time.Duration(i)*time.Second)))
		if c.Version != i {
			t.Fatalf("publish %d: version %d", i, c.Version)
		}
		etk = append(etk, c)
	}
	for _, c := range []*store.ConsentText{
		consentText(ten, b, store.TextETK, "en", "English", base),
		consentText(ten, b, store.TextPrivacy, "tr", "Aydınlatma", base),
		consentText(ten, b2, store.TextETK, "tr", "Outlet", base),
		consentText(other, ob, store.TextETK, "tr", "Başka kiracı", base),
	} {
		if publishText(t, s, c).Version != 1 {
			t.Errorf("first %d/%s of brand %s: version %d, want 1", c.Kind, c.Language, c.BrandID, c.Version)
		}
	}

	got, err := s.ConsentTexts(ctx, ten.ID, []string{etk[0].ID, etk[1].ID, etk[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("ConsentTexts: %d texts, want 3", len(got))
	}
	for i := range got {
		same(t, fmt.Sprintf("version %d", i+1), got[i], *etk[i])
	}

	// The same id twice is a conflict, not a second row.
	dup := consentText(ten, b, store.TextExplicit, "tr", "Açık rıza", base)
	publishText(t, s, dup)
	again := *dup
	wantErr(t, "CreateConsentText(same id)", s.CreateConsentText(ctx, &again), store.ErrConflict)
}

func testTextCurrentAndAll(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	b2 := store.Brand{ID: uuid.NewString(), TenantID: ten.ID, Code: "100002", Name: "Outlet", Sender: "OUTLET", CreatedAt: base}
	if err := s.CreateBrand(ctx, &b2); err != nil {
		t.Fatal(err)
	}
	other, ob := newTenant(t, s)
	publishText(t, s, consentText(other, ob, store.TextETK, "tr", "Başka kiracı", base))

	newest := map[string]*store.ConsentText{}
	var all []*store.ConsentText
	for _, c := range []*store.ConsentText{
		consentText(ten, b, store.TextETK, "tr", "v1", at(1*time.Second)),
		consentText(ten, b, store.TextETK, "tr", "v2", at(2*time.Second)),
		consentText(ten, b, store.TextETK, "en", "en v1", at(3*time.Second)),
		consentText(ten, b, store.TextPrivacy, "tr", "p v1", at(4*time.Second)),
		consentText(ten, b, store.TextPrivacy, "tr", "p v2", at(5*time.Second)),
		consentText(ten, b, store.TextPrivacy, "tr", "p v3", at(6*time.Second)),
		consentText(ten, b2, store.TextETK, "tr", "outlet v1", at(7*time.Second)),
		consentText(ten, b, store.TextETK, "tr", "v3", at(8*time.Second)),
	} {
		publishText(t, s, c)
		all = append(all, c)
		newest[fmt.Sprintf("%s/%d/%s", c.BrandID, c.Kind, c.Language)] = c
	}

	current := func(f store.ConsentTextFilter) []store.ConsentText {
		t.Helper()
		got, err := s.ListConsentTexts(ctx, f)
		if err != nil {
			t.Fatalf("ListConsentTexts(%+v): %v", f, err)
		}
		return got
	}

	// Current: one per brand, kind and language, the newest.
	cur := current(store.ConsentTextFilter{TenantID: ten.ID})
	if len(cur) != len(newest) {
		t.Fatalf("current: %d texts, want %d", len(cur), len(newest))
	}
	for _, c := range cur {
		want := newest[fmt.Sprintf("%s/%d/%s", c.BrandID, c.Kind, c.Language)]
		if want == nil {
			t.Fatalf("current lists %s, which is not ours", c.ID)
		}
		same(t, "current "+c.Body, c, *want)
	}

	// Every version, newest first within each brand, kind and language.
	every := current(store.ConsentTextFilter{TenantID: ten.ID, AllVersions: true})
	if len(every) != len(all) {
		t.Fatalf("all versions: %d texts, want %d", len(every), len(all))
	}
	for i := 1; i < len(every); i++ {
		p, c := every[i-1], every[i]
		if p.BrandID == c.BrandID && p.Kind == c.Kind && p.Language == c.Language && p.Version <= c.Version {
			t.Errorf("version %d listed before version %d", p.Version, c.Version)
		}
	}

	// One brand.
	outlet := current(store.ConsentTextFilter{TenantID: ten.ID, BrandID: b2.ID, AllVersions: true})
	if len(outlet) != 1 || outlet[0].Body != "outlet v1" {
		t.Fatalf("brand filter: %+v", outlet)
	}
	mine := current(store.ConsentTextFilter{TenantID: ten.ID, BrandID: b.ID})
	if got := ids(mine, func(c *store.ConsentText) string { return c.Body }); !slices.Equal(sorted(got), []string{"en v1", "p v3", "v3"}) {
		t.Fatalf("current of the main brand: %v", got)
	}
	// Another tenant's brand id does not reach across tenants.
	if got := current(store.ConsentTextFilter{TenantID: ten.ID, BrandID: ob.ID, AllVersions: true}); len(got) != 0 {
		t.Fatalf("another tenant's brand listed %d texts", len(got))
	}
	if got := current(store.ConsentTextFilter{TenantID: uuid.NewString()}); len(got) != 0 {
		t.Fatalf("an unknown tenant listed %d texts", len(got))
	}
}

// ConsentTexts finds only the tenant's own texts; unknown ids are left out.
func testTextsByIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	other, ob := newTenant(t, s)
	mine := publishText(t, s, consentText(ten, b, store.TextETK, "tr", "benim", base))
	theirs := publishText(t, s, consentText(other, ob, store.TextETK, "tr", "onların", base))

	got, err := s.ConsentTexts(ctx, ten.ID, []string{mine.ID, theirs.ID, uuid.NewString()})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != mine.ID {
		t.Fatalf("ConsentTexts: %v, want only %s", ids(got, func(c *store.ConsentText) string { return c.ID }), mine.ID)
	}
	got, err = s.ConsentTexts(ctx, ten.ID, []string{theirs.ID})
	if err != nil || len(got) != 0 {
		t.Fatalf("another tenant's text by id: %+v %v", got, err)
	}
	got, err = s.ConsentTexts(ctx, ten.ID, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("no ids: %+v %v", got, err)
	}
}

// The database itself refuses to change or remove a published version.
func testTextsAppendOnly(t *testing.T, s store.Store) {
	raw, ok := s.(rawDB)
	if !ok {
		t.Skip("store does not expose its database handle")
	}
	ctx := t.Context()
	ten, b := newTenant(t, s)
	c := publishText(t, s, consentText(ten, b, store.TextETK, "tr", "Yayımlanan metin", base))

	for _, tc := range []struct{ name, sql string }{
		{"update of the body", "UPDATE consent_texts SET body = 'değiştirilmiş' WHERE id = ?"},
		{"update of the hash", "UPDATE consent_texts SET sha256 = 'forged' WHERE id = ?"},
		{"update of the version", "UPDATE consent_texts SET version = 7 WHERE id = ?"},
		{"delete", "DELETE FROM consent_texts WHERE id = ?"},
	} {
		if err := raw.DB().WithContext(ctx).Exec(tc.sql, c.ID).Error; err == nil {
			t.Errorf("%s of a consent text succeeded", tc.name)
		}
	}
	if err := raw.DB().WithContext(ctx).Exec("DELETE FROM consent_texts").Error; err == nil {
		t.Error("deleting every consent text succeeded")
	}
	got, err := s.ConsentTexts(ctx, ten.ID, []string{c.ID})
	if err != nil || len(got) != 1 {
		t.Fatalf("the text after the refused changes: %+v %v", got, err)
	}
	same(t, "text after refused changes", got[0], *c)
}

// Publishers racing for the same brand, kind and language never share a
// version: each gets the next one or ErrConflict, and the versions written
// are 1..n without a gap.
func testTextsConcurrentPublish(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	const n = 8
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- s.CreateConsentText(ctx, consentText(ten, b, store.TextETK, "tr", fmt.Sprintf("yayıncı %d", i), base))
		}()
	}
	wg.Wait()
	close(errc)
	ok := 0
	for err := range errc {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("concurrent publish: %v, want success or ErrConflict", err)
		}
	}
	got, err := s.ListConsentTexts(ctx, store.ConsentTextFilter{TenantID: ten.ID, AllVersions: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != ok || ok == 0 {
		t.Fatalf("%d texts written, %d publishes succeeded", len(got), ok)
	}
	for i, c := range got {
		if c.Version != ok-i {
			t.Fatalf("versions %v, want %d down to 1", ids(got, func(c *store.ConsentText) string { return fmt.Sprint(c.Version) }), ok)
		}
	}
}
