package landing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/verify"
)

const (
	token      = "AbCdEfGh-_123456" // the shape of a real token
	otherToken = "ZyXwVuTs98765432"
)

var testKey = DeriveKey([]byte("0123456789abcdef0123456789abcdef"))

// now is the fixed time of the tests: 10:00 in Istanbul.
var now = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)

// fakeFlow stands in for *verify.Service: it serves one page and keeps
// what it was called with.
type fakeFlow struct {
	mu        sync.Mutex
	page      verify.Page
	openErr   error
	submitErr error
	opens     []openCall
	forms     []verify.PageForm
}

type openCall struct {
	token, lang string
	client      evidence.Client
}

func (f *fakeFlow) OpenPage(_ context.Context, tok, lang string, c evidence.Client) (*verify.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens = append(f.opens, openCall{tok, lang, c})
	if f.openErr != nil {
		return nil, f.openErr
	}
	p := f.page
	return &p, nil
}

func (f *fakeFlow) SubmitPage(_ context.Context, tok string, form verify.PageForm) (*verify.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forms = append(f.forms, form)
	if f.submitErr != nil {
		return nil, f.submitErr
	}
	if !form.ETK {
		return nil, errs.Invalid("etk", "the ETK box must be ticked")
	}
	p := f.page
	p.State = verify.PageCodeSent
	p.CodeExpireAt = now.Add(3 * time.Minute)
	p.KVKK = store.KVKKDeclined
	if form.KVKK {
		p.KVKK = store.KVKKGranted
	}
	return &p, nil
}

func (f *fakeFlow) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.opens) + len(f.forms)
}

// fakeRejects stands in for *consent.Service.
type fakeRejects struct {
	mu      sync.Mutex
	page    consent.RejectPage
	err     error
	opens   int
	rejects []evidence.Client
}

func (f *fakeRejects) OpenRejectLink(_ context.Context, _ string) (*consent.RejectPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens++
	if f.err != nil {
		return nil, f.err
	}
	p := f.page
	return &p, nil
}

func (f *fakeRejects) RejectByLink(_ context.Context, _ string, c evidence.Client) (*consent.RejectPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejects = append(f.rejects, c)
	if f.err != nil {
		return nil, f.err
	}
	f.page.Rejected = true
	at := now.Add(time.Minute)
	f.page.RejectedAt = &at
	p := f.page
	return &p, nil
}

func (f *fakeRejects) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opens + len(f.rejects)
}

const (
	etkBody      = "Kampanya ve duyurularımızı size iletmek için onayınızı istiyoruz."
	privacyPara1 = "Veri sorumlusu Acme A.Ş.'dir."
	privacyPara2 = "Kişisel verileriniz ileti göndermek amacıyla işlenir.\nHaklarınız için bize yazın."
	explicitBody = "Verilerimin yurt dışındaki sunuculara aktarılmasına açık rıza veriyorum."
)

func openPage() verify.Page {
	return verify.Page{
		VerificationID:  "0190a0c0-0000-7000-8000-000000000001",
		State:           verify.PageOpen,
		Company:         "Acme Perakende A.Ş.",
		Mersis:          "0123456789012345",
		BrandName:       "Acme Mağazaları",
		SourceName:      "Kadıköy Mağazası",
		MaskedRecipient: "+90 532 *** ** 67",
		FirstName:       "Ayşe",
		LastName:        "Yılmaz",
		Types:           []store.ConsentType{store.ConsentSMS, store.ConsentCall},
		Language:        "tr",
		ETK:             verify.PageText{ID: "t1", Version: 3, Title: "Ticari elektronik ileti onay metni", Body: etkBody},
		Privacy:         verify.PageText{ID: "t2", Version: 2, Title: "Aydınlatma metni", Body: privacyPara1 + "\n\n" + privacyPara2},
		Explicit:        verify.PageText{ID: "t3", Version: 1, Title: "Açık rıza metni", Body: explicitBody},
		ExpireAt:        now.Add(time.Hour),
	}
}

