package e2e

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/store"
)

// TestBrowserLandingPage drives the landing-page method end to end in a
// real browser on a phone-sized screen: the source starts a verification,
// the customer opens the SMS link, reads the page, ticks the boxes and
// gets the code, the source submits it, and the confirmation SMS's link
// rejects the consent again. One Chromium serves every step; the domain
// rules themselves are tested on both engines elsewhere, so this runs on
// SQLite only.
func TestBrowserLandingPage(t *testing.T) {
	b := newBrowser(t)
	s := startServer(t, sqliteEngine)
	tn := s.newTenant(t, "Acme Perakende A.Ş.")
	_, key := s.newSource(t, tn, "Kadıköy Mağazası", store.SourceStore)
	c, admin := s.client(grpcTransport, key), s.client(grpcTransport, tn.AdminKey)
	texts := publishTexts(t, s, tn)
	ctx := testCtx(t)
	page := b.mainTab()

	// (a) The page shows who asks, whom it asks, the texts, and two
	// unticked boxes.
	first := startLanding(ctx, t, s, c, admin, "0532 111 22 33", smsAndCall, &izinv1.Customer{FirstName: "Ayşe", LastName: "Yılmaz"})
	if st := page.open(t, first.url); st != 200 {
		t.Fatalf("consent page: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "etk")
	if page.checked(t, "etk") || page.checked(t, "kvkk") {
		t.Errorf("a box is ticked before the customer touched it")
	}
	if lang := page.eval(t, `document.documentElement.lang`); lang != "tr" {
		t.Errorf("the page is in %q, want tr for a Turkish phone", lang)
	}
	page.expectText(t, "+90 532 *** ** 33", "Ayşe Yılmaz", "Acme Mağazaları", tn.Name, "MERSIS No: "+tn.Mersis,
		"SMS ve telefon araması", texts.etkTitle, texts.etkBody, texts.privacyTitle, texts.privacyPara1,
		texts.privacyPara2, texts.explicitTitle, texts.explicitBody, "v2", "(zorunlu)", "(isteğe bağlı)")
	// The stylesheet loaded under the CSP, and no script ran or exists.
	if bg := page.eval(t, `getComputedStyle(document.getElementById("submit")).backgroundColor`); bg != "rgb(11, 79, 138)" {
		t.Errorf("the button's background is %q: the stylesheet did not apply", bg)
	}
	if n := page.eval(t, `document.scripts.length`); n != "0" {
		t.Errorf("the page has %s script(s)", n)
	}
	if w := page.eval(t, `document.documentElement.scrollWidth`); w != "390" {
		t.Errorf("the page is %s px wide on a 390 px phone: it scrolls sideways", w)
	}
	page.screenshot(t, "01-consent-form", readmeScreenshot(""))

	// The language link keeps the page and switches to English, and back.
	if st := page.follow(t, "a.switch"); st != 200 {
		t.Fatalf("English page: HTTP %d", st)
	}
	if lang := page.eval(t, `document.documentElement.lang`); lang != "en" {
		t.Errorf("after the switch the page is in %q, want en", lang)
	}
	page.expectText(t, "Consent to commercial messages", "SMS and phone calls", "I agree, send me the code")
	page.screenshot(t, "02-consent-form-en")
	if st := page.follow(t, "a.switch"); st != 200 {
		t.Fatalf("back to Turkish: HTTP %d", st)
	}

	// (b) Without the ETK box the form comes back with the error at the
	// box, and the KVKK box as the customer left it.
	page.waitVisible(t, "etk")
	page.tick(t, "kvkk")
	if st := page.submit(t, "submit"); st != 422 {
		t.Errorf("form without the ETK box: HTTP %d, want 422", st)
	}
	page.waitVisible(t, "etk-error")
	page.expectText(t, "Devam etmek için ticari ileti onay kutusunu işaretleyin.")
	if desc := page.eval(t, `document.getElementById("etk").getAttribute("aria-describedby")`); desc != "etk-error" {
		t.Errorf("the ETK box is described by %q, want the error", desc)
	}
	if page.checked(t, "etk") || !page.checked(t, "kvkk") {
		t.Errorf("after the error: ETK ticked=%v, KVKK ticked=%v; want false, true", page.checked(t, "etk"), page.checked(t, "kvkk"))
	}
	page.screenshot(t, "03-etk-missing")

	// (c) With the ETK box the code goes out; the source submits it and the
	// consent is recorded with the KVKK choice.
	page.tick(t, "etk")
	if st := page.submit(t, "submit"); st != 200 {
		t.Fatalf("form with both boxes: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "code-sent")
	page.expectText(t, "Kodunuz SMS ile gönderildi", "+90 532 *** ** 33", "Kadıköy Mağazası", "Kodun son geçerlilik saati",
		"KVKK açık rıza tercihiniz: verildi.")
	page.screenshot(t, "04-code-sent", readmeScreenshot("-sent"))

	code := codeOf(ctx, t, admin, first.recipient, first.id)
	sub := must(c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: first.id, Code: code}))(t)
	if st := sub.GetVerification().GetStatus(); st != izinv1.VerificationStatus_VERIFICATION_STATUS_VERIFIED {
		t.Fatalf("SubmitCode: %v, want VERIFIED", st)
	}
	check := must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: first.recipient, Types: smsAndCall}))(t)
	expectResults(t, check.GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS:  izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
		izinv1.ConsentType_CONSENT_TYPE_CALL: izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
	}, smsAndCall)
	for _, r := range check.GetResults() {
		if r.GetKvkk() != izinv1.KvkkStatus_KVKK_STATUS_GRANTED {
			t.Errorf("%v: kvkk %v, want GRANTED (the box was ticked)", r.GetType(), r.GetKvkk())
		}
	}
	// The evidence names the browser, the boxes and the texts it showed.
	if k := sub.GetVerification().GetKvkk(); k != izinv1.KvkkStatus_KVKK_STATUS_GRANTED {
		t.Errorf("verification kvkk %v, want GRANTED", k)
	}
	evs := must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{Recipient: first.recipient}))(t).GetEvents()
	if len(evs) != 3 {
		t.Fatalf("%d consent events, want 3 (SMS and CALL granted, the KVKK choice)", len(evs))
	}
	for _, e := range evs {
		ev := e.GetEvidence()
		if ev.GetMethod() != izinv1.VerificationMethod_VERIFICATION_METHOD_LANDING_PAGE || ev.GetVerificationId() != first.id ||
			ev.GetIpAddress() != "127.0.0.1" || ev.GetUserAgent() != phoneUserAgent ||
			!equalStrings(ev.GetTickedBoxes(), []string{"etk", "kvkk"}) || ev.GetPageViewTime() == nil || ev.GetPageSubmitTime() == nil {
			t.Errorf("%v evidence %v: want the landing page from 127.0.0.1 with the phone's user agent, "+
				"boxes etk and kvkk, view and submit times", e.GetType(), ev)
		}
		for _, ref := range texts.refs {
			if !slices.ContainsFunc(ev.GetTexts(), func(s string) bool { return strings.HasPrefix(s, ref+":sha256:") }) {
				t.Errorf("%v evidence texts %v lack %s, the version shown", e.GetType(), ev.GetTexts(), ref)
			}
		}
	}
	rejectURL := "http://" + s.HTTPAddr + "/r/" + linkToken(ctx, t, admin, first, izinv1.MessageKind_MESSAGE_KIND_CONFIRMATION, "/r/")

	// Opened again, the link says the consent is recorded.
	if st := page.open(t, first.url); st != 200 {
		t.Errorf("consent page after verification: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "verified")
	page.expectText(t, "İzniniz kaydedildi")
	page.screenshot(t, "05-verified")

	// (e) A page sent once cannot be sent again: the same link open in two
	// tabs, sent from the first, is refused in the second.
	second := startLanding(ctx, t, s, c, admin, "0532 111 22 44", smsAndCall, nil)
	other := b.newTab(t)
	for _, tb := range []*tab{page, other} {
		if st := tb.open(t, second.url); st != 200 {
			t.Fatalf("second consent page: HTTP %d", st)
		}
		tb.waitVisible(t, "etk")
		tb.tick(t, "etk")
	}
	if st := page.submit(t, "submit"); st != 200 {
		t.Fatalf("first submit: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "code-sent")
	page.expectText(t, "Kodu, Kadıköy Mağazası çalışanına")
	if st := other.submit(t, "submit"); st != 410 {
		t.Errorf("second submit of the same page: HTTP %d, want 410", st)
	}
	other.waitVisible(t, "problem")
	other.expectText(t, "Bu bağlantı artık kullanılamaz", "Bu form daha önce gönderildi")
	other.screenshot(t, "06-used")
	if n := countKind(ctx, t, admin, second.recipient, second.id, izinv1.MessageKind_MESSAGE_KIND_ACTIVATION); n != 1 {
		t.Errorf("%d activation SMS for a page sent twice, want 1", n)
	}

	// A form whose CSRF cookie is gone is refused kindly, and a fresh load
	// of the page works again.
	third := startLanding(ctx, t, s, c, admin, "0532 111 22 55", []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}, nil)
	if st := page.open(t, third.url); st != 200 {
		t.Fatalf("third consent page: HTTP %d", st)
	}
	page.waitVisible(t, "etk")
	page.clearCookies(t)
	page.tick(t, "etk")
	if st := page.submit(t, "submit"); st != 403 {
		t.Errorf("form without its CSRF cookie: HTTP %d, want 403", st)
	}
	page.waitVisible(t, "problem")
	page.expectText(t, "Sayfanın süresi doldu")
	page.screenshot(t, "07-csrf")
	if st := page.follow(t, "a.button"); st != 200 {
		t.Fatalf("reload after the CSRF page: HTTP %d", st)
	}
	page.waitVisible(t, "etk")
	page.tick(t, "etk")
	if st := page.submit(t, "submit"); st != 200 {
		t.Errorf("form after reloading: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "code-sent")
	page.expectText(t, "KVKK açık rıza tercihiniz: verilmedi.")

	// (f) The confirmation SMS's link rejects with one click.
	if st := page.open(t, rejectURL); st != 200 {
		t.Fatalf("rejection page: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "reject")
	page.expectText(t, "Acme Mağazaları", "+90 532 *** ** 33", "SMS ve telefon araması", "MERSIS No: "+tn.Mersis)
	page.screenshot(t, "08-reject")
	if st := page.submit(t, "reject"); st != 200 {
		t.Fatalf("reject: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "rejected")
	page.expectText(t, "İzniniz geri alındı", "artık size SMS ve telefon araması yoluyla ticari ileti göndermeyecek")
	page.screenshot(t, "09-rejected")
	check = must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: first.recipient, Types: smsAndCall}))(t)
	expectResults(t, check.GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS:  izinv1.ConsentStatus_CONSENT_STATUS_REJECTED,
		izinv1.ConsentType_CONSENT_TYPE_CALL: izinv1.ConsentStatus_CONSENT_STATUS_REJECTED,
	}, smsAndCall)
	if k := check.GetKvkk().GetStatus(); k != izinv1.KvkkStatus_KVKK_STATUS_GRANTED {
		t.Errorf("after the rejection link, kvkk %v; want GRANTED still (a RET is no KVKK withdrawal)", k)
	}
	if st := page.open(t, rejectURL); st != 200 {
		t.Errorf("rejection page once used: HTTP %d, want 200", st)
	}
	page.waitVisible(t, "rejected")

	// An unknown link.
	if st := page.open(t, "http://"+s.HTTPAddr+"/l/AAAAAAAAAAAAAAAA"); st != 404 {
		t.Errorf("unknown link: HTTP %d, want 404", st)
	}
	page.waitVisible(t, "problem")
	page.expectText(t, "Bağlantı bulunamadı")
	page.screenshot(t, "10-not-found")

	// (d) A link not used in time has expired. This needs a server whose
	// links last a second; the test waits for the expiry time the API
	// gave, then opens the page.
	short := startServer(t, sqliteEngine, func(cfg *app.Config) { cfg.LandingTTL = time.Second })
	stn := short.newTenant(t, "Kısa Süreli A.Ş.")
	_, skey := short.newSource(t, stn, "Çağrı merkezi", store.SourceCallCenter)
	late := startLanding(ctx, t, short, short.client(grpcTransport, skey), short.client(grpcTransport, stn.AdminKey),
		"0532 111 22 66", smsAndCall, nil)
	for time.Now().Before(late.expire.Add(10 * time.Millisecond)) {
		time.Sleep(time.Until(late.expire) + 10*time.Millisecond)
	}
	if st := page.open(t, late.url); st != 410 {
		t.Errorf("expired link: HTTP %d, want 410", st)
	}
	page.waitVisible(t, "problem")
	page.expectText(t, "Bağlantının süresi doldu")
	page.screenshot(t, "11-expired")
}

// landing is a started landing-page verification.
type landing struct {
	id, recipient string
	url           string // the consent page, on the test server's address
	expire        time.Time
}

// startLanding starts a landing-page verification for recipient and
// returns the page link from the SMS the customer got.
func startLanding(ctx context.Context, t *testing.T, s *server, c, admin client, recipient string,
	types []izinv1.ConsentType, customer *izinv1.Customer) landing {
	t.Helper()
	v := must(c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: recipient, Types: types,
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_LANDING_PAGE, Customer: customer}))(t).GetVerification()
	if v.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING {
		t.Fatalf("landing verification is %v, want PENDING", v.GetStatus())
	}
	l := landing{id: v.GetId(), recipient: recipient, expire: v.GetExpireTime().AsTime()}
	token := linkToken(ctx, t, admin, l, izinv1.MessageKind_MESSAGE_KIND_LANDING_LINK, "/l/")
	if want := "/l/" + token; !strings.HasSuffix(v.GetLandingUrl(), want) {
		t.Errorf("landing_url %q does not end with the SMS's link", redactLink(v.GetLandingUrl()))
	}
	// The SMS's host is the server's public URL (localhost); the test
	// server listens on 127.0.0.1.
	l.url = "http://" + s.HTTPAddr + "/l/" + token
	return l
}

var linkTokenRE = regexp.MustCompile(`(/[lr]/)([A-Za-z0-9_-]{16})(?:[^A-Za-z0-9_-]|$)`)

// linkToken reads the token of the link (path prefix /l/ or /r/) in the
// newest SMS of kind for a verification.
func linkToken(ctx context.Context, t *testing.T, admin client, l landing, kind izinv1.MessageKind, prefix string) string {
	t.Helper()
	for _, m := range must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: l.recipient}))(t).GetMessages() {
		if m.GetVerificationId() != l.id || m.GetKind() != kind {
			continue
		}
		for _, sm := range linkTokenRE.FindAllStringSubmatch(m.GetBody(), -1) {
			if sm[1] == prefix {
				return sm[2]
			}
		}
		t.Fatalf("%v SMS %q has no %s link", kind, m.GetBody(), prefix)
	}
	t.Fatalf("no %v SMS for verification %s", kind, l.id)
	return ""
}

