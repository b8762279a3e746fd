package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

const (
	walkRecipient = "+90 532 123 45 67"
	walkE164      = "+905321234567"
)

var (
	allTypes = []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS, izinv1.ConsentType_CONSENT_TYPE_CALL,
		izinv1.ConsentType_CONSENT_TYPE_EMAIL}
	smsAndCall = []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS, izinv1.ConsentType_CONSENT_TYPE_CALL}
)

// TestWalkthrough is the walkthrough, step by step, on every engine
// through every transport.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, e)
			for _, tr := range transports {
				t.Run(string(tr), func(t *testing.T) {
					t.Parallel()
					tn := s.newTenant(t, "Walkthrough "+string(e)+" "+string(tr))
					srcID, key := s.newSource(t, tn, "Call centre", store.SourceCallCenter)
					walkthrough(t, s.client(tr, key), s.client(tr, tn.AdminKey), tn, srcID)
				})
			}
		})
	}
}

// walked is what a walkthrough leaves behind.
type walked struct {
	verificationID string
	activationID   string
	confirmationID string
	code           string
}

// walkthrough runs the six steps of the issue with c (a source's key) and
// admin (the tenant's admin key, to read the sandbox).
func walkthrough(t *testing.T, c, admin client, tn *tenant, sourceID string) walked {
	t.Helper()
	ctx := testCtx(t)
	var w walked

	// 1. Any common spelling of the number finds the same, empty record.
	for _, spelling := range []string{walkRecipient, "05321234567", "0532 123 45 67"} {
		res := must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: spelling}))(t)
		if res.GetRecipient() != walkE164 {
			t.Fatalf("check %q: recipient %q, want %q", spelling, res.GetRecipient(), walkE164)
		}
		if res.GetBrand() != tn.BrandCode {
			t.Errorf("check %q: brand %q, want the default brand %q", spelling, res.GetBrand(), tn.BrandCode)
		}
		if res.GetRecipientType() != izinv1.RecipientType_RECIPIENT_TYPE_INDIVIDUAL {
			t.Errorf("check %q: recipient type %v, want INDIVIDUAL", spelling, res.GetRecipientType())
		}
		expectResults(t, res.GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
			izinv1.ConsentType_CONSENT_TYPE_SMS:   izinv1.ConsentStatus_CONSENT_STATUS_NONE,
			izinv1.ConsentType_CONSENT_TYPE_CALL:  izinv1.ConsentStatus_CONSENT_STATUS_NONE,
			izinv1.ConsentType_CONSENT_TYPE_EMAIL: izinv1.ConsentStatus_CONSENT_STATUS_NONE,
		}, allTypes)
	}

	// 2. Start an SMS-code verification for SMS and CALL.
	started := time.Now()
	v := must(c.StartVerification(ctx, &izinv1.StartVerificationRequest{
		Recipient: "0532 123 45 67", Types: smsAndCall, Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE,
	}))(t).GetVerification()
	if v.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING {
		t.Fatalf("started verification is %v, want PENDING", v.GetStatus())
	}
	if v.GetAttemptsLeft() != 3 {
		t.Errorf("attempts_left %d, want 3", v.GetAttemptsLeft())
	}
	if v.GetRecipient() != walkE164 || v.GetMethod() != izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE ||
		!sameTypes(v.GetTypes(), smsAndCall) || v.GetBrandCode() != tn.BrandCode || v.GetSourceId() != sourceID {
		t.Errorf("verification %v does not echo the request (recipient %s, types SMS+CALL, brand %s, source %s)",
			v, walkE164, tn.BrandCode, sourceID)
	}
	if exp := v.GetExpireTime().AsTime(); exp.Before(started.Add(3*time.Minute-10*time.Second)) ||
		exp.After(time.Now().Add(3*time.Minute+10*time.Second)) {
		t.Errorf("expire_time %v, want about 3 minutes after %v", exp, started)
	}
	if len(v.GetMessageIds()) != 1 {
		t.Fatalf("verification has message ids %v, want exactly one", v.GetMessageIds())
	}
	w.verificationID, w.activationID = v.GetId(), v.GetMessageIds()[0]

	// 3. The sandbox shows the activation SMS, which the worker then sends.
	msgs := must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: walkRecipient}))(t).GetMessages()
	if len(msgs) != 1 {
		t.Fatalf("ListMessages: %d messages, want the one activation SMS", len(msgs))
	}
	act := msgs[0]
	if act.GetId() != w.activationID || act.GetKind() != izinv1.MessageKind_MESSAGE_KIND_ACTIVATION ||
		act.GetRecipient() != walkE164 || act.GetVerificationId() != w.verificationID || act.GetSender() != tn.Sender {
		t.Errorf("activation message %v: want id %s, kind ACTIVATION, recipient %s, verification %s, sender %s",
			act, w.activationID, walkE164, w.verificationID, tn.Sender)
	}
	w.code = activationCode(t, act.GetBody())
	t.Logf("activation SMS (%d of %d units): %s", sms.Measure(act.GetBody()).Units, sms.Measure(act.GetBody()).Limit, act.GetBody())
	expectConsentSMS(t, act.GetBody(), tn.Mersis)
	if act.GetCreateTime() == nil {
		t.Errorf("activation message has no create_time")
	}
	sent := waitSent(t, admin, walkRecipient, w.activationID)
	if sent.GetProvider() != "sandbox" || sent.GetProviderMessageId() == "" || sent.GetSendTime() == nil {
		t.Errorf("sent activation message %v: want provider sandbox with a provider id and send_time", sent)
	}
	if sent.GetBody() != act.GetBody() {
		t.Errorf("the sandbox body changed on sending: %q, was %q", sent.GetBody(), act.GetBody())
	}

	// 4. A wrong code is refused with the attempts left; the right one verifies.
	_, err := c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: w.verificationID, Code: wrongCode(w.code)})
	expectError(t, c.Transport(), err, want{code: codes.InvalidArgument, http: 400, field: "code",
		reason: "ERROR_REASON_INVALID_CODE", meta: map[string]string{"attempts_left": "2"}})
	got := must(c.GetVerification(ctx, &izinv1.GetVerificationRequest{Id: w.verificationID}))(t).GetVerification()
	if got.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING || got.GetAttemptsLeft() != 2 {
		t.Errorf("after a wrong code: %v with %d attempts left, want PENDING with 2", got.GetStatus(), got.GetAttemptsLeft())
	}
	sub := must(c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: w.verificationID, Code: w.code}))(t)
	if sub.GetVerification().GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_VERIFIED {
		t.Fatalf("after the right code: %v, want VERIFIED", sub.GetVerification().GetStatus())
	}
	if sub.GetVerification().GetVerifyTime() == nil {
		t.Errorf("verified verification has no verify_time")
	}
	expectResults(t, sub.GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS:  izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
		izinv1.ConsentType_CONSENT_TYPE_CALL: izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
	}, smsAndCall)
	if n := len(sub.GetEvents()); n != 2 {
		t.Errorf("SubmitCode wrote %d events, want 2", n)
	}
	if ids := sub.GetVerification().GetMessageIds(); len(ids) != 2 || ids[0] != w.activationID {
		t.Fatalf("verified verification lists messages %v, want the activation %s then the confirmation", ids, w.activationID)
	}
	w.confirmationID = sub.GetVerification().GetMessageIds()[1]

	// 5. SMS and CALL are granted, EMAIL still NONE; the confirmation is in the sandbox.
	res := must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: "05321234567"}))(t)
	expectResults(t, res.GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS:   izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
		izinv1.ConsentType_CONSENT_TYPE_CALL:  izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
		izinv1.ConsentType_CONSENT_TYPE_EMAIL: izinv1.ConsentStatus_CONSENT_STATUS_NONE,
	}, allTypes)
	for _, r := range res.GetResults()[:2] {
		if r.GetSourceId() != sourceID || r.GetIysSource() != "HS_CAGRI_MERKEZI" || r.GetEventId() == "" {
			t.Errorf("granted %v: want source %s, iys_source HS_CAGRI_MERKEZI and an event id", r, sourceID)
		}
	}
	msgs = must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: walkE164}))(t).GetMessages()
	if len(msgs) != 2 || msgs[0].GetId() != w.confirmationID || msgs[1].GetId() != w.activationID {
		t.Fatalf("ListMessages: %v, want the confirmation %s then the activation %s (newest first)",
			messageIDs(msgs), w.confirmationID, w.activationID)
	}
	conf := msgs[0]
	if conf.GetKind() != izinv1.MessageKind_MESSAGE_KIND_CONFIRMATION || conf.GetVerificationId() != w.verificationID {
		t.Errorf("confirmation %v: want kind CONFIRMATION of verification %s", conf, w.verificationID)
	}
	if conf.GetCreateTime().AsTime().Before(msgs[1].GetCreateTime().AsTime()) {
		t.Errorf("the newest message is older than the one after it")
	}
	expectConsentSMS(t, conf.GetBody(), tn.Mersis)
	t.Logf("confirmation SMS (%d of %d units): %s", sms.Measure(conf.GetBody()).Units, sms.Measure(conf.GetBody()).Limit, conf.GetBody())
	if strings.Contains(conf.GetBody(), w.code) {
		t.Errorf("the confirmation repeats the activation code: %q", conf.GetBody())
	}
	waitSent(t, admin, walkE164, w.confirmationID)

	// 6. A rejection takes effect for the very next check.
	rej := must(c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: walkRecipient,
		Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}}))(t)
	if len(rej.GetEvents()) != 1 || rej.GetRecipient() != walkE164 {
		t.Errorf("RejectConsent: %d events for %q, want 1 for %s", len(rej.GetEvents()), rej.GetRecipient(), walkE164)
	}
	res = must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: walkRecipient}))(t)
	expectResults(t, res.GetResults(), map[izinv1.ConsentType]izinv1.ConsentStatus{
		izinv1.ConsentType_CONSENT_TYPE_SMS:   izinv1.ConsentStatus_CONSENT_STATUS_REJECTED,
		izinv1.ConsentType_CONSENT_TYPE_CALL:  izinv1.ConsentStatus_CONSENT_STATUS_GRANTED,
		izinv1.ConsentType_CONSENT_TYPE_EMAIL: izinv1.ConsentStatus_CONSENT_STATUS_NONE,
	}, allTypes)

	evs := must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{Recipient: "0532 123 45 67"}))(t).GetEvents()
	wantEvents := []struct {
		typ    izinv1.ConsentType
		status izinv1.ConsentStatus
	}{
		{izinv1.ConsentType_CONSENT_TYPE_SMS, izinv1.ConsentStatus_CONSENT_STATUS_REJECTED},
		{izinv1.ConsentType_CONSENT_TYPE_CALL, izinv1.ConsentStatus_CONSENT_STATUS_GRANTED},
		{izinv1.ConsentType_CONSENT_TYPE_SMS, izinv1.ConsentStatus_CONSENT_STATUS_GRANTED},
	}
	if len(evs) != len(wantEvents) {
		t.Fatalf("ListConsentEvents: %d events, want %d: %v", len(evs), len(wantEvents), evs)
	}
	for i, we := range wantEvents {
		e := evs[i]
		if e.GetType() != we.typ || e.GetStatus() != we.status {
			t.Errorf("event %d: %v %v, want %v %v", i, e.GetType(), e.GetStatus(), we.typ, we.status)
		}
		if e.GetRecipient() != walkE164 || e.GetBrandCode() != tn.BrandCode || e.GetConsentTime() == nil ||
			e.GetCreateTime() == nil || len(e.GetHash()) != 64 {
			t.Errorf("event %d: %v: want recipient %s, brand %s, times and a SHA-256 hash", i, e, walkE164, tn.BrandCode)
		}
		ev := e.GetEvidence()
		if ev.GetSourceId() != sourceID || ev.GetApiKeyId() == "" || ev.GetIysSource() != "HS_CAGRI_MERKEZI" {
			t.Errorf("event %d evidence %v: want source %s, an API key id and iys_source HS_CAGRI_MERKEZI", i, ev, sourceID)
		}
		if we.status == izinv1.ConsentStatus_CONSENT_STATUS_GRANTED {
			if ev.GetVerificationId() != w.verificationID ||
				ev.GetMethod() != izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE ||
				!equalStrings(ev.GetMessageIds(), []string{w.activationID, w.confirmationID}) {
				t.Errorf("granted event %d evidence %v: want verification %s, method SMS_CODE, messages [%s %s]",
					i, ev, w.verificationID, w.activationID, w.confirmationID)
			}
		} else if ev.GetVerificationId() != "" || len(ev.GetMessageIds()) != 0 {
			t.Errorf("rejection evidence %v names a verification or messages", ev)
		}
	}
	for i := 0; i+1 < len(evs); i++ {
		if evs[i].GetSequence() != evs[i+1].GetSequence()+1 {
			t.Errorf("sequences %d, %d are not consecutive, newest first", evs[i].GetSequence(), evs[i+1].GetSequence())
		}
		if evs[i].GetPreviousHash() != evs[i+1].GetHash() {
			t.Errorf("event %d: previous_hash %s is not the hash %s of the event before it",
				evs[i].GetSequence(), evs[i].GetPreviousHash(), evs[i+1].GetHash())
		}
	}
	if first := evs[len(evs)-1]; first.GetSequence() != 1 || first.GetPreviousHash() != "" {
		t.Errorf("the tenant's first event has sequence %d and previous_hash %q, want 1 and \"\"",
			first.GetSequence(), first.GetPreviousHash())
	}
	if rej.GetEvents()[0].GetId() != evs[0].GetId() || res.GetResults()[0].GetEventId() != evs[0].GetId() {
		t.Errorf("the rejection event %s is not the newest event %s nor the one the check names (%s)",
			rej.GetEvents()[0].GetId(), evs[0].GetId(), res.GetResults()[0].GetEventId())
	}
	return w
}

