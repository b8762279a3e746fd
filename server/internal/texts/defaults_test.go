package texts_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/texts"
)

func TestTextDefaults(t *testing.T) {
	const company, brand, mersis = "Örnek Ticaret A.Ş.", "Örnek Market", "0987654321098765"
	ds := texts.Defaults(company, brand, mersis)
	if len(ds) != 6 {
		t.Fatalf("%d default texts, want 3 kinds × 2 languages", len(ds))
	}
	// Words per body: what a customer reads on a phone.
	words := map[store.TextKind][2]int{
		store.TextETK:      {80, 150},
		store.TextPrivacy:  {300, 540},
		store.TextExplicit: {80, 150},
	}
	markdown := regexp.MustCompile(`(?m)^\s*([#>*+-]|\d+\.)\s|\*\*|__|\]\(|^\s*\|`)
	seen := map[string]bool{}
	for _, d := range ds {
		name := texts.KindName(d.Kind) + "/" + d.Language
		seen[name] = true
		n, err := texts.Normalize(d)
		if err != nil {
			t.Errorf("%s does not validate: %v", name, err)
			continue
		}
		if n != d {
			t.Errorf("%s changes when normalised: stored text would differ from Defaults", name)
		}
		for _, want := range []string{company, brand, mersis} {
			if !strings.Contains(d.Body, want) {
				t.Errorf("%s does not name %q", name, want)
			}
		}
		if strings.ContainsAny(d.Body, "{}") {
			t.Errorf("%s has a placeholder left", name)
		}
		if m := markdown.FindString(d.Body); m != "" {
			t.Errorf("%s looks like Markdown at %q; the page shows plain text", name, m)
		}
		paras := strings.Split(d.Body, "\n\n")
		if len(paras) < 2 {
			t.Errorf("%s has %d paragraph(s); want blank lines between paragraphs", name, len(paras))
		}
		for _, p := range paras {
			if strings.TrimSpace(p) == "" || strings.Contains(p, "\n") {
				t.Errorf("%s: a paragraph is empty or broken across lines: %q", name, p)
			}
		}
		if w, lim := len(strings.Fields(d.Body)), words[d.Kind]; w < lim[0] || w > lim[1] {
			t.Errorf("%s has %d words, want %d–%d", name, w, lim[0], lim[1])
		}
	}
	if len(seen) != 6 {
		t.Fatalf("kinds and languages: %v", seen)
	}
	// What the law asks of each text, in either language.
	must := map[string][]string{
		"etk/tr":      {"6563", "ücretsiz", "İYS", "RET", "onay"},
		"etk/en":      {"6563", "free of charge", "İYS", "RET", "withdraw"},
		"privacy/tr":  {"6698", "veri sorumlusu", "İleti Yönetim Sistemi A.Ş.", "IP adresi", "m. 5", "m. 11", "üç yıl", "SMS"},
		"privacy/en":  {"6698", "data controller", "İleti Yönetim Sistemi A.Ş.", "IP address", "Art. 5", "Art. 11", "three years", "SMS"},
		"explicit/tr": {"isteğe bağlı", "geri alabilirim", "ticari elektronik ileti onayı", "profilleme"},
		"explicit/en": {"optional", "withdraw", "consenting to commercial electronic messages", "profiling"},
	}
	for _, d := range ds {
		name := texts.KindName(d.Kind) + "/" + d.Language
		for _, w := range must[name] {
			if !strings.Contains(d.Body, w) {
				t.Errorf("%s does not mention %q", name, w)
			}
		}
	}
}

func TestTextSeed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// A brand with its own Turkish ETK text keeps it.
	own, err := f.svc.Create(ctx, f.p, valid())
	if err != nil {
		t.Fatal(err)
	}
	got, err := texts.Seed(ctx, f.st, &f.tenant, &f.brand, clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("seeded %d texts, want the 5 missing ones", len(got))
	}
	for _, c := range got {
		if c.Version != 1 || c.TenantID != f.tenant.ID || c.BrandID != f.brand.ID || c.SHA256 != texts.Hash(c.Title, c.Body) {
			t.Errorf("seeded %+v", c)
		}
		if c.Kind == store.TextETK && c.Language == "tr" {
			t.Errorf("seeding replaced the brand's own ETK text")
		}
	}
	m, err := f.svc.Current(ctx, f.tenant.ID, f.brand.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m[store.TextETK]["tr"].ID != own.ID {
		t.Fatal("the brand's own text is no longer current")
	}
	for _, lang := range texts.Languages {
		if err := texts.Require(m, lang); err != nil {
			t.Errorf("after seeding, %s: %v", lang, err)
		}
	}
	// Seeding again publishes nothing.
	again, err := texts.Seed(ctx, f.st, &f.tenant, &f.brand, clock)
	if err != nil || len(again) != 0 {
		t.Fatalf("second seed: %d texts, %v", len(again), err)
	}
	// A failing store is reported.
	broken := &flaky{Store: f.st, fails: 1, err: errors.New("disk full")}
	other := addBrand(t, f.st, f.tenant.ID, "OUTLET")
	if _, err := texts.Seed(ctx, broken, &f.tenant, &other, clock); !isKind(err, errs.KindInternal) {
		t.Fatalf("seed on a failing store: %v", err)
	}
}
