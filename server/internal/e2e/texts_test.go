package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// textsClient is the consent-text part of AdminService over one transport.
type textsClient struct {
	tr   transport
	grpc *grpcClient
	rest *restClient
}

func (s *server) textsClient(tr transport, key string) *textsClient {
	c := &textsClient{tr: tr}
	switch tr {
	case grpcTransport:
		c.grpc = s.client(tr, key).(*grpcClient)
	case restTransport:
		c.rest = s.client(tr, key).(*restClient)
	}
	return c
}

func (c *textsClient) create(ctx context.Context, r *izinv1.CreateConsentTextRequest) (*izinv1.ConsentText, error) {
	if c.grpc != nil {
		res, err := call(ctx, c.grpc, c.grpc.admin.CreateConsentText, r)
		return res.GetText(), err
	}
	res, err := rest[izinv1.CreateConsentTextResponse](func(out proto.Message) error {
		return c.rest.post(ctx, "/v1/consentTexts", r, out)
	})
	return res.GetText(), err
}

func (c *textsClient) list(ctx context.Context, brand string, all bool) ([]*izinv1.ConsentText, error) {
	r := &izinv1.ListConsentTextsRequest{Brand: brand, AllVersions: all}
	if c.grpc != nil {
		res, err := call(ctx, c.grpc, c.grpc.admin.ListConsentTexts, r)
		return res.GetTexts(), err
	}
	q := url.Values{}
	if brand != "" {
		q.Set("brand", brand)
	}
	if all {
		q.Set("all_versions", "true")
	}
	res, err := rest[izinv1.ListConsentTextsResponse](func(out proto.Message) error {
		return c.rest.get(ctx, "/v1/consentTexts", q, out)
	})
	return res.GetTexts(), err
}

func (c *textsClient) get(ctx context.Context, id string) (*izinv1.ConsentText, error) {
	if c.grpc != nil {
		res, err := call(ctx, c.grpc, c.grpc.admin.GetConsentText, &izinv1.GetConsentTextRequest{Id: id})
		return res.GetText(), err
	}
	res, err := rest[izinv1.GetConsentTextResponse](func(out proto.Message) error {
		return c.rest.get(ctx, "/v1/consentTexts/"+url.PathEscape(id), nil, out)
	})
	return res.GetText(), err
}

func textKey(t *izinv1.ConsentText) string {
	return t.GetBrandCode() + "/" + t.GetKind().String() + "/" + t.GetLanguage()
}

// TestConsentTexts drives the consent texts over both transports on both
// engines: a new tenant starts with the six default texts; publishing adds
// a version; the current one is the newest; scopes and tenants are kept
// apart; refusals name the field.
func TestConsentTexts(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, e)
			for _, tr := range transports {
				t.Run(string(tr), func(t *testing.T) {
					testConsentTexts(t, s, tr)
				})
			}
		})
	}
}

