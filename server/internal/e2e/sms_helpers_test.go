package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// fastOutbox makes retries, circuits and polls take milliseconds.
func fastOutbox(c *app.Config) {
	c.Outbox = app.OutboxTiming{Poll: 20 * time.Millisecond, RetryBase: 10 * time.Millisecond,
		BreakerOpen: 30 * time.Millisecond, ReportAfter: 50 * time.Millisecond, ReportPoll: 20 * time.Millisecond,
		InboundPoll: 30 * time.Millisecond}
}

// waitUntil polls cond (bounded) until it holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// smsEnv is a tenant whose brand sends through a provider's test server.
type smsEnv struct {
	s         *server
	tn        *tenant
	fake      fakeSMS
	ctx       context.Context // authenticated with the source key
	adminCtx  context.Context
	verify    izinv1.VerificationServiceClient
	consent   izinv1.ConsentServiceClient
	admin     izinv1.AdminServiceClient
	callbacks *izinv1.SmsCallbacks
	// hooks receives the tenant's message.failed and consent.rejected
	// webhooks.
	hooks *receiver
}

func newSMSEnv(t *testing.T, s *server, f fakeSMS) *smsEnv {
	t.Helper()
	ctx := testCtx(t)
	tn := s.newTenant(t, "SMS "+f.provider().String())
	_, key := s.newSource(t, tn, "Stores", store.SourceCallCenter)
	e := &smsEnv{s: s, tn: tn, fake: f,
		ctx:      metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key),
		adminCtx: metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tn.AdminKey),
		verify:   izinv1.NewVerificationServiceClient(s.conn), consent: izinv1.NewConsentServiceClient(s.conn),
		admin: izinv1.NewAdminServiceClient(s.conn)}
	user, pass := f.credentials()
	resp, err := e.admin.SetSmsConfig(e.adminCtx, &izinv1.SetSmsConfigRequest{Brand: tn.BrandCode, Config: &izinv1.SmsConfig{
		Provider: f.provider(), BaseUrl: f.url(), Username: user, Password: pass, Enabled: true}})
	if err != nil {
		t.Fatalf("SetSmsConfig: %v", err)
	}
	if resp.GetConfig().GetPassword() != "" || !resp.GetConfig().GetHasPassword() {
		t.Fatalf("the password came back, or is not kept: %+v", resp.GetConfig())
	}
	e.callbacks = resp.GetCallbacks()
	e.hooks = newReceiver(t, ok200)
	if _, err := s.webhookAdmin(tn.AdminKey).create(ctx, e.hooks.srv.URL, "message.failed", "consent.rejected"); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	if !strings.Contains(e.callbacks.GetReportUrl(), "/v1/sms/"+providerName(f)+"/") ||
		!strings.Contains(e.callbacks.GetInboundUrl(), "/v1/inbound/"+providerName(f)+"/") {
		t.Fatalf("callback URLs %+v", e.callbacks)
	}
	return e
}

func providerName(f fakeSMS) string {
	return strings.ToLower(strings.TrimPrefix(f.provider().String(), "SMS_PROVIDER_"))
}

var codeRE = regexp.MustCompile(`^(\d{6}) kodunu`)

// start starts an SMS-code verification and returns it with the code as
// the provider received it, after checking the SMS word for word.
func (e *smsEnv) start(t *testing.T, to string) (*izinv1.Verification, fakeSent, string) {
	t.Helper()
	v, err := e.verify.StartVerification(e.ctx, &izinv1.StartVerificationRequest{Recipient: to, Types: smsAndCall,
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE})
	if err != nil {
		t.Fatalf("StartVerification: %v", err)
	}
	msgs := sentTo(t, e.fake, to, 1)
	m := msgs[len(msgs)-1]
	code := codeRE.FindStringSubmatch(m.Body)
	if code == nil {
		t.Fatalf("the provider received %q, not an activation code SMS", m.Body)
	}
	b, err := e.s.App.Tenancy.Brand(context.Background(), e.tn.ID, e.tn.BrandCode)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sms.DefaultTemplates().Activation(sms.ActivationData{Brand: e.tn.Sender, Code: code[1],
		Types: []string{sms.TypeSMS, sms.TypeCall}, RejectRoute: tenancy.RejectRoute(b), Mersis: e.tn.Mersis})
	if err != nil {
		t.Fatal(err)
	}
	if m.Body != want || m.From != e.tn.Sender {
		t.Fatalf("activation SMS from %q: %q, want from %q: %q", m.From, m.Body, e.tn.Sender, want)
	}
	if informationalFlag(e.fake.provider()) && !m.Informational {
		t.Error("the activation code went without the provider's informational flag: İYS could filter it")
	}
	if informationalFlag(e.fake.provider()) && m.Turkish != sms.Measure(want).Turkish {
		t.Errorf("activation SMS sent with Turkish encoding %v, want %v", m.Turkish, sms.Measure(want).Turkish)
	}
	return v.GetVerification(), m, code[1]
}

func (e *smsEnv) check(t *testing.T, to string) map[izinv1.ConsentType]izinv1.ConsentStatus {
	t.Helper()
	r, err := e.consent.CheckConsent(e.ctx, &izinv1.CheckConsentRequest{Recipient: to, Types: smsAndCall})
	if err != nil {
		t.Fatalf("CheckConsent: %v", err)
	}
	out := map[izinv1.ConsentType]izinv1.ConsentStatus{}
	for _, res := range r.GetResults() {
		out[res.GetType()] = res.GetStatus()
	}
	return out
}

func (e *smsEnv) messageStatus(t *testing.T, to, providerID string) *izinv1.Message {
	t.Helper()
	list, err := e.admin.ListMessages(e.adminCtx, &izinv1.ListMessagesRequest{Recipient: to})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list.GetMessages() {
		if m.GetProviderMessageId() == providerID {
			return m
		}
	}
	return nil
}