// expectResults checks one result per type, in the order asked, with
// allowed and consent_time consistent with the status (individuals).
func expectResults(t *testing.T, got []*izinv1.ConsentResult, want map[izinv1.ConsentType]izinv1.ConsentStatus, order []izinv1.ConsentType) {
	t.Helper()
	if len(got) != len(order) {
		t.Fatalf("got %d results, want %d: %v", len(got), len(order), got)
	}
	for i, typ := range order {
		r := got[i]
		if r.GetType() != typ {
			t.Errorf("result %d is %v, want %v (the order asked)", i, r.GetType(), typ)
			continue
		}
		if r.GetStatus() != want[typ] {
			t.Errorf("%v: status %v, want %v", typ, r.GetStatus(), want[typ])
		}
		granted := want[typ] == izinv1.ConsentStatus_CONSENT_STATUS_GRANTED
		if r.GetAllowed() != granted {
			t.Errorf("%v %v: allowed=%v, want %v", typ, r.GetStatus(), r.GetAllowed(), granted)
		}
		switch none := want[typ] == izinv1.ConsentStatus_CONSENT_STATUS_NONE; {
		case none && r.GetConsentTime() != nil:
			t.Errorf("%v NONE has a consent_time %v", typ, r.GetConsentTime().AsTime())
		case !none && r.GetConsentTime() == nil:
			t.Errorf("%v %v has no consent_time", typ, r.GetStatus())
		case !none && time.Since(r.GetConsentTime().AsTime()).Abs() > time.Minute:
			t.Errorf("%v consent_time %v is not about now", typ, r.GetConsentTime().AsTime())
		}
	}
}

