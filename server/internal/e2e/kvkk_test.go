package e2e

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// TestKVKKState follows the KVKK explicit consent as a state of its own,
// over both transports on both engines: ticked on the consent page, it is
// what checks report; an ETK rejection leaves it; it is withdrawn alone,
// leaving ETK; RecordConsent records it alone, as one event; KVKK events
// are listed with the recipient's events, never queued for İYS, and the
// hash chain verifies.
func TestKVKKState(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			db := databaseURL(t, e)
			s := startServerAt(t, e, db)
			for _, tr := range transports {
				t.Run(string(tr), func(t *testing.T) {
					testKVKKState(t, s, db, tr)
				})
			}
		})
	}
}

func testKVKKState(t *testing.T, s *server, db string, tr transport) {
	ctx := testCtx(t)
	tn := s.newTenant(t, "KVKK Perakende A.Ş. "+string(tr))
	srcID, key := s.newSource(t, tn, "Bakırköy Mağazası", store.SourceStore)
	c, admin := s.client(tr, key), s.client(tr, tn.AdminKey)
	const recipient = "0532 444 55 66"
	G, R := izinv1.ConsentStatus_CONSENT_STATUS_GRANTED, izinv1.ConsentStatus_CONSENT_STATUS_REJECTED
	kGranted, kWithdrawn := izinv1.KvkkStatus_KVKK_STATUS_GRANTED, izinv1.KvkkStatus_KVKK_STATUS_WITHDRAWN
	sms := []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}

	// The customer ticks both boxes on the page; the source submits the code.
	l := startLanding(ctx, t, s, c, admin, recipient, smsAndCall, &izinv1.Customer{FirstName: "Elif", LastName: "Kaya"})
	submitPage(ctx, t, l.url, true)
	sub := must(c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: l.id, Code: codeOf(ctx, t, admin, l.recipient, l.id)}))(t)
	if got := sub.GetKvkk(); got.GetStatus() != kGranted || got.GetEventId() == "" || got.GetSourceId() != srcID {
		t.Fatalf("SubmitCode kvkk %v, want GRANTED from an event, by the source", got)
	}
	pageEvent := sub.GetKvkk().GetEventId()
	expectKVKK(ctx, t, c, recipient, map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS: G, izinv1.ConsentType_CONSENT_TYPE_CALL: G}, kGranted, pageEvent)

	// Rejecting SMS leaves the KVKK state as it was.
	rej := must(c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: recipient, Types: sms}))(t)
	if len(rej.GetEvents()) != 1 || rej.GetKvkk().GetStatus() != kGranted {
		t.Fatalf("RejectConsent SMS: %d events, kvkk %v; want 1 event, kvkk GRANTED", len(rej.GetEvents()), rej.GetKvkk())
	}
	expectKVKK(ctx, t, c, recipient, map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS: R, izinv1.ConsentType_CONSENT_TYPE_CALL: G}, kGranted, pageEvent)

	// Withdrawing KVKK alone leaves ETK as it was.
	wd := must(c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: recipient, WithdrawKvkk: true,
		Reference: "dilekce-2291", OperatorId: "kasiyer-3"}))(t)
	if len(wd.GetEvents()) != 1 || len(wd.GetResults()) != 0 || wd.GetKvkk().GetStatus() != kWithdrawn {
		t.Fatalf("withdraw_kvkk: %d events, %d results, kvkk %v; want 1 event, no result, WITHDRAWN",
			len(wd.GetEvents()), len(wd.GetResults()), wd.GetKvkk())
	}
	withdrawn := wd.GetEvents()[0]
	if withdrawn.GetType() != izinv1.ConsentType_CONSENT_TYPE_UNSPECIFIED || withdrawn.GetKvkk() != kWithdrawn ||
		withdrawn.GetStatus() != R || withdrawn.GetEvidence().GetReference() != "dilekce-2291" ||
		withdrawn.GetEvidence().GetOperatorId() != "kasiyer-3" || withdrawn.GetEvidence().GetSourceId() != srcID {
		t.Fatalf("withdrawal event %v", withdrawn)
	}
	expectKVKK(ctx, t, c, recipient, map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS: R, izinv1.ConsentType_CONSENT_TYPE_CALL: G}, kWithdrawn, withdrawn.GetId())
	// Again, there is nothing left to withdraw.
	if again := must(c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: recipient, WithdrawKvkk: true}))(t); len(again.GetEvents()) != 0 {
		t.Errorf("a second withdrawal wrote %d events", len(again.GetEvents()))
	}

	// RecordConsent records KVKK alone, naming the text shown: one event.
	var explicit *izinv1.ConsentText
	for _, x := range must(s.textsClient(tr, key).list(ctx, "", false))(t) {
		if x.GetKind() == izinv1.ConsentTextKind_CONSENT_TEXT_KIND_EXPLICIT_CONSENT && x.GetLanguage() == "tr" {
			explicit = x
		}
	}
	if explicit == nil {
		t.Fatal("no Turkish explicit-consent text")
	}
	rec := must(c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: recipient, Kvkk: kGranted,
		KvkkTextId: explicit.GetId(), Reference: "tablet-form-8"}))(t)
	if len(rec.GetEvents()) != 1 || len(rec.GetResults()) != 0 || rec.GetKvkk().GetStatus() != kGranted {
		t.Fatalf("RecordConsent kvkk alone: %d events, %d results, kvkk %v", len(rec.GetEvents()), len(rec.GetResults()), rec.GetKvkk())
	}
	recorded := rec.GetEvents()[0]
	wantText := "explicit_consent/" + explicit.GetId() + ":sha256:" + explicit.GetSha256()
	if recorded.GetType() != izinv1.ConsentType_CONSENT_TYPE_UNSPECIFIED || recorded.GetKvkk() != kGranted ||
		!equalStrings(recorded.GetEvidence().GetTexts(), []string{wantText}) {
		t.Fatalf("KVKK record event %v, want texts [%s]", recorded, wantText)
	}
	expectKVKK(ctx, t, c, recipient, map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS: R, izinv1.ConsentType_CONSENT_TYPE_CALL: G}, kGranted, recorded.GetId())

	// The rules refuse by field name.
	_, err := c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: recipient})
	expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "types"})
	_, err = c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: recipient, Kvkk: kWithdrawn})
	expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "kvkk"})
	_, err = c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: recipient, Types: sms, KvkkTextId: explicit.GetId()})
	expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "kvkk_text_id"})
	_, err = c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: recipient, Kvkk: kGranted, SendConfirmation: true})
	expectError(t, tr, err, want{code: codes.InvalidArgument, http: 400, field: "send_confirmation"})

	// The recipient's events, newest first: KVKK events are of no ETK type
	// and carry kvkk; the page's KVKK event has the page's evidence.
	evs := must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{Recipient: recipient}))(t).GetEvents()
	type shape struct {
		typ    izinv1.ConsentType
		status izinv1.ConsentStatus
		kvkk   izinv1.KvkkStatus
	}
	U, none := izinv1.ConsentType_CONSENT_TYPE_UNSPECIFIED, izinv1.KvkkStatus_KVKK_STATUS_UNSPECIFIED
	wantShapes := []shape{{U, G, kGranted}, {U, R, kWithdrawn}, {sms[0], R, none},
		{U, G, kGranted}, {izinv1.ConsentType_CONSENT_TYPE_CALL, G, none}, {sms[0], G, none}}
	if len(evs) != len(wantShapes) {
		t.Fatalf("%d events, want %d", len(evs), len(wantShapes))
	}
	for i, ev := range evs {
		if got := (shape{ev.GetType(), ev.GetStatus(), ev.GetKvkk()}); got != wantShapes[i] {
			t.Errorf("event %d (newest first): %v, want %v", i, got, wantShapes[i])
		}
	}
	if ev := evs[3]; ev.GetId() != pageEvent || ev.GetEvidence().GetVerificationId() != l.id ||
		ev.GetEvidence().GetMethod() != izinv1.VerificationMethod_VERIFICATION_METHOD_LANDING_PAGE ||
		!equalStrings(ev.GetEvidence().GetTickedBoxes(), []string{"etk", "kvkk"}) || ev.GetEvidence().GetKvkk() != kGranted ||
		!containsPrefix(ev.GetEvidence().GetTexts(), "explicit_consent/") || ev.GetEvidence().GetPageSubmitTime() == nil {
		t.Errorf("the page's KVKK event %v lacks the page evidence", ev)
	}

	// Only the ETK changes are queued for İYS.
	ups, err := s.App.Store.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: tn.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 3 {
		t.Errorf("%d İYS uploads, want 3 (SMS and CALL granted, SMS rejected)", len(ups))
	}
	for _, u := range ups {
		if u.Type == store.ConsentKVKK || u.EventID == pageEvent || u.EventID == withdrawn.GetId() || u.EventID == recorded.GetId() {
			t.Errorf("a KVKK event was queued for İYS: %+v", u)
		}
	}

	// The chain, KVKK events included, verifies.
	code, out, errOut := runCLI(t, "--database-url", db, "audit", "verify", "--tenant", tn.ID, "--json")
	if code != 0 {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
	}
	var audit struct {
		OK      bool `json:"ok"`
		Tenants []struct {
			Events int64 `json:"events"`
			OK     bool  `json:"ok"`
		} `json:"tenants"`
	}
	decodeOne(t, out, &audit)
	if !audit.OK || len(audit.Tenants) != 1 || !audit.Tenants[0].OK || audit.Tenants[0].Events != 6 {
		t.Errorf("audit verify: %s; want ok with 6 events", out)
	}
}