func rejectPage() consent.RejectPage {
	return consent.RejectPage{
		Company: "Acme Perakende A.Ş.", Mersis: "0123456789012345", BrandName: "Acme Mağazaları",
		MaskedRecipient: "+90 532 *** ** 67", Types: []store.ConsentType{store.ConsentSMS, store.ConsentEmail},
	}
}

// rig is a handler over fakes, with its log.
type rig struct {
	h       http.Handler
	flow    *fakeFlow
	rejects *fakeRejects
	log     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newRig(t *testing.T, opts ...Option) *rig {
	t.Helper()
	r := &rig{flow: &fakeFlow{page: openPage()}, rejects: &fakeRejects{page: rejectPage()}, log: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(r.log, nil))
	r.h = New(r.flow, r.rejects, testKey, log, append([]Option{WithClock(func() time.Time { return now })}, opts...)...)
	return r
}

// resp is an answer with its body read.
type resp struct {
	*http.Response
	body string
}

func (r *rig) do(t *testing.T, req *http.Request) resp {
	t.Helper()
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res, string(b)}
}

func (r *rig) get(t *testing.T, path string, header ...string) resp {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return r.do(t, req)
}

// post sends form to path with the given cookies.
func (r *rig) post(t *testing.T, path string, form url.Values, cookies []*http.Cookie, header ...string) resp {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return r.do(t, req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// session opens path and returns the CSRF field and cookie it got.
func (r *rig) session(t *testing.T, path string) (string, []*http.Cookie) {
	t.Helper()
	res := r.get(t, path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, res.StatusCode, res.body)
	}
	m := csrfRE.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("GET %s: no CSRF field in\n%s", path, res.body)
	}
	return m[1], res.Cookies()
}

func expectStatus(t *testing.T, res resp, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("status %d, want %d; body:\n%s", res.StatusCode, want, res.body)
	}
}

func expectContains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q; body:\n%s", w, body)
		}
	}
}

func expectNotContains(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("the page holds %q; body:\n%s", b, body)
		}
	}
}

// maskedPhone is the masked number as the pages write it: on one line.
const maskedPhone = "&#43;90\u00a0532\u00a0***\u00a0**\u00a067"

// htmlText is s as html/template writes it in text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "+", "&#43;").Replace(s)
}

func TestSecurityHeaders(t *testing.T) {
	r := newRig(t)
	field, cookies := r.session(t, "/l/"+token)
	_, rcookies := r.session(t, "/r/"+token)
	_ = rcookies
	for _, tc := range []struct {
		name   string
		do     func() resp
		status int
		static bool
	}{
		{"consent form", func() resp { return r.get(t, "/l/"+token) }, 200, false},
		{"malformed token", func() resp { return r.get(t, "/l/nope") }, 404, false},
		{"unknown path", func() resp { return r.get(t, "/l/"+token+"/more") }, 404, false},
		{"POST without CSRF", func() resp { return r.post(t, "/l/"+token, url.Values{"etk": {"yes"}}, nil) }, 403, false},
		{"POST without ETK", func() resp {
			return r.post(t, "/l/"+token, url.Values{"csrf": {field}}, cookies)
		}, 422, false},
		{"reject page", func() resp { return r.get(t, "/r/"+token) }, 200, false},
		{"method not allowed", func() resp {
			return r.do(t, httptest.NewRequest(http.MethodPut, "/l/"+token, nil))
		}, 405, false},
		{"stylesheet", func() resp { return r.get(t, staticURL("izin.css")) }, 200, true},
		{"unknown static file", func() resp { return r.get(t, "/static/nope.js") }, 404, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.do()
			expectStatus(t, res, tc.status)
			h := res.Header
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
				t.Errorf("CSP %q allows inline code or scripts", csp)
			}
			for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
				"X-Frame-Options": "DENY"} {
				if got := h.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			cc := h.Get("Cache-Control")
			if tc.static {
				if !strings.Contains(cc, "max-age=31536000") {
					t.Errorf("static Cache-Control %q, want a year", cc)
				}
			} else if cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if strings.Contains(res.body, "<script") || strings.Contains(res.body, "style=") {
				t.Errorf("the answer holds a script or an inline style:\n%s", res.body)
			}
		})
	}
}

