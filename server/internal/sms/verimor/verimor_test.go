package verimor_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/push"
	"github.com/izinhq/izin/server/internal/sms/verimor"
	"github.com/izinhq/izin/server/internal/sms/verimor/verimortest"
)

func newPair(t *testing.T, timeout time.Duration) (*verimor.Provider, *verimortest.Server) {
	t.Helper()
	srv := verimortest.New("908501234567", "s3cret")
	t.Cleanup(srv.Close)
	cfg := sms.Config{BaseURL: srv.URL, Username: "908501234567", Password: "s3cret", Sender: "IZINTEST"}
	if timeout > 0 {
		cfg.HTTPClient = &http.Client{Timeout: timeout}
	}
	p, err := verimor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []sms.Config{{}, {Username: "u"}, {Password: "p"}} {
		if _, err := verimor.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted missing credentials", cfg)
		}
	}
}

func TestSendWireFormat(t *testing.T) {
	tests := []struct {
		name, to, body, wantDest, wantCoding string
	}{
		{"plain", "+905321234567", "Kodunuz 123456. Onay icin paylasmayin.", "905321234567", "0"},
		{"turkish letters", "+905321234567", "Kodunuz 123456. Doğrulama için paylaşmayın, ılık.", "905321234567", "1"},
		{"ö and ü fit the default table", "+905321234567", "Güzel öykü", "905321234567", "0"},
		{"emoji", "+905321234567", "Kod 1 🙂", "905321234567", "2"},
		{"turkish abroad", "+4915112345678", "Doğrulama kodu 1", "+4915112345678", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv := newPair(t, 0)
			res, err := p.Send(context.Background(), sms.Message{ID: "msg-1", Recipient: tt.to, Body: tt.body})
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server has %d messages, want 1", len(got))
			}
			m := got[0]
			if res.ProviderMessageID == "" || res.ProviderMessageID != itoa(m.CampaignID) {
				t.Errorf("result %+v, campaign %d", res, m.CampaignID)
			}
			if m.SourceAddr != "IZINTEST" || m.Dest != tt.wantDest || m.Msg != tt.body || m.DataCoding != tt.wantCoding ||
				m.CustomID != "msg-1" || m.MessageCustomID != "msg-1" || m.IsCommercial == nil || *m.IsCommercial {
				t.Errorf("received %+v", m)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSendErrorClassification(t *testing.T) {
	tests := []struct {
		status             int
		text               string
		permanent, unknown bool
	}{
		{400, "INVALID_DESTINATION_ADDRESS", true, false},
		{400, "INVALID_SOURCE_ADDRESS", true, false},
		{400, "MESSAGE_TOO_LONG", true, false},
		{400, "FORBIDDEN_MESSAGE", true, false},
		{400, "INSUFFICIENT_CREDITS", false, false},
		{401, "Geçersiz kullanıcı adı/şifre", false, false},
		{429, "", false, false},
		{503, "", false, false},
		{504, "", false, true},
		{200, "", false, true},
	}
	for _, tt := range tests {
		err := verimor.SendError(tt.status, tt.text)
		if sms.IsPermanent(err) != tt.permanent || sms.IsUnknown(err) != tt.unknown {
			t.Errorf("%d %s: permanent=%v unknown=%v", tt.status, tt.text, sms.IsPermanent(err), sms.IsUnknown(err))
		}
	}
}

func TestSendAgainstServerErrors(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0)
	srv.RefuseNext(2)
	for i := 0; i < 2; i++ {
		_, err := p.Send(ctx, sms.Message{ID: "m1", Recipient: "+905321234567", Body: "x"})
		if err == nil || sms.IsPermanent(err) || sms.IsUnknown(err) {
			t.Fatalf("refused send %d: %v, want retryable", i, err)
		}
	}
	if _, err := p.Send(ctx, sms.Message{ID: "m1", Recipient: "+905321234567", Body: "x"}); err != nil {
		t.Fatalf("send after the outage: %v", err)
	}
	if _, err := p.Send(ctx, sms.Message{ID: "m2", Recipient: "+90532", Body: "x"}); !sms.IsPermanent(err) {
		t.Errorf("invalid number: %v, want permanent", err)
	}
	bad, _ := verimor.New(sms.Config{BaseURL: srv.URL, Username: "908501234567", Password: "wrong"})
	_, err := bad.Send(ctx, sms.Message{ID: "m3", Recipient: "+905321234567", Body: "x"})
	if err == nil || sms.IsPermanent(err) || sms.IsUnknown(err) {
		t.Errorf("bad credentials: %v, want retryable", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server kept %d messages, want 1", n)
	}
}

func TestUnknownOutcome(t *testing.T) {
	for name, inject := range map[string]func(*verimortest.Server){
		"hang": func(s *verimortest.Server) { s.HangNext(1) },
		"drop": func(s *verimortest.Server) { s.DropNext(1) },
	} {
		t.Run(name, func(t *testing.T) {
			p, srv := newPair(t, 300*time.Millisecond)
			inject(srv)
			m := sms.Message{ID: "msg-7", Recipient: "+905321234567", Body: "Kodunuz 1"}
			if _, err := p.Send(context.Background(), m); !sms.IsUnknown(err) {
				t.Fatalf("err = %v, want unknown outcome", err)
			}
			r, found, err := p.Lookup(context.Background(), sms.Sent{Message: m, FirstAttempt: time.Now()})
			if err != nil || !found || r.MessageID != "msg-7" || r.State != sms.StateAccepted ||
				r.ProviderMessageID != itoa(srv.Messages()[0].CampaignID) {
				t.Errorf("Lookup = %+v, %v, %v", r, found, err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0)
	m := sms.Message{ID: "msg-1", Recipient: "+905321234567", Body: "x"}
	res, err := p.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetStatus(res.ProviderMessageID, "NOT_DELIVERED", "27")
	tests := []struct {
		name  string
		sent  sms.Sent
		found bool
	}{
		{"by campaign id", sms.Sent{Message: m, ProviderMessageID: res.ProviderMessageID}, true},
		{"by custom id", sms.Sent{Message: m}, true},
		{"unknown campaign", sms.Sent{Message: m, ProviderMessageID: "1"}, false},
		{"unknown custom id", sms.Sent{Message: sms.Message{ID: "never-sent"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, found, err := p.Lookup(ctx, tt.sent)
			if err != nil || found != tt.found {
				t.Fatalf("Lookup = %+v, %v, %v", r, found, err)
			}
			if found && (r.State != sms.StateFailed || r.Code != "NOT_DELIVERED" || r.Detail != "gsm_error 27" ||
				r.Recipient != "+905321234567" || r.MessageID != "msg-1") {
				t.Errorf("report %+v", r)
			}
		})
	}
}

func TestStateMapping(t *testing.T) {
	tests := map[string]sms.DeliveryState{
		"SENDING": sms.StateAccepted, "WAITING": sms.StateAccepted,
		"DELIVERED": sms.StateDelivered, "SENT": sms.StateDelivered,
		"EXPIRED": sms.StateExpired, "NOT_DELIVERED": sms.StateFailed,
		"INVALID_DESTINATION_ADDRESS": sms.StateFailed, "REJECTED": sms.StateFailed,
		"DOUBLE_SEND_ERROR": sms.StateFailed, "BLACKLISTED_DESTINATION_ADDRESS": sms.StateFailed,
		"SEND_ERROR": sms.StateFailed, "INTERNATIONAL_DENIED": sms.StateFailed,
	}
	for status, want := range tests {
		if got := verimor.State(status); got != want {
			t.Errorf("State(%s) = %v, want %v", status, got, want)
		}
	}
}

func TestPushes(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0)
	res, err := p.Send(ctx, sms.Message{ID: "msg-1", Recipient: "+905321234567", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetStatus(res.ProviderMessageID, "DELIVERED", "0")
	auth := sms.CallbackAuth{Secret: "hook-secret"}
	var reports []sms.Report
	var inbound []sms.Inbound
	reportURL := push.Receiver(t, func(r *http.Request) (err error) {
		reports, err = p.ParseReports(r, "", auth)
		return err
	})
	inboundURL := push.Receiver(t, func(r *http.Request) (err error) {
		inbound, err = p.ParseInbound(r, "", auth)
		return err
	})
	if err := srv.PushReport(ctx, reportURL, "hook-secret", res.ProviderMessageID); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].MessageID != "msg-1" || reports[0].State != sms.StateDelivered ||
		reports[0].Code != "DELIVERED" || reports[0].At.IsZero() {
		t.Errorf("reports %+v", reports)
	}
	if err := srv.PushInbound(ctx, inboundURL, "hook-secret", "905321234567", "908501234567", "ret izin"); err != nil {
		t.Fatal(err)
	}
	if len(inbound) != 1 || inbound[0].Body != "ret izin" || inbound[0].From != "905321234567" ||
		inbound[0].To != "908501234567" || inbound[0].ProviderMessageID == "" {
		t.Errorf("inbound %+v", inbound)
	}
	for _, target := range []string{reportURL, inboundURL} {
		err := srv.PushInbound(ctx, target, "wrong", "905321234567", "908501234567", "x")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("push with a wrong secret to %s: %v, want 401", target, err)
		}
	}
}

func TestCallbackAuthRefusal(t *testing.T) {
	p, _ := newPair(t, 0)
	body := `[{"type":"inbound","message_id":1,"source_addr":"905321234567","content":"RET"}]`
	for _, target := range []string{"/in", "/in?secret=", "/in?secret=nope"} {
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		if _, err := p.ParseInbound(r, "", sms.CallbackAuth{Secret: "hook-secret"}); !errors.Is(err, sms.ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", target, err)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/in", strings.NewReader(body))
	r.SetBasicAuth("verimor", "hook-secret")
	if in, err := p.ParseInbound(r, "", sms.CallbackAuth{Secret: "hook-secret"}); err != nil || len(in) != 1 {
		t.Errorf("basic-auth secret: %+v, %v", in, err)
	}
}

func TestListInbound(t *testing.T) {
	p, srv := newPair(t, 0)
	now := time.Now()
	srv.Receive("905321234567", "908501234567", "İPTAL", now.Add(-time.Minute))
	srv.Receive("905329999999", "908501234567", "EVET IZIN", now.Add(-2*time.Hour))
	list, err := p.ListInbound(context.Background(), now.Add(-10*time.Minute), now.Add(time.Minute))
	if err != nil || len(list) != 1 || list[0].Body != "İPTAL" || list[0].At.IsZero() {
		t.Errorf("ListInbound = %+v, %v", list, err)
	}
}
