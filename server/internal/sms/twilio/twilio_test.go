package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/push"
	"github.com/izinhq/izin/server/internal/sms/twilio"
	"github.com/izinhq/izin/server/internal/sms/twilio/twiliotest"
)

const (
	accountSid = "AC00000000000000000000000000000001"
	authToken  = "test-token"
)

func newPair(t *testing.T, timeout time.Duration, reportURL string) (*twilio.Provider, *twiliotest.Server) {
	t.Helper()
	srv := twiliotest.New(accountSid, authToken)
	t.Cleanup(srv.Close)
	cfg := sms.Config{BaseURL: srv.URL, Username: accountSid, Password: authToken, Sender: "+15005550006", ReportURL: reportURL}
	if timeout > 0 {
		cfg.HTTPClient = &http.Client{Timeout: timeout}
	}
	p, err := twilio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []sms.Config{{}, {Username: accountSid}, {Password: authToken}} {
		if _, err := twilio.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted missing credentials", cfg)
		}
	}
}

func TestSendWireFormat(t *testing.T) {
	tests := []struct {
		name, sender, body, reportURL string
		wantFrom, wantService         string
	}{
		{"number", "", "Your code is 123456", "https://izin.example/v1/reports/twilio/h1", "+15005550006", ""},
		{"turkish body as is", "", "Doğrulama kodunuz 123456, paylaşmayın", "", "+15005550006", ""},
		{"messaging service", "MG00000000000000000000000000000001", "Code 1", "", "", "MG00000000000000000000000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv := newPair(t, 0, tt.reportURL)
			res, err := p.Send(context.Background(), sms.Message{ID: "m1", Sender: tt.sender, Recipient: "+4915112345678", Body: tt.body})
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server has %d messages", len(got))
			}
			m := got[0]
			if m.Sid != res.ProviderMessageID || !strings.HasPrefix(m.Sid, "SM") || m.To != "+4915112345678" ||
				m.From != tt.wantFrom || m.MessagingServiceSid != tt.wantService || m.Body != tt.body ||
				m.StatusCallback != tt.reportURL {
				t.Errorf("received %+v, result %+v", m, res)
			}
		})
	}
}

func TestSendErrorClassification(t *testing.T) {
	tests := []struct {
		status, code       int
		permanent, unknown bool
	}{
		{400, 21211, true, false},  // invalid To
		{400, 21408, true, false},  // region not enabled
		{400, 21610, true, false},  // recipient replied STOP
		{400, 21617, true, false},  // body too long
		{400, 21611, false, false}, // sender queue full
		{401, 20003, false, false},
		{404, 20404, false, false},
		{429, 20429, false, false},
		{500, 20500, false, false},
		{503, 20503, false, false},
		{504, 0, false, true},
	}
	for _, tt := range tests {
		err := twilio.SendError(&twilio.APIError{Status: tt.status, Code: tt.code})
		if sms.IsPermanent(err) != tt.permanent || sms.IsUnknown(err) != tt.unknown {
			t.Errorf("%d/%d: permanent=%v unknown=%v", tt.status, tt.code, sms.IsPermanent(err), sms.IsUnknown(err))
		}
	}
}

func TestSendAgainstServerErrors(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0, "")
	srv.RefuseNext(2)
	for i := 0; i < 2; i++ {
		_, err := p.Send(ctx, sms.Message{ID: "m1", Recipient: "+4915112345678", Body: "x"})
		if err == nil || sms.IsPermanent(err) || sms.IsUnknown(err) {
			t.Fatalf("refused send %d: %v, want retryable", i, err)
		}
	}
	if _, err := p.Send(ctx, sms.Message{ID: "m1", Recipient: "+4915112345678", Body: "x"}); err != nil {
		t.Fatalf("send after the outage: %v", err)
	}
	_, err := p.Send(ctx, sms.Message{ID: "m2", Recipient: "004915", Body: "x"})
	var apiErr *twilio.APIError
	if !sms.IsPermanent(err) || !errors.As(err, &apiErr) || apiErr.Code != 21211 {
		t.Errorf("invalid number: %v, want permanent 21211", err)
	}
	bad, _ := twilio.New(sms.Config{BaseURL: srv.URL, Username: accountSid, Password: "wrong", Sender: "+15005550006"})
	_, err = bad.Send(ctx, sms.Message{ID: "m3", Recipient: "+4915112345678", Body: "x"})
	if err == nil || sms.IsPermanent(err) || sms.IsUnknown(err) {
		t.Errorf("bad credentials: %v, want retryable", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server kept %d messages, want 1", n)
	}
}