// expectKVKK checks the recipient's ETK states and KVKK state through
// CheckConsent, BatchCheckConsents and, on gRPC, StreamCheckConsents.
func expectKVKK(ctx context.Context, t *testing.T, c client, recipient string,
	etk map[izinv1.ConsentType]izinv1.ConsentStatus, kvkk izinv1.KvkkStatus, eventID string) {
	t.Helper()
	req := &izinv1.CheckConsentRequest{Recipient: recipient, Types: smsAndCall}
	answers := map[string]*izinv1.CheckConsentResponse{"check": must(c.CheckConsent(ctx, req))(t)}
	batch := must(c.BatchCheckConsents(ctx, &izinv1.BatchCheckConsentsRequest{Checks: []*izinv1.CheckConsentRequest{req}}))(t)
	if len(batch.GetItems()) != 1 || batch.GetItems()[0].GetError() != nil {
		t.Fatalf("batch check: %v", batch)
	}
	answers["batch"] = batch.GetItems()[0].GetResult()
	if gc, ok := c.(*grpcClient); ok {
		stream, err := gc.consent.StreamCheckConsents(gc.ctx(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&izinv1.StreamCheckConsentsRequest{Check: req, CorrelationId: "k"}); err != nil {
			t.Fatal(err)
		}
		got, err := stream.Recv()
		if err != nil || got.GetError() != nil {
			t.Fatalf("stream check: %v %v", got, err)
		}
		answers["stream"] = got.GetResult()
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != io.EOF {
			t.Fatalf("stream end: %v", err)
		}
	}
	for how, res := range answers {
		expectResults(t, res.GetResults(), etk, smsAndCall)
		for _, r := range res.GetResults() {
			if r.GetKvkk() != kvkk {
				t.Errorf("%s: %v result kvkk %v, want %v", how, r.GetType(), r.GetKvkk(), kvkk)
			}
		}
		if k := res.GetKvkk(); k.GetStatus() != kvkk || k.GetEventId() != eventID || k.GetConsentTime() == nil {
			t.Errorf("%s: kvkk %v, want %v from event %s", how, k, kvkk, eventID)
		}
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// submitPage sends the consent form as a browser without scripts would:
// it loads the page (which sets the CSRF cookie and field), then posts the
// form with the ETK box and, if kvkk, the KVKK box ticked.
func submitPage(ctx context.Context, t *testing.T, pageURL string, kvkk bool) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar}
	body := func(req *http.Request) string {
		t.Helper()
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d, %v", req.Method, req.URL.Path[:3], resp.StatusCode, err)
		}
		return string(b)
	}
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := csrfRE.FindStringSubmatch(body(get))
	if m == nil {
		t.Fatal("the consent page has no CSRF field")
	}
	form := url.Values{"csrf": {html.UnescapeString(m[1])}, "lang": {"tr"}, "text_lang": {"tr"}, "etk": {"yes"}}
	if kvkk {
		form.Set("kvkk", "yes")
	}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, pageURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	body(post)
}

func containsPrefix(ss []string, prefix string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
