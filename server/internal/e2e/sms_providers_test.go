package e2e

import (
	"regexp"
	"strings"
	"testing"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
)

// TestSMSProviders runs both consent methods, delivery reports, keyword
// replies and an outage against each provider's test server, on both
// engines.
func TestSMSProviders(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, e, fastOutbox, webhookConfig)
			for _, p := range fakeProviders {
				t.Run(p.name, func(t *testing.T) {
					t.Parallel()
					f := p.new(t)
					t.Cleanup(f.close)
					env := newSMSEnv(t, s, f)
					t.Run("code", func(t *testing.T) { testProviderCode(t, env) })
					t.Run("landing", func(t *testing.T) { testProviderLanding(t, env) })
					t.Run("failed", func(t *testing.T) { testProviderFailed(t, env) })
					t.Run("keywords", func(t *testing.T) { testProviderKeywords(t, env) })
					t.Run("outage", func(t *testing.T) { testProviderOutage(t, env) })
					t.Run("test", func(t *testing.T) { testProviderTestMessage(t, env) })
				})
			}
		})
	}
}

// A code SMS reaches the provider, the code verifies, the confirmation
// follows, and delivery reports (pushed, then polled) are applied.
func testProviderCode(t *testing.T, e *smsEnv) {
	const to = "+905321110001"
	v, m, code := e.start(t, to)
	if _, err := e.verify.SubmitCode(e.ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code}); err != nil {
		t.Fatalf("SubmitCode: %v", err)
	}
	conf := sentTo(t, e.fake, to, 2)[1]
	if !strings.Contains(conf.Body, "/r/") || !strings.Contains(conf.Body, e.tn.Mersis) {
		t.Fatalf("confirmation %q has no rejection link or MERSIS", conf.Body)
	}
	// Pushed report: delivered.
	e.fake.setOutcome(t, m.ID, true)
	if err := e.fake.pushReport(e.ctx, e.callbacks.GetReportUrl(), m.ID); err != nil {
		t.Fatalf("push report: %v", err)
	}
	waitUntil(t, "the activation SMS reported delivered", func() bool {
		got := e.messageStatus(t, to, m.ID)
		return got != nil && got.GetStatus() == izinv1.MessageStatus_MESSAGE_STATUS_DELIVERED && got.GetStatusTime() != nil
	})
	listed := e.messageStatus(t, to, m.ID)
	if strings.Contains(listed.GetBody(), code) || listed.GetProvider() != providerName(e.fake) {
		t.Fatalf("ListMessages shows %q through %q: a real provider's body must hide the code", listed.GetBody(), listed.GetProvider())
	}
	// Polled report: the confirmation is delivered without a push.
	e.fake.setOutcome(t, conf.ID, true)
	waitUntil(t, "the confirmation's report polled", func() bool {
		got := e.messageStatus(t, to, conf.ID)
		return got != nil && got.GetStatus() == izinv1.MessageStatus_MESSAGE_STATUS_DELIVERED
	})
	// A pushed report with the wrong secret is refused.
	bad := regexp.MustCompile(`secret=[^&]+`).ReplaceAllString(e.callbacks.GetReportUrl(), "secret=wrong")
	if err := e.fake.pushReport(e.ctx, bad, m.ID); err == nil && e.fake.provider() != izinv1.SmsProvider_SMS_PROVIDER_TWILIO {
		t.Error("a report with a wrong secret was accepted")
	}
}

// The landing-page method: the link SMS reaches the provider, the page is
// sent, and the code SMS that follows verifies.
func testProviderLanding(t *testing.T, e *smsEnv) {
	const to = "+905321110002"
	v, err := e.verify.StartVerification(e.ctx, &izinv1.StartVerificationRequest{Recipient: to, Types: smsAndCall,
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_LANDING_PAGE})
	if err != nil {
		t.Fatalf("StartVerification: %v", err)
	}
	link := sentTo(t, e.fake, to, 1)[0]
	page := regexp.MustCompile(`https?://\S+/l/\S+`).FindString(link.Body)
	if page == "" || page != v.GetVerification().GetLandingUrl() {
		t.Fatalf("link SMS %q, verification link %q", link.Body, v.GetVerification().GetLandingUrl())
	}
	submitPage(e.ctx, t, page, true)
	code := codeRE.FindStringSubmatch(sentTo(t, e.fake, to, 2)[1].Body)
	if code == nil {
		t.Fatal("no code SMS after the page was sent")
	}
	if _, err := e.verify.SubmitCode(e.ctx, &izinv1.SubmitCodeRequest{Id: v.GetVerification().GetId(), Code: code[1]}); err != nil {
		t.Fatalf("SubmitCode: %v", err)
	}
	if got := e.check(t, to); got[izinv1.ConsentType_CONSENT_TYPE_SMS] != izinv1.ConsentStatus_CONSENT_STATUS_GRANTED {
		t.Fatalf("after the landing page: %v", got)
	}
}