func TestUnknownOutcomeAndLookupByBody(t *testing.T) {
	for name, inject := range map[string]func(*twiliotest.Server){
		"hang": func(s *twiliotest.Server) { s.HangNext(1) },
		"drop": func(s *twiliotest.Server) { s.DropNext(1) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			p, srv := newPair(t, 300*time.Millisecond, "")
			first := time.Now()
			// an older message to the same number must not match
			if _, err := p.Send(ctx, sms.Message{ID: "m0", Recipient: "+4915112345678", Body: "Your code is 111111"}); err != nil {
				t.Fatal(err)
			}
			inject(srv)
			m := sms.Message{ID: "m1", Recipient: "+4915112345678", Body: "Your code is 222222"}
			if _, err := p.Send(ctx, m); !sms.IsUnknown(err) {
				t.Fatalf("err = %v, want unknown outcome", err)
			}
			msgs := srv.Messages()
			r, found, err := p.Lookup(ctx, sms.Sent{Message: m, FirstAttempt: first})
			if err != nil || !found || r.ProviderMessageID != msgs[1].Sid || r.State != sms.StateAccepted || r.MessageID != "m1" {
				t.Errorf("Lookup while queued = %+v, %v, %v", r, found, err)
			}
			srv.SetStatus(msgs[1].Sid, "sent", 0)
			r, found, err = p.Lookup(ctx, sms.Sent{Message: m, FirstAttempt: first})
			if err != nil || !found || r.ProviderMessageID != msgs[1].Sid {
				t.Errorf("Lookup by DateSent = %+v, %v, %v", r, found, err)
			}
			_, found, err = p.Lookup(ctx, sms.Sent{Message: sms.Message{ID: "m9", Recipient: "+4915112345678", Body: "never sent"}, FirstAttempt: first})
			if err != nil || found {
				t.Errorf("Lookup of an unsent body: found=%v err=%v", found, err)
			}
		})
	}
}

func TestLookupBySid(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0, "")
	m := sms.Message{ID: "m1", Recipient: "+4915112345678", Body: "x"}
	res, err := p.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetStatus(res.ProviderMessageID, "undelivered", 30003)
	r, found, err := p.Lookup(ctx, sms.Sent{Message: m, ProviderMessageID: res.ProviderMessageID})
	if err != nil || !found || r.State != sms.StateFailed || r.Code != "30003" || r.Recipient != "+4915112345678" {
		t.Errorf("Lookup = %+v, %v, %v", r, found, err)
	}
	_, found, err = p.Lookup(ctx, sms.Sent{Message: m, ProviderMessageID: "SM404"})
	if err != nil || found {
		t.Errorf("Lookup of a missing sid: found=%v err=%v", found, err)
	}
}

func TestStateMapping(t *testing.T) {
	tests := []struct {
		status string
		code   int
		want   sms.DeliveryState
	}{
		{"queued", 0, sms.StateAccepted}, {"accepted", 0, sms.StateAccepted}, {"sending", 0, sms.StateAccepted},
		{"sent", 0, sms.StateAccepted}, {"delivered", 0, sms.StateDelivered}, {"read", 0, sms.StateDelivered},
		{"undelivered", 30003, sms.StateFailed}, {"failed", 30008, sms.StateFailed}, {"canceled", 0, sms.StateFailed},
		{"failed", 30036, sms.StateExpired},
	}
	for _, tt := range tests {
		if got := twilio.State(tt.status, tt.code); got != tt.want {
			t.Errorf("State(%s, %d) = %v, want %v", tt.status, tt.code, got, tt.want)
		}
	}
}