func TestConsentFormRenders(t *testing.T) {
	r := newRig(t)
	res := r.get(t, "/l/"+token, "User-Agent", "phone", "Accept-Language", "tr-TR")
	expectStatus(t, res, 200)
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	b := res.body
	expectContains(t, b, `<html lang="tr">`, `id="etk" name="etk"`, `id="kvkk" name="kvkk"`,
		`<label for="etk">`, `<label for="kvkk">`, `aria-describedby="kvkk-note"`,
		htmlText(etkBody), htmlText(explicitBody),
		"<p>"+htmlText(privacyPara1)+"</p>", "<p>"+htmlText(privacyPara2)+"</p>",
		">v3<", ">v2<", ">v1<",
		maskedPhone, htmlText("Acme Mağazaları"), "Ayşe Yılmaz", "SMS ve telefon araması",
		htmlText("Acme Perakende A.Ş."), "MERSIS No: 0123456789012345", "(zorunlu)", "(isteğe bağlı)",
		"11:00", `href="?lang=en"`, `method="post"`, `name="lang" value="tr"`, `name="text_lang" value="tr"`)
	if strings.Contains(b, "checked") {
		t.Errorf("a box is pre-ticked:\n%s", b)
	}
	if strings.Count(b, `type="checkbox"`) != 2 {
		t.Errorf("want exactly two checkboxes")
	}
	if strings.Contains(b, "<h1") != true || strings.Count(b, "<h2") < 3 {
		t.Errorf("want one h1 and an h2 per section")
	}
	if len(r.flow.opens) != 1 || r.flow.opens[0].token != token || r.flow.opens[0].lang != "tr" ||
		r.flow.opens[0].client.UserAgent != "phone" || r.flow.opens[0].client.IP != "192.0.2.1" {
		t.Errorf("OpenPage calls %+v, want one for the token in tr with UA phone and IP 192.0.2.1", r.flow.opens)
	}
	var csrf *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == csrfCookie {
			csrf = c
		}
	}
	if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Path != "/" {
		t.Errorf("CSRF cookie %+v, want HttpOnly, SameSite=Strict, Path=/", csrf)
	}
}

func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		name, query, accept, want string
	}{
		{"default", "", "", "tr"},
		{"query en", "?lang=en", "", "en"},
		{"query tr beats header", "?lang=tr", "en-US,en;q=0.9", "tr"},
		{"query en beats header", "?lang=en", "tr-TR,tr;q=0.9", "en"},
		{"bad query falls back to header", "?lang=fr", "en-GB", "en"},
		{"English first", "", "en-US,en;q=0.9,tr;q=0.8", "en"},
		{"Turkish first", "", "tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7", "tr"},
		{"English weighted higher", "", "tr;q=0.5, en;q=0.8", "en"},
		{"Turkish weighted higher", "", "en;q=0.5, tr", "tr"},
		{"equal weight, English listed first", "", "en, tr", "en"},
		{"English only", "", "de-DE,en;q=0.3", "en"},
		{"neither", "", "de-DE,fr;q=0.9", "tr"},
		{"English refused", "", "en;q=0", "tr"},
		{"garbage", "", ";;,=q,en;q=x", "tr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			res := r.get(t, "/l/"+token+tc.query, "Accept-Language", tc.accept)
			expectStatus(t, res, 200)
			other := map[string]string{"tr": "en", "en": "tr"}[tc.want]
			expectContains(t, res.body, `<html lang="`+tc.want+`">`, `name="lang" value="`+tc.want+`"`,
				`href="?lang=`+other+`"`)
			if got := res.Header.Get("Content-Language"); got != tc.want {
				t.Errorf("Content-Language %q, want %q", got, tc.want)
			}
			if r.flow.opens[0].lang != tc.want {
				t.Errorf("OpenPage asked for %q, want %q", r.flow.opens[0].lang, tc.want)
			}
		})
	}
}

