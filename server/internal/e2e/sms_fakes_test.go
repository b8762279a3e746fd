package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/sms/netgsm/netgsmtest"
	"github.com/izinhq/izin/server/internal/sms/twilio/twiliotest"
	"github.com/izinhq/izin/server/internal/sms/verimor/verimortest"
)

// fakeSent is a message a fake provider accepted, in one shape for all.
type fakeSent struct {
	ID            string // the provider's id, for reports
	To            string // E.164
	From          string // sender title or number as sent
	Body          string
	Informational bool // the provider's "not commercial" flag was set
	Turkish       bool // sent with the Turkish encoding
}

// fakeSMS drives one provider's test server the same way for every
// provider: what it received, delivery outcomes, pushes and faults.
type fakeSMS interface {
	provider() izinv1.SmsProvider
	url() string
	credentials() (user, password string)
	sent() []fakeSent
	// setOutcome marks a message delivered or failed at the provider.
	setOutcome(t *testing.T, id string, delivered bool)
	// pushReport sends the provider's delivery report of a message to
	// izin's report URL.
	pushReport(ctx context.Context, reportURL, id string) error
	// receive makes the provider hear an SMS from a customer and hand it
	// to izin the way it does: a push to inboundURL, or (Netgsm) its inbox,
	// which izin polls.
	receive(ctx context.Context, inboundURL, from, body string) error
	refuseNext(n int)
	dropNext(n int)
	close()
}

// informationalFlag tells whether the provider has a flag for messages
// that are not commercial (Twilio has none).
func informationalFlag(p izinv1.SmsProvider) bool { return p != izinv1.SmsProvider_SMS_PROVIDER_TWILIO }