func testConsentTexts(t *testing.T, s *server, tr transport) {
	ctx := testCtx(t)
	tn := s.newTenant(t, "Metin Mağazaları A.Ş. "+string(tr))
	admin := s.textsClient(tr, tn.AdminKey)

	// The six defaults, version 1, naming the company and its MERSIS number.
	cur := must(admin.list(ctx, "", false))(t)
	if len(cur) != 6 {
		t.Fatalf("a new tenant has %d current texts, want 6", len(cur))
	}
	byKey := map[string]*izinv1.ConsentText{}
	for _, c := range cur {
		byKey[textKey(c)] = c
		if c.GetVersion() != 1 || c.GetBrandCode() != tn.BrandCode || !strings.Contains(c.GetBody(), tn.Mersis) ||
			!strings.Contains(c.GetBody(), tn.Name) || c.GetCreateTime() == nil {
			t.Errorf("default text %s: version %d, brand %s", textKey(c), c.GetVersion(), c.GetBrandCode())
		}
		sum := sha256.Sum256([]byte(c.GetTitle() + "\n" + c.GetBody()))
		if c.GetSha256() != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: sha256 %s is not of title, newline, body", textKey(c), c.GetSha256())
		}
	}
	etkTR := byKey[tn.BrandCode+"/CONSENT_TEXT_KIND_ETK/tr"]
	if etkTR == nil || byKey[tn.BrandCode+"/CONSENT_TEXT_KIND_EXPLICIT_CONSENT/en"] == nil {
		t.Fatalf("defaults: %v", byKey)
	}

	// Publishing adds version 2, normalised; it becomes current.
	v2 := must(admin.create(ctx, &izinv1.CreateConsentTextRequest{Kind: izinv1.ConsentTextKind_CONSENT_TEXT_KIND_ETK,
		Language: "tr", Title: "Ticari İleti Onayı", Body: "Birinci paragraf.  \r\n\r\nİkinci paragraf.\r\n"}))(t)
	if v2.GetVersion() != 2 || v2.GetBody() != "Birinci paragraf.\n\nİkinci paragraf." || v2.GetBrandCode() != tn.BrandCode {
		t.Fatalf("published %+v", v2)
	}
	sum := sha256.Sum256([]byte("Ticari İleti Onayı\nBirinci paragraf.\n\nİkinci paragraf."))
	if v2.GetSha256() != hex.EncodeToString(sum[:]) {
		t.Fatalf("sha256 %s", v2.GetSha256())
	}
	cur = must(admin.list(ctx, tn.BrandCode, false))(t)
	for _, c := range cur {
		if textKey(c) == textKey(v2) && c.GetId() != v2.GetId() {
			t.Errorf("current ETK/tr is %s version %d, want the new version", c.GetId(), c.GetVersion())
		}
	}
	if len(cur) != 6 {
		t.Errorf("%d current texts after publishing, want 6", len(cur))
	}
	if all := must(admin.list(ctx, "", true))(t); len(all) != 7 {
		t.Errorf("%d versions in all, want 7", len(all))
	}
	// Both versions stay readable: evidence refers to either.
	for _, want := range []*izinv1.ConsentText{etkTR, v2} {
		got := must(admin.get(ctx, want.GetId()))(t)
		if !proto.Equal(got, want) {
			t.Errorf("GetConsentText(%s) = %v, want %v", want.GetId(), got, want)
		}
	}

	// A source key (write scope) reads texts but cannot publish; a check
	// key cannot even read them.
	_, srcKey := s.newSource(t, tn, "Kiosk", store.SourceKiosk)
	writer := s.textsClient(tr, srcKey)
	if got := must(writer.list(ctx, "", false))(t); len(got) != 6 {
		t.Errorf("a write key lists %d texts", len(got))
	}
	must(writer.get(ctx, v2.GetId()))(t)
	_, err := writer.create(ctx, &izinv1.CreateConsentTextRequest{Kind: izinv1.ConsentTextKind_CONSENT_TEXT_KIND_ETK,
		Language: "tr", Title: "x", Body: "y"})
	expectError(t, tr, err, want{code: codes.PermissionDenied, http: 403, reason: "ERROR_REASON_SCOPE_MISSING"})
	_, err = s.textsClient(tr, s.newKey(t, tn, store.ScopeCheck)).list(ctx, "", false)
	expectError(t, tr, err, want{code: codes.PermissionDenied, http: 403, reason: "ERROR_REASON_SCOPE_MISSING"})

	// Another tenant sees none of it.
	other := s.newTenant(t, "Başka A.Ş. "+string(tr))
	stranger := s.textsClient(tr, other.AdminKey)
	_, err = stranger.get(ctx, v2.GetId())
	expectError(t, tr, err, want{code: codes.NotFound, http: 404})
	for _, c := range must(stranger.list(ctx, "", true))(t) {
		if c.GetId() == v2.GetId() || c.GetId() == etkTR.GetId() || strings.Contains(c.GetBody(), tn.Mersis) {
			t.Fatalf("another tenant lists text %s", c.GetId())
		}
	}

	// Refusals name the field.
	if _, err := s.App.Tenancy.CreateBrand(context.Background(), other.ID,
		store.Brand{Code: "FOREIGN", Name: "Foreign", Sender: "FOREIGN"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		req   *izinv1.CreateConsentTextRequest
		field string
	}{
		{"no kind", &izinv1.CreateConsentTextRequest{Language: "tr", Title: "t", Body: "b"}, "kind"},
		{"unknown kind", &izinv1.CreateConsentTextRequest{Kind: 9, Language: "tr", Title: "t", Body: "b"}, "kind"},
		{"German", &izinv1.CreateConsentTextRequest{Kind: 1, Language: "de", Title: "t", Body: "b"}, "language"},
		{"empty title", &izinv1.CreateConsentTextRequest{Kind: 1, Language: "tr", Body: "b"}, "title"},
		{"blank title", &izinv1.CreateConsentTextRequest{Kind: 1, Language: "tr", Title: "   ", Body: "b"}, "title"},
		{"long title", &izinv1.CreateConsentTextRequest{Kind: 1, Language: "tr", Title: strings.Repeat("ğ", 201), Body: "b"}, "title"},
		{"empty body", &izinv1.CreateConsentTextRequest{Kind: 1, Language: "tr", Title: "t"}, "body"},
		{"blank body", &izinv1.CreateConsentTextRequest{Kind: 1, Language: "tr", Title: "t", Body: "\n \n"}, "body"},
		{"unknown brand", &izinv1.CreateConsentTextRequest{Brand: "NOPE", Kind: 1, Language: "tr", Title: "t", Body: "b"}, "brand"},
		{"another tenant's brand", &izinv1.CreateConsentTextRequest{Brand: "FOREIGN", Kind: 1, Language: "tr", Title: "t", Body: "b"}, "brand"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := admin.create(ctx, tc.req)
			expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: tc.field})
		})
	}
	_, err = admin.get(ctx, "not-a-uuid")
	expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "id"})
	_, err = admin.get(ctx, uuid.NewString())
	expectError(t, tr, err, want{code: codes.NotFound, http: 404})
	_, err = admin.list(ctx, "NOPE", false)
	expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "brand"})
	if all := must(admin.list(ctx, "", true))(t); len(all) != 7 {
		t.Errorf("refused requests published texts: %d versions", len(all))
	}

	// A brand added later starts with its own six texts.
	if _, err := s.App.Tenancy.CreateBrand(context.Background(), tn.ID,
		store.Brand{Code: "OUTLET", Name: "Metin Outlet", Sender: "OUTLET"}); err != nil {
		t.Fatal(err)
	}
	outlet := must(admin.list(ctx, "OUTLET", false))(t)
	if len(outlet) != 6 {
		t.Fatalf("a new brand has %d texts, want 6", len(outlet))
	}
	for _, c := range outlet {
		if c.GetBrandCode() != "OUTLET" || c.GetVersion() != 1 || !strings.Contains(c.GetBody(), "Metin Outlet") {
			t.Errorf("new brand's text %s version %d", textKey(c), c.GetVersion())
		}
	}
}