func TestEnglishPage(t *testing.T) {
	r := newRig(t)
	res := r.get(t, "/l/"+token+"?lang=en")
	expectStatus(t, res, 200)
	// The texts stay in the language the domain gave (Turkish here) and are
	// marked as such; the page around them is English.
	expectContains(t, res.body, "SMS and phone calls", "(required)", "(optional)", "I agree, send me the code",
		`class="legal" id="etk-text" lang="tr"`, "MERSIS no.: 0123456789012345", `>Türkçe</a>`)
}

func TestCSRFRefused(t *testing.T) {
	r := newRig(t)
	field, cookies := r.session(t, "/l/"+token)
	otherField, _ := r.session(t, "/l/"+otherToken)
	rejectField, _ := r.session(t, "/r/"+token)
	for _, tc := range []struct {
		name    string
		form    url.Values
		cookies []*http.Cookie
	}{
		{"nothing", url.Values{"etk": {"yes"}}, nil},
		{"field without cookie", url.Values{"etk": {"yes"}, "csrf": {field}}, nil},
		{"cookie without field", url.Values{"etk": {"yes"}}, cookies},
		{"wrong field", url.Values{"etk": {"yes"}, "csrf": {"AAAA" + field[4:]}}, cookies},
		{"field of another link", url.Values{"etk": {"yes"}, "csrf": {otherField}}, cookies},
		{"field of the rejection form", url.Values{"etk": {"yes"}, "csrf": {rejectField}}, cookies},
		{"field of another browser", url.Values{"etk": {"yes"}, "csrf": {field}},
			[]*http.Cookie{{Name: csrfCookie, Value: newNonce()}}},
		{"malformed cookie", url.Values{"etk": {"yes"}, "csrf": {field}},
			[]*http.Cookie{{Name: csrfCookie, Value: "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(r.flow.forms)
			res := r.post(t, "/l/"+token, tc.form, tc.cookies)
			expectStatus(t, res, http.StatusForbidden)
			expectContains(t, res.body, "Sayfanın süresi doldu", `href="?lang=tr"`)
			if len(r.flow.forms) != before {
				t.Errorf("SubmitPage was called despite the failed CSRF check")
			}
		})
	}
	// The rejection form is checked the same way.
	res := r.post(t, "/r/"+token, url.Values{"csrf": {field}}, cookies)
	expectStatus(t, res, http.StatusForbidden)
	if len(r.rejects.rejects) != 0 {
		t.Errorf("RejectByLink was called despite the failed CSRF check")
	}
	// In English when the form says so.
	res = r.post(t, "/l/"+token, url.Values{"lang": {"en"}}, nil)
	expectStatus(t, res, http.StatusForbidden)
	expectContains(t, res.body, "This page has expired", `<html lang="en">`)
}

func TestSubmitWithoutETK(t *testing.T) {
	for _, kvkk := range []bool{true, false} {
		t.Run(fmt.Sprintf("kvkk=%v", kvkk), func(t *testing.T) {
			r := newRig(t)
			field, cookies := r.session(t, "/l/"+token)
			form := url.Values{"csrf": {field}, "lang": {"tr"}, "text_lang": {"tr"}}
			if kvkk {
				form.Set("kvkk", "yes")
			}
			res := r.post(t, "/l/"+token, form, cookies)
			expectStatus(t, res, http.StatusUnprocessableEntity)
			expectContains(t, res.body, `id="etk-error"`, `role="alert"`, `aria-describedby="etk-error"`,
				`aria-invalid="true"`, "ticari ileti onay kutusunu işaretleyin", `href="#etk"`, "<title>Hata: ")
			etkInput := regexp.MustCompile(`<input type="checkbox" id="etk"[^>]*>`).FindString(res.body)
			kvkkInput := regexp.MustCompile(`<input type="checkbox" id="kvkk"[^>]*>`).FindString(res.body)
			if strings.Contains(etkInput, "checked") {
				t.Errorf("the ETK box came back ticked: %s", etkInput)
			}
			if strings.Contains(kvkkInput, "checked") != kvkk {
				t.Errorf("the KVKK box %s, want checked=%v as sent", kvkkInput, kvkk)
			}
			if m := csrfRE.FindStringSubmatch(res.body); m == nil || m[1] != field {
				t.Errorf("the form came back without a working CSRF field")
			}
			// And the second try goes through.
			form.Set("etk", "yes")
			res = r.post(t, "/l/"+token, form, cookies)
			expectStatus(t, res, 200)
			expectContains(t, res.body, "Kodunuz SMS ile gönderildi")
		})
	}
}

func TestSubmit(t *testing.T) {
	r := newRig(t)
	field, cookies := r.session(t, "/l/"+token+"?lang=en")
	long := strings.Repeat("ş", 400) // 800 bytes
	res := r.post(t, "/l/"+token+"?lang=en", url.Values{"csrf": {field}, "lang": {"en"}, "text_lang": {"tr"},
		"etk": {"yes"}, "kvkk": {"yes"}}, cookies, "User-Agent", long)
	expectStatus(t, res, 200)
	expectContains(t, res.body, `<html lang="en">`, "Your code is on its way", maskedPhone,
		htmlText("Give the code to the staff of Kadıköy Mağazası"), "valid until 10:03 (Turkish time)",
		"Your KVKK explicit consent: given.", htmlText("Acme Perakende A.Ş."), "0123456789012345")
	expectNotContains(t, res.body, "<form")
	if len(r.flow.forms) != 1 {
		t.Fatalf("SubmitPage called %d times, want 1", len(r.flow.forms))
	}
	f := r.flow.forms[0]
	if !f.ETK || !f.KVKK || f.Language != "tr" || f.Client.IP != "192.0.2.1" {
		t.Errorf("SubmitPage got %+v, want ETK, KVKK, texts in tr, IP 192.0.2.1", f)
	}
	if len(f.Client.UserAgent) > evidence.MaxUserAgent || !strings.HasPrefix(long, f.Client.UserAgent) ||
		len(f.Client.UserAgent) < evidence.MaxUserAgent-1 {
		t.Errorf("user agent of %d bytes, want the first %d bytes whole characters", len(f.Client.UserAgent), evidence.MaxUserAgent)
	}

	// KVKK left unticked is recorded as such; no source names the staff.
	r = newRig(t)
	r.flow.page.SourceName = ""
	field, cookies = r.session(t, "/l/"+token)
	res = r.post(t, "/l/"+token, url.Values{"csrf": {field}, "etk": {"yes"}}, cookies, "User-Agent", "ua")
	expectStatus(t, res, 200)
	expectContains(t, res.body, "KVKK açık rıza tercihiniz: verilmedi.", "Kodu kasiyere ya da görüştüğünüz")
	if f := r.flow.forms[0]; !f.ETK || f.KVKK || f.Client.UserAgent != "ua" || f.Language != "tr" {
		t.Errorf("SubmitPage got %+v, want ETK without KVKK, UA ua, language tr", f)
	}
}

func TestForwardedFor(t *testing.T) {
	for _, trust := range []bool{false, true} {
		var opts []Option
		if trust {
			opts = append(opts, TrustForwardedFor())
		}
		r := newRig(t, opts...)
		r.get(t, "/l/"+token, "X-Forwarded-For", "203.0.113.9, 198.51.100.7")
		want := "192.0.2.1"
		if trust {
			want = "198.51.100.7"
		}
		if got := r.flow.opens[0].client.IP; got != want {
			t.Errorf("trust=%v: IP %q, want %q", trust, got, want)
		}
	}
}

func TestPageStates(t *testing.T) {
	for _, tc := range []struct {
		state verify.PageState
		want  []string
	}{
		{verify.PageCodeSent, []string{"Kodunuz SMS ile gönderildi", "Kadıköy Mağazası çalışanına"}},
		{verify.PageVerified, []string{"İzniniz kaydedildi", htmlText("Acme Mağazaları size SMS ve telefon araması yoluyla")}},
	} {
		r := newRig(t)
		r.flow.page.State = tc.state
		r.flow.page.CodeExpireAt = now.Add(3 * time.Minute)
		res := r.get(t, "/l/"+token)
		expectStatus(t, res, 200)
		expectContains(t, res.body, tc.want...)
		expectNotContains(t, res.body, "<form", `type="checkbox"`)
	}
}

func TestCodeExpired(t *testing.T) {
	r := newRig(t)
	r.flow.page.State = verify.PageCodeSent
	r.flow.page.CodeExpireAt = now.Add(-time.Second)
	res := r.get(t, "/l/"+token)
	expectStatus(t, res, 200)
	expectContains(t, res.body, `id="code-expired"`, "Kodun süresi doldu", "yeni bir kod")
	expectNotContains(t, res.body, "Kodunuz SMS ile gönderildi", "<form")
}

func TestDomainErrors(t *testing.T) {
	closed := func(status string) error {
		return errs.FailedPrecondition(errs.ReasonVerificationClosed, "closed").With("status", status)
	}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   []string
	}{
		{"not found", errs.NotFound("no such link"), 404, []string{"Bağlantı bulunamadı"}},
		{"expired", errs.FailedPrecondition(errs.ReasonVerificationExpired, "expired"), 410,
			[]string{"Bağlantının süresi doldu"}},
		{"sent before", closed("PAGE_SUBMITTED"), 410, []string{"Bu bağlantı artık kullanılamaz", "Bu form daha önce gönderildi"}},
		{"verified", closed("VERIFIED"), 410, []string{"izniniz daha önce kaydedildi"}},
		{"cancelled", closed("CANCELLED"), 410, []string{"Bu işlem iptal edildi.", "yeni bir bağlantı isteyin"}},
		{"failed", closed("FAILED"), 410, []string{"hatalı kod denemeleri"}},
		{"closed, no status", errs.FailedPrecondition(errs.ReasonVerificationClosed, "closed"), 410,
			[]string{"daha önce kullanıldı ya da artık geçerli değil"}},
		{"rate limited", errs.RateLimited(90*time.Second, "too many"), 429,
			[]string{"Çok fazla deneme", "Yaklaşık 2 dakika sonra"}},
		{"internal", errs.Internal(errors.New("disk on fire"), "store"), 500, []string{"Bir sorun oluştu"}},
		{"plain error", errors.New("boom"), 500, []string{"Bir sorun oluştu"}},
		{"unimplemented", errs.Unimplemented("consent page"), 500, []string{"Bir sorun oluştu"}},
		{"invalid, other field", errs.Invalid("language", "bad"), 500, []string{"Bir sorun oluştu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"GET", "POST"} {
				r := newRig(t)
				field, cookies := r.session(t, "/l/"+token)
				var res resp
				if method == "GET" {
					r.flow.openErr = tc.err
					res = r.get(t, "/l/"+token)
				} else {
					r.flow.submitErr = tc.err
					res = r.post(t, "/l/"+token, url.Values{"csrf": {field}, "etk": {"yes"}}, cookies)
				}
				expectStatus(t, res, tc.status)
				expectContains(t, res.body, tc.want...)
				expectContains(t, res.body, `id="problem"`, `<html lang="tr">`)
				expectNotContains(t, res.body, "disk on fire", "boom", token)
				if tc.status == 429 && res.Header.Get("Retry-After") != "90" {
					t.Errorf("Retry-After %q, want 90", res.Header.Get("Retry-After"))
				}
				logged := r.log.String()
				if strings.Contains(logged, token) {
					t.Errorf("the log holds the token: %s", logged)
				}
				if tc.status == 500 && !strings.Contains(logged, "level=ERROR") {
					t.Errorf("a 500 was not logged as an error: %q", logged)
				}
				if tc.status != 500 && strings.Contains(logged, "level=ERROR") {
					t.Errorf("a %d was logged as an error: %q", tc.status, logged)
				}
			}
			// The rejection link maps errors the same way.
			r := newRig(t)
			r.rejects.err = tc.err
			res := r.get(t, "/r/"+token+"?lang=en")
			expectStatus(t, res, tc.status)
			expectContains(t, res.body, `id="problem"`, `<html lang="en">`)
		})
	}
}