// A failed delivery shows on the verification, so the cashier resends or
// turns to the landing page.
func testProviderFailed(t *testing.T, e *smsEnv) {
	const to = "+905321110003"
	v, m, _ := e.start(t, to)
	e.fake.setOutcome(t, m.ID, false)
	if err := e.fake.pushReport(e.ctx, e.callbacks.GetReportUrl(), m.ID); err != nil {
		t.Fatalf("push report: %v", err)
	}
	waitUntil(t, "the verification shows its SMS failed", func() bool {
		got, err := e.verify.GetVerification(e.ctx, &izinv1.GetVerificationRequest{Id: v.GetId()})
		return err == nil && got.GetVerification().GetSmsStatus() == izinv1.MessageStatus_MESSAGE_STATUS_FAILED &&
			got.GetVerification().GetSmsError() != ""
	})
	failed := e.messageStatus(t, to, m.ID)
	if failed.GetStatusCode() == "" {
		t.Errorf("the failed message keeps no provider code: %+v", failed)
	}
	// The failure reaches the tenant's webhook once.
	e.hooks.waitFor(t, "message.failed delivered", func(hs []hook) bool {
		for _, h := range hs {
			if typ, data := bodyType(t, h.Body); typ == "message.failed" && data["id"] == failed.GetId() {
				return true
			}
		}
		return false
	})
	n := 0
	for _, h := range e.hooks.all() {
		if typ, data := bodyType(t, h.Body); typ == "message.failed" && data["id"] == failed.GetId() {
			n++
		}
	}
	if n != 1 {
		t.Errorf("message.failed delivered %d times, want once", n)
	}
}

// RET, IPTAL and EVET replies act at once, with the reply as evidence and
// an answer SMS; other words are kept.
func testProviderKeywords(t *testing.T, e *smsEnv) {
	const to = "+905321110004"
	v, _, code := e.start(t, to)
	if _, err := e.verify.SubmitCode(e.ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code}); err != nil {
		t.Fatalf("SubmitCode: %v", err)
	}
	before := len(sentTo(t, e.fake, to, 2))
	if err := e.fake.receive(e.ctx, e.callbacks.GetInboundUrl(), to, "ret "+strings.ToLower(e.tn.BrandCode)); err != nil {
		t.Fatalf("inbound RET: %v", err)
	}
	waitUntil(t, "RET applied", func() bool {
		got := e.check(t, to)
		return got[izinv1.ConsentType_CONSENT_TYPE_SMS] == izinv1.ConsentStatus_CONSENT_STATUS_REJECTED &&
			got[izinv1.ConsentType_CONSENT_TYPE_CALL] == izinv1.ConsentStatus_CONSENT_STATUS_REJECTED
	})
	// The RET reaches the webhook as two consent.rejected events, once each.
	e.hooks.waitFor(t, "the RET's events delivered", func(hs []hook) bool {
		n := 0
		for _, h := range hs {
			if typ, data := bodyType(t, h.Body); typ == "consent.rejected" && data["recipient"] == to {
				n++
			}
		}
		return n == 2
	})
	answer := sentTo(t, e.fake, to, before+1)[before]
	if !strings.Contains(answer.Body, "reddedildi") || !strings.Contains(answer.Body, e.tn.Mersis) {
		t.Fatalf("the answer to RET is %q", answer.Body)
	}
	events, err := e.consent.ListConsentEvents(e.ctx, &izinv1.ListConsentEventsRequest{Recipient: to})
	if err != nil {
		t.Fatal(err)
	}
	newest := events.GetEvents()[0]
	if newest.GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_REJECTED || newest.GetEvidence().GetIysSource() != "HS_MESAJ" ||
		!strings.HasPrefix(newest.GetEvidence().GetReference(), "inbound_sms:") {
		t.Fatalf("the RET event is %+v", newest)
	}

	// A forged Twilio webhook (signed with another token) is refused and
	// changes nothing.
	if tw, ok := e.fake.(*fakeTwilio); ok {
		if err := tw.s.PushInboundSigned(e.ctx, e.callbacks.GetInboundUrl(), "+905321110009", "+15005550006", "EVET",
			"not-the-auth-token"); err == nil {
			t.Error("a forged Twilio webhook was accepted")
		}
	}
	// Keyword opt-in from a new number, in Turkish capitals.
	const optin = "+905321110005"
	if err := e.fake.receive(e.ctx, e.callbacks.GetInboundUrl(), optin, "EVET "+e.tn.BrandCode); err != nil {
		t.Fatalf("inbound EVET: %v", err)
	}
	waitUntil(t, "EVET recorded", func() bool {
		return e.check(t, optin)[izinv1.ConsentType_CONSENT_TYPE_SMS] == izinv1.ConsentStatus_CONSENT_STATUS_GRANTED
	})
	conf := sentTo(t, e.fake, optin, 1)[0]
	if !strings.Contains(conf.Body, "/r/") {
		t.Fatalf("the opt-in's confirmation %q has no rejection link", conf.Body)
	}
	// IPTAL with a dotted capital İ rejects too.
	if err := e.fake.receive(e.ctx, e.callbacks.GetInboundUrl(), optin, "İPTAL"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "İPTAL applied", func() bool {
		return e.check(t, optin)[izinv1.ConsentType_CONSENT_TYPE_SMS] == izinv1.ConsentStatus_CONSENT_STATUS_REJECTED
	})
	// An unknown word is kept and listed.
	if err := e.fake.receive(e.ctx, e.callbacks.GetInboundUrl(), optin, "Kampanya ne zaman?"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the unknown reply listed", func() bool {
		list, err := e.admin.ListInboundMessages(e.adminCtx, &izinv1.ListInboundMessagesRequest{
			Action: izinv1.InboundAction_INBOUND_ACTION_UNKNOWN})
		return err == nil && len(list.GetMessages()) == 1 && list.GetMessages()[0].GetBody() == "Kampanya ne zaman?"
	})
	list, err := e.admin.ListInboundMessages(e.adminCtx, &izinv1.ListInboundMessagesRequest{})
	if err != nil || len(list.GetMessages()) != 4 { // the forged one is not kept
		t.Fatalf("ListInboundMessages = %d, %v; want the 4 replies", len(list.GetMessages()), err)
	}
}