var sixDigits = regexp.MustCompile(`(?:^|\D)(\d{6})(?:\D|$)`)

// activationCode finds the one 6-digit code in an activation SMS.
func activationCode(t *testing.T, body string) string {
	t.Helper()
	m := sixDigits.FindAllStringSubmatch(body, -1)
	if len(m) != 1 {
		t.Fatalf("activation SMS %q: want exactly one 6-digit code, found %d", body, len(m))
	}
	return m[0][1]
}

// expectConsentSMS checks what every consent SMS must carry: the MERSIS
// number, the rejection route, and a length that fits one SMS.
func expectConsentSMS(t *testing.T, body, mersis string) {
	t.Helper()
	if !strings.Contains(body, "MERSIS") || !strings.Contains(body, mersis) {
		t.Errorf("SMS %q lacks \"MERSIS\" and the tenant's number %s", body, mersis)
	}
	// The route is the İYS keyword (activation SMS) or, in a confirmation,
	// the link to izin's rejection page.
	if !strings.Contains(body, "RET ") && !strings.Contains(body, "/r/") {
		t.Errorf("SMS %q has no rejection route", body)
	}
	m := sms.Measure(body)
	if m.Units > m.Limit || m.Segments != 1 {
		t.Errorf("SMS %q: %d units over %d segment(s), want at most %d in one", body, m.Units, m.Segments, m.Limit)
	}
	if m.Limit > 155 {
		t.Errorf("SMS limit %d is over the 155 characters operators leave", m.Limit)
	}
}