func TestMalformedToken(t *testing.T) {
	r := newRig(t)
	for _, path := range []string{"/l/short", "/l/" + token + "x", "/l/AbCdEfGh!_123456",
		"/l/" + url.PathEscape("AbCdEfGh/_123456"), "/r/short", "/r/%3Cscript%3E", "/l/", "/r/"} {
		for _, method := range []string{"GET", "POST"} {
			req := httptest.NewRequest(method, path, strings.NewReader("etk=yes"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res := r.do(t, req)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", method, path, res.StatusCode)
			}
			expectContains(t, res.body, "Bağlantı bulunamadı")
			expectNotContains(t, res.body, "<script")
		}
	}
	if n := r.flow.calls() + r.rejects.calls(); n != 0 {
		t.Errorf("the domain was called %d times for malformed tokens", n)
	}
}

func TestBodyLimit(t *testing.T) {
	r := newRig(t)
	field, cookies := r.session(t, "/l/"+token)
	res := r.post(t, "/l/"+token, url.Values{"csrf": {field}, "etk": {"yes"}, "pad": {strings.Repeat("a", 20<<10)}}, cookies)
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
	expectContains(t, res.body, "Form okunamadı")
	if len(r.flow.forms) != 0 {
		t.Errorf("SubmitPage was called with an oversized body")
	}
}

func TestReject(t *testing.T) {
	r := newRig(t)
	res := r.get(t, "/r/"+token)
	expectStatus(t, res, 200)
	expectContains(t, res.body, "Ticari ileti iznini geri alma", htmlText("Acme Mağazaları"), maskedPhone,
		"SMS ve e-posta", "Reddet (RET)", `method="post"`, "MERSIS No: 0123456789012345")
	expectNotContains(t, res.body, token, "checkbox")
	field, cookies := r.session(t, "/r/"+token+"?lang=en")
	res = r.post(t, "/r/"+token, url.Values{"csrf": {field}, "lang": {"en"}}, cookies, "User-Agent", "phone")
	expectStatus(t, res, 200)
	expectContains(t, res.body, "Your consent is withdrawn", htmlText("Acme Mağazaları will no longer send you"),
		"by SMS and e-mail", "Done at 10:01 (Turkish time).")
	expectNotContains(t, res.body, "<form")
	if len(r.rejects.rejects) != 1 || r.rejects.rejects[0] != (evidence.Client{IP: "192.0.2.1", UserAgent: "phone"}) {
		t.Errorf("RejectByLink calls %+v, want one from 192.0.2.1/phone", r.rejects.rejects)
	}
	// Once done, the link shows that it was done.
	res = r.get(t, "/r/"+token)
	expectStatus(t, res, 200)
	expectContains(t, res.body, "İzniniz geri alındı")
	expectNotContains(t, res.body, "<form")
}

func TestEscaping(t *testing.T) {
	r := newRig(t)
	r.flow.page.FirstName = `<script>alert("x")</script>`
	r.flow.page.LastName = `"><img src=x onerror=alert(1)>`
	r.flow.page.BrandName = `Acme <b>&</b>`
	r.flow.page.SourceName = `<i>kasa</i>`
	r.flow.page.ETK.Body = "<a href='javascript:x'>metin</a>"
	res := r.get(t, "/l/"+token)
	expectStatus(t, res, 200)
	expectNotContains(t, res.body, "<script>", "<img", "<b>", "<a href='javascript")
	expectContains(t, res.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&lt;img src=x", "Acme &lt;b&gt;&amp;&lt;/b&gt;")
	field, cookies := r.session(t, "/l/"+token)
	res = r.post(t, "/l/"+token, url.Values{"csrf": {field}, "etk": {"yes"}}, cookies)
	expectStatus(t, res, 200)
	expectNotContains(t, res.body, "<i>kasa</i>", "<b>")
	expectContains(t, res.body, "&lt;i&gt;kasa&lt;/i&gt;")
}

func TestNoTokenInPages(t *testing.T) {
	r := newRig(t)
	for _, path := range []string{"/l/" + token, "/l/" + token + "?lang=en", "/r/" + token} {
		res := r.get(t, path)
		expectNotContains(t, res.body, token)
		for _, c := range res.Cookies() {
			if strings.Contains(c.Value, token) {
				t.Errorf("cookie %s holds the token", c.Name)
			}
		}
	}
}

func TestStatic(t *testing.T) {
	r := newRig(t)
	page := r.get(t, "/l/"+token)
	css := staticURL("izin.css")
	expectContains(t, page.body, `<link rel="stylesheet" href="`+htmlText(css)+`">`)
	res := r.get(t, css)
	expectStatus(t, res, 200)
	if ct := res.Header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("stylesheet Content-Type %q", ct)
	}
	if !strings.Contains(res.body, ":focus-visible") {
		t.Errorf("the stylesheet has no focus style")
	}
	req := httptest.NewRequest(http.MethodGet, css, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if res := r.do(t, req); res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d, want 304", res.StatusCode)
	}
	res = r.get(t, staticURL("icon.svg"))
	expectStatus(t, res, 200)
	if ct := res.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("icon Content-Type %q", ct)
	}
}