// countKind counts the SMS of kind sent for a verification.
func countKind(ctx context.Context, t *testing.T, admin client, recipient, id string, kind izinv1.MessageKind) int {
	t.Helper()
	n := 0
	for _, m := range must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: recipient}))(t).GetMessages() {
		if m.GetVerificationId() == id && m.GetKind() == kind {
			n++
		}
	}
	return n
}

// publishedTexts are the Turkish texts a browser test publishes, so the
// page can be checked word for word.
type publishedTexts struct {
	etkTitle, etkBody                        string
	privacyTitle, privacyPara1, privacyPara2 string
	explicitTitle, explicitBody              string
	// refs name the published versions as evidence does: "etk/<id>".
	refs []string
}

// publishTexts publishes version 2 of the default brand's three Turkish
// texts (tenant creation published version 1).
func publishTexts(t *testing.T, s *server, tn *tenant) publishedTexts {
	t.Helper()
	p := publishedTexts{
		etkTitle:      "Ticari elektronik ileti onay metni",
		etkBody:       "Acme Mağazaları kampanya, indirim ve duyurularını size iletmek için onayınızı ister.",
		privacyTitle:  "KVKK aydınlatma metni",
		privacyPara1:  "Veri sorumlusu Acme Perakende A.Ş. olarak kişisel verilerinizi 6698 sayılı Kanun uyarınca işleriz.",
		privacyPara2:  "Telefon numaranız ve adınız, onayınızı kaydetmek ve size ileti göndermek amacıyla işlenir.",
		explicitTitle: "Açık rıza metni",
		explicitBody:  "Alışveriş geçmişime göre kişiselleştirilmiş teklifler almak için verilerimin işlenmesine açık rıza veriyorum.",
	}
	ctx := metadata.AppendToOutgoingContext(testCtx(t), "authorization", "Bearer "+tn.AdminKey)
	ac := izinv1.NewAdminServiceClient(s.conn)
	for _, x := range []struct {
		kind             izinv1.ConsentTextKind
		ref, title, body string
	}{
		{izinv1.ConsentTextKind_CONSENT_TEXT_KIND_ETK, "etk", p.etkTitle, p.etkBody},
		{izinv1.ConsentTextKind_CONSENT_TEXT_KIND_PRIVACY_NOTICE, "privacy_notice", p.privacyTitle, p.privacyPara1 + "\n\n" + p.privacyPara2},
		{izinv1.ConsentTextKind_CONSENT_TEXT_KIND_EXPLICIT_CONSENT, "explicit_consent", p.explicitTitle, p.explicitBody},
	} {
		res, err := ac.CreateConsentText(ctx, &izinv1.CreateConsentTextRequest{Kind: x.kind, Language: "tr", Title: x.title, Body: x.body})
		if err != nil {
			t.Fatalf("publish %v: %v", x.kind, err)
		}
		if v := res.GetText().GetVersion(); v != 2 {
			t.Fatalf("published %v as version %d, want 2 (after the defaults)", x.kind, v)
		}
		p.refs = append(p.refs, x.ref+"/"+res.GetText().GetId())
	}
	return p
}