// The provider refuses, then drops an answer after taking the message:
// every message arrives exactly once and the verification stays valid.
func testProviderOutage(t *testing.T, e *smsEnv) {
	const to = "+905321110006"
	e.fake.refuseNext(7) // more than the circuit's threshold
	v, _, code := e.start(t, to)
	if got := sentTo(t, e.fake, to, 1); len(got) != 1 {
		t.Fatalf("%d activation SMS after the outage, want 1", len(got))
	}
	// The answer to the confirmation's send is lost after the provider
	// took it: izin asks before sending again.
	e.fake.dropNext(1)
	if _, err := e.verify.SubmitCode(e.ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code}); err != nil {
		t.Fatalf("SubmitCode after the outage: %v", err)
	}
	conf := sentTo(t, e.fake, to, 2)
	waitUntil(t, "the confirmation recorded as sent", func() bool {
		m := e.messageStatus(t, to, conf[1].ID)
		return m != nil && m.GetStatus() != izinv1.MessageStatus_MESSAGE_STATUS_QUEUED
	})
	if got := sentTo(t, e.fake, to, 2); len(got) != 2 {
		t.Fatalf("%d messages reached the provider, want 2 (each once): %+v", len(got), got)
	}
	st, err := e.admin.GetSmsStatus(e.adminCtx, &izinv1.GetSmsStatusRequest{})
	if err != nil || len(st.GetBrands()) != 1 || st.GetBrands()[0].GetLastError() == "" || st.GetBrands()[0].GetLastSuccessTime() == nil {
		t.Fatalf("GetSmsStatus = %+v, %v", st, err)
	}
}

// izin sms test: one informational message, in the Turkish encoding.
func testProviderTestMessage(t *testing.T, e *smsEnv) {
	const to = "+905321110007"
	r, err := e.admin.SendTestSms(e.adminCtx, &izinv1.SendTestSmsRequest{Brand: e.tn.BrandCode, Recipient: to})
	if err != nil {
		t.Fatalf("SendTestSms: %v", err)
	}
	m := sentTo(t, e.fake, to, 1)[0]
	if !strings.HasPrefix(m.Body, e.tn.Sender+": ") || !strings.Contains(m.Body, "ı") {
		t.Fatalf("test message %q", m.Body)
	}
	if p := e.fake.provider(); informationalFlag(p) && (!m.Informational || !m.Turkish) {
		t.Errorf("test message flags: informational %v, Turkish %v", m.Informational, m.Turkish)
	}
	if r.GetMessageId() == "" {
		t.Error("no message id")
	}
}