// TestSignatureKnownVector checks Signature against the example in
// Twilio's webhook security documentation, and against an HMAC computed
// here by hand over the concatenation the documentation describes.
func TestSignatureKnownVector(t *testing.T) {
	const docURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	const docSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	if got := twilio.Signature("12345", docURL, params); got != docSignature {
		t.Errorf("Signature = %s, want the documented %s", got, docSignature)
	}
	mac := hmac.New(sha1.New, []byte("12345"))
	mac.Write([]byte(docURL + "CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212"))
	if byHand := base64.StdEncoding.EncodeToString(mac.Sum(nil)); byHand != docSignature {
		t.Errorf("hand-made HMAC = %s, want %s", byHand, docSignature)
	}
}

func TestCallbacks(t *testing.T) {
	ctx := context.Background()
	auth := sms.CallbackAuth{Username: accountSid, Password: authToken}
	var reportURL, inboundURL string // the full URLs Twilio calls, as izin would know them
	var reports []sms.Report
	var inbound []sms.Inbound
	var p *twilio.Provider
	reportURL = push.Receiver(t, func(r *http.Request) (err error) {
		reports, err = p.ParseReports(r, reportURL, auth)
		return err
	}) + "/status?hook=h1"
	inboundURL = push.Receiver(t, func(r *http.Request) (err error) {
		inbound, err = p.ParseInbound(r, inboundURL, auth)
		return err
	})
	p, srv := newPair(t, 0, reportURL)

	res, err := p.Send(ctx, sms.Message{ID: "m1", Recipient: "+4915112345678", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetStatus(res.ProviderMessageID, "delivered", 0)
	if err := srv.PushReport(ctx, "", res.ProviderMessageID); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].ProviderMessageID != res.ProviderMessageID || reports[0].State != sms.StateDelivered ||
		reports[0].Code != "delivered" {
		t.Errorf("reports %+v", reports)
	}

	if err := srv.PushInbound(ctx, inboundURL, "+4915112345678", "+15005550006", "STOP"); err != nil {
		t.Fatal(err)
	}
	if len(inbound) != 1 || inbound[0].Body != "STOP" || inbound[0].From != "+4915112345678" ||
		inbound[0].To != "+15005550006" || !strings.HasPrefix(inbound[0].ProviderMessageID, "SM") {
		t.Errorf("inbound %+v", inbound)
	}
	if err := srv.PushInboundSigned(ctx, inboundURL, "+4915112345678", "+15005550006", "RET", "forged"); err == nil ||
		!strings.Contains(err.Error(), "401") {
		t.Errorf("forged webhook: %v, want 401", err)
	}
}

func TestCallbackRefusals(t *testing.T) {
	p, _ := newPair(t, 0, "")
	const full = "https://izin.example/v1/inbound/twilio/h1"
	form := url.Values{"AccountSid": {accountSid}, "MessageSid": {"SM1"}, "From": {"+4915112345678"}, "Body": {"RET"}}
	good := twilio.Signature(authToken, full, form)
	tests := []struct {
		name      string
		signature string
		url       string
		auth      sms.CallbackAuth
		body      url.Values
		ok        bool
	}{
		{"valid", good, full, sms.CallbackAuth{Username: accountSid, Password: authToken}, form, true},
		{"missing signature", "", full, sms.CallbackAuth{Password: authToken}, form, false},
		{"wrong token", twilio.Signature("other", full, form), full, sms.CallbackAuth{Password: authToken}, form, false},
		{"other url", good, full + "x", sms.CallbackAuth{Password: authToken}, form, false},
		{"tampered body", good, full, sms.CallbackAuth{Password: authToken},
			url.Values{"AccountSid": {accountSid}, "MessageSid": {"SM1"}, "From": {"+4915112345678"}, "Body": {"EVET"}}, false},
		{"other account", good, full, sms.CallbackAuth{Username: "AC9", Password: authToken}, form, false},
		{"no token configured", good, full, sms.CallbackAuth{}, form, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/inbound/twilio/h1", strings.NewReader(tt.body.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.signature != "" {
				r.Header.Set(twilio.SignatureHeader, tt.signature)
			}
			in, err := p.ParseInbound(r, tt.url, tt.auth)
			if tt.ok {
				if err != nil || len(in) != 1 || in[0].Body != "RET" {
					t.Errorf("ParseInbound = %+v, %v", in, err)
				}
			} else if !errors.Is(err, sms.ErrUnauthenticated) {
				t.Errorf("err = %v, want ErrUnauthenticated", err)
			}
		})
	}
}