// waitSent polls the sandbox until message id is SENT (the outbox worker
// delivered it), for at most 10 s.
func waitSent(t *testing.T, admin client, recipient, id string) *izinv1.Message {
	t.Helper()
	ctx := testCtx(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var last *izinv1.Message
		for _, m := range must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: recipient}))(t).GetMessages() {
			if m.GetId() == id {
				last = m
			}
		}
		if last == nil {
			t.Fatalf("message %s is not listed for %s", id, recipient)
		}
		switch last.GetStatus() {
		case izinv1.MessageStatus_MESSAGE_STATUS_SENT:
			return last
		case izinv1.MessageStatus_MESSAGE_STATUS_QUEUED:
		default:
			t.Fatalf("message %s is %v (%s), want SENT", id, last.GetStatus(), last.GetLastError())
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s still %v after 10 s", id, last.GetStatus())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wrongCode is a code of the same length that is not code.
func wrongCode(code string) string {
	var n int
	_, _ = fmt.Sscanf(code, "%d", &n)
	return fmt.Sprintf("%0*d", len(code), (n+1)%1000000)
}

func sameTypes(a, b []izinv1.ConsentType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func messageIDs(ms []*izinv1.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.GetId() + "/" + m.GetKind().String()
	}
	return out
}

// verifyWithCode runs the SMS-code flow to the end for recipient.
func verifyWithCode(ctx context.Context, t *testing.T, c, admin client, recipient string) string {
	t.Helper()
	v := must(c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: recipient, Types: smsAndCall,
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE}))(t).GetVerification()
	code := codeOf(ctx, t, admin, recipient, v.GetId())
	sub := must(c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: code}))(t)
	if sub.GetVerification().GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_VERIFIED {
		t.Fatalf("verification of %s: %v, want VERIFIED", recipient, sub.GetVerification().GetStatus())
	}
	return v.GetId()
}

// codeOf reads the newest activation code of a verification from the sandbox.
func codeOf(ctx context.Context, t *testing.T, admin client, recipient, verificationID string) string {
	t.Helper()
	for _, m := range must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: recipient}))(t).GetMessages() {
		if m.GetVerificationId() == verificationID && m.GetKind() == izinv1.MessageKind_MESSAGE_KIND_ACTIVATION {
			return activationCode(t, m.GetBody())
		}
	}
	t.Fatalf("no activation SMS for verification %s", verificationID)
	return ""
}