// TestTextCLI publishes and lists texts with the izin command line.
func TestTextCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := migratedDB(t)
	code, out, errOut := runCLI(t, "--database-url", db, "--json", "tenant", "create", "--name", "Metin A.Ş.",
		"--mersis", newMersis(), "--brand-code", "METIN", "--brand-name", "Metin", "--sender", "METIN")
	if code != 0 {
		t.Fatalf("tenant create: exit %d\n%s%s", code, out, errOut)
	}
	var created struct {
		TenantID string `json:"tenant_id"`
	}
	decodeOne(t, out, &created)

	type textOut struct {
		ID        string `json:"id"`
		BrandCode string `json:"brand_code"`
		Kind      string `json:"kind"`
		Language  string `json:"language"`
		Version   int    `json:"version"`
		Title     string `json:"title"`
		Body      string `json:"body"`
		SHA256    string `json:"sha256"`
	}
	list := func(args ...string) []textOut {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"--database-url", db, "--json", "text", "list", "--tenant", created.TenantID}, args...)...)
		if code != 0 {
			t.Fatalf("text list %v: exit %d\n%s%s", args, code, out, errOut)
		}
		var res struct {
			Texts []textOut `json:"texts"`
		}
		decodeOne(t, out, &res)
		return res.Texts
	}
	if got := list(); len(got) != 6 {
		t.Fatalf("text list: %d texts, want the 6 defaults", len(got))
	}

	body := filepath.Join(dir, "aydinlatma.txt")
	if err := os.WriteFile(body, []byte("\uFEFFİlk paragraf. \r\n\r\nSon paragraf.\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "--database-url", db, "--json", "text", "create", "--tenant", created.TenantID,
		"--kind", "privacy", "--lang", "tr", "--title", "Aydınlatma Metni", "--file", body)
	if code != 0 {
		t.Fatalf("text create: exit %d\n%s%s", code, out, errOut)
	}
	var pub textOut
	decodeOne(t, out, &pub)
	sum := sha256.Sum256([]byte("Aydınlatma Metni\nİlk paragraf.\n\nSon paragraf."))
	if pub.Version != 2 || pub.Kind != "privacy" || pub.Language != "tr" || pub.BrandCode != "METIN" ||
		pub.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("text create printed %+v", pub)
	}
	if got := list("--brand", "METIN"); len(got) != 6 {
		t.Errorf("current texts: %d, want 6", len(got))
	} else {
		for _, c := range got {
			if c.Kind == "privacy" && c.Language == "tr" && (c.ID != pub.ID || c.Body != "İlk paragraf.\n\nSon paragraf.") {
				t.Errorf("current privacy/tr is %+v", c)
			}
		}
	}
	if got := list("--all"); len(got) != 7 {
		t.Errorf("every version: %d, want 7", len(got))
	}

	// Refusals name the flag.
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--kind", "kvkk", "--lang", "tr", "--title", "t", "--file", body}, "--kind"},
		{[]string{"--kind", "etk", "--lang", "de", "--title", "t", "--file", body}, "--lang"},
		{[]string{"--kind", "etk", "--lang", "tr", "--title", " ", "--file", body}, "--title"},
		{[]string{"--kind", "etk", "--lang", "tr", "--title", "t", "--file", filepath.Join(dir, "missing.txt")}, "--file"},
		{[]string{"--kind", "etk", "--lang", "tr", "--title", "t", "--file", body, "--brand", "NOPE"}, "--brand"},
	} {
		args := append([]string{"--database-url", db, "--json", "text", "create", "--tenant", created.TenantID}, tc.args...)
		code, out, _ := runCLI(t, args...)
		if code == 0 || !strings.Contains(out, tc.flag) {
			t.Errorf("text create %v: exit %d, output %q; want a failure naming %s", tc.args, code, out, tc.flag)
		}
	}
	code, out, _ = runCLI(t, "--database-url", db, "--json", "text", "list", "--tenant", uuid.NewString())
	if code == 0 || !strings.Contains(out, "no such tenant") {
		t.Errorf("text list of an unknown tenant: exit %d, %q", code, out)
	}

	// Seeding again publishes nothing: every kind and language is there.
	code, out, errOut = runCLI(t, "--database-url", db, "--json", "text", "seed", "--tenant", created.TenantID)
	if code != 0 {
		t.Fatalf("text seed: exit %d\n%s%s", code, out, errOut)
	}
	var seeded struct {
		Published []textOut `json:"published"`
	}
	decodeOne(t, out, &seeded)
	if len(seeded.Published) != 0 {
		t.Errorf("text seed published %d texts over existing ones", len(seeded.Published))
	}
	if got := list("--all"); len(got) != 7 {
		t.Errorf("after seed: %d versions, want 7", len(got))
	}
}