func secretOf(t *testing.T, callbackURL string) string {
	t.Helper()
	u, err := url.Parse(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("secret")
}

func e164(digits string) string {
	switch {
	case strings.HasPrefix(digits, "+"):
		return digits
	case strings.HasPrefix(digits, "90") && len(digits) == 12:
		return "+" + digits
	case len(digits) == 10:
		return "+90" + digits
	}
	return digits
}

// netgsm

type fakeNetgsm struct {
	s *netgsmtest.Server
	t *testing.T
}

func newFakeNetgsm(t *testing.T) fakeSMS {
	return &fakeNetgsm{s: netgsmtest.New("8503330000", "netgsm-pass"), t: t}
}
func (f *fakeNetgsm) provider() izinv1.SmsProvider { return izinv1.SmsProvider_SMS_PROVIDER_NETGSM }
func (f *fakeNetgsm) url() string                  { return f.s.URL }
func (f *fakeNetgsm) credentials() (string, string) {
	return f.s.Username, f.s.Password
}
func (f *fakeNetgsm) sent() []fakeSent {
	var out []fakeSent
	for _, m := range f.s.Messages() {
		out = append(out, fakeSent{ID: m.JobID, To: e164(m.Number), From: m.Header, Body: m.Text,
			Informational: m.IYSFilter == "0", Turkish: m.Encoding == "TR"})
	}
	return out
}
func (f *fakeNetgsm) setOutcome(t *testing.T, id string, delivered bool) {
	status := 12 // delivery error
	if delivered {
		status = 1
	}
	if !f.s.SetStatus(id, status, 0) {
		t.Fatalf("netgsm: no job %s", id)
	}
}
func (f *fakeNetgsm) pushReport(ctx context.Context, reportURL, id string) error {
	return f.s.PushReport(ctx, reportURL, secretOf(f.t, reportURL), id)
}
func (f *fakeNetgsm) receive(_ context.Context, _, from, body string) error {
	f.s.Receive(strings.TrimPrefix(from, "+"), "8503330000", body, time.Now())
	return nil
}
func (f *fakeNetgsm) refuseNext(n int) { f.s.RefuseNext(n) }
func (f *fakeNetgsm) dropNext(n int)   { f.s.DropNext(n) }
func (f *fakeNetgsm) close()           { f.s.Close() }

// verimor

type fakeVerimor struct {
	s *verimortest.Server
	t *testing.T
}

func newFakeVerimor(t *testing.T) fakeSMS {
	return &fakeVerimor{s: verimortest.New("908501234567", "verimor-pass"), t: t}
}
func (f *fakeVerimor) provider() izinv1.SmsProvider { return izinv1.SmsProvider_SMS_PROVIDER_VERIMOR }
func (f *fakeVerimor) url() string                  { return f.s.URL }
func (f *fakeVerimor) credentials() (string, string) {
	return f.s.Username, f.s.Password
}
func (f *fakeVerimor) sent() []fakeSent {
	var out []fakeSent
	for _, m := range f.s.Messages() {
		out = append(out, fakeSent{ID: strconv.FormatInt(m.CampaignID, 10), To: e164(m.Dest), From: m.SourceAddr,
			Body: m.Msg, Informational: m.IsCommercial != nil && !*m.IsCommercial, Turkish: m.DataCoding == "1"})
	}
	return out
}
func (f *fakeVerimor) setOutcome(t *testing.T, id string, delivered bool) {
	status, gsm := "NOT_DELIVERED", "27"
	if delivered {
		status, gsm = "DELIVERED", "0"
	}
	if !f.s.SetStatus(id, status, gsm) {
		t.Fatalf("verimor: no campaign %s", id)
	}
}
func (f *fakeVerimor) pushReport(ctx context.Context, reportURL, id string) error {
	return f.s.PushReport(ctx, reportURL, secretOf(f.t, reportURL), id)
}
func (f *fakeVerimor) receive(ctx context.Context, inboundURL, from, body string) error {
	return f.s.PushInbound(ctx, inboundURL, secretOf(f.t, inboundURL), strings.TrimPrefix(from, "+"), "908501234567", body)
}
func (f *fakeVerimor) refuseNext(n int) { f.s.RefuseNext(n) }
func (f *fakeVerimor) dropNext(n int)   { f.s.DropNext(n) }
func (f *fakeVerimor) close()           { f.s.Close() }

// twilio

type fakeTwilio struct {
	s *twiliotest.Server
}

func newFakeTwilio(*testing.T) fakeSMS {
	return &fakeTwilio{s: twiliotest.New("AC0123456789abcdef0123456789abcdef", "twilio-auth-token")}
}
func (f *fakeTwilio) provider() izinv1.SmsProvider { return izinv1.SmsProvider_SMS_PROVIDER_TWILIO }
func (f *fakeTwilio) url() string                  { return f.s.URL }
func (f *fakeTwilio) credentials() (string, string) {
	return f.s.AccountSid, f.s.AuthToken
}
func (f *fakeTwilio) sent() []fakeSent {
	var out []fakeSent
	for _, m := range f.s.Messages() {
		out = append(out, fakeSent{ID: m.Sid, To: m.To, From: m.From, Body: m.Body})
	}
	return out
}
func (f *fakeTwilio) setOutcome(t *testing.T, id string, delivered bool) {
	status, code := "undelivered", 30003
	if delivered {
		status, code = "delivered", 0
	}
	if !f.s.SetStatus(id, status, code) {
		t.Fatalf("twilio: no message %s", id)
	}
}
func (f *fakeTwilio) pushReport(ctx context.Context, _, id string) error {
	return f.s.PushReport(ctx, "", id) // to the StatusCallback izin gave with the message
}
func (f *fakeTwilio) receive(ctx context.Context, inboundURL, from, body string) error {
	return f.s.PushInbound(ctx, inboundURL, from, "+15005550006", body)
}
func (f *fakeTwilio) refuseNext(n int) { f.s.RefuseNext(n) }
func (f *fakeTwilio) dropNext(n int)   { f.s.DropNext(n) }
func (f *fakeTwilio) close()           { f.s.Close() }

var fakeProviders = []struct {
	name string
	new  func(t *testing.T) fakeSMS
}{
	{"netgsm", newFakeNetgsm},
	{"verimor", newFakeVerimor},
	{"twilio", newFakeTwilio},
}

// sentTo returns what the provider received for a number, waiting (bounded)
// until there are at least n.
func sentTo(t *testing.T, f fakeSMS, to string, n int) []fakeSent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out []fakeSent
		for _, m := range f.sent() {
			if m.To == to {
				out = append(out, m)
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d message(s) to %s reached the provider, want %d: %s", len(out), to, n, fmt.Sprint(f.sent()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