// TestCatalog checks both languages say everything, with the same
// arguments.
func TestCatalog(t *testing.T) {
	verbs := regexp.MustCompile(`%[sd]`)
	tr, en := reflect.ValueOf(*catalog[langTR]), reflect.ValueOf(*catalog[langEN])
	for i := 0; i < tr.NumField(); i++ {
		f := tr.Type().Field(i)
		if f.Type.Kind() != reflect.String {
			continue
		}
		a, b := tr.Field(i).String(), en.Field(i).String()
		if a == "" || b == "" {
			t.Errorf("%s is empty in a language", f.Name)
		}
		if x, y := verbs.FindAllString(a, -1), verbs.FindAllString(b, -1); !reflect.DeepEqual(x, y) {
			t.Errorf("%s: Turkish takes %v, English %v", f.Name, x, y)
		}
	}
}

func TestHelpers(t *testing.T) {
	if got := paragraphs("a\nb\n\n\n  \nc\r\n\r\nd  "); !reflect.DeepEqual(got, []string{"a\nb", "c", "d"}) {
		t.Errorf("paragraphs: %q", got)
	}
	m := catalog[langTR]
	if got := m.typeNames([]store.ConsentType{store.ConsentSMS, store.ConsentCall, store.ConsentEmail}); got != "SMS, telefon araması ve e-posta" {
		t.Errorf("typeNames: %q", got)
	}
	if got := catalog[langEN].typeNames([]store.ConsentType{store.ConsentEmail}); got != "e-mail" {
		t.Errorf("typeNames: %q", got)
	}
	if got := m.clock(now.Add(20*time.Hour), now); got != "3 Mart 2026 06:00" {
		t.Errorf("clock on another day: %q", got)
	}
	if !bytes.Equal(DeriveKey([]byte("s")), DeriveKey([]byte("s"))) || bytes.Equal(DeriveKey([]byte("s")), []byte("s")) {
		t.Errorf("DeriveKey is not a stable derivation")
	}
	defer func() {
		if recover() == nil {
			t.Errorf("New accepted a short key")
		}
	}()
	New(&fakeFlow{}, &fakeRejects{}, []byte("short"), nil)
}
