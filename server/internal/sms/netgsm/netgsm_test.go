package netgsm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/push"
	"github.com/izinhq/izin/server/internal/sms/netgsm"
	"github.com/izinhq/izin/server/internal/sms/netgsm/netgsmtest"
)

func newPair(t *testing.T, timeout time.Duration) (*netgsm.Provider, *netgsmtest.Server) {
	t.Helper()
	srv := netgsmtest.New("8501234567", "s3cret")
	t.Cleanup(srv.Close)
	cfg := sms.Config{BaseURL: srv.URL, Username: "8501234567", Password: "s3cret", Sender: "IZINTEST"}
	if timeout > 0 {
		cfg.HTTPClient = &http.Client{Timeout: timeout}
	}
	p, err := netgsm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []sms.Config{{}, {Username: "u"}, {Password: "p"}} {
		if _, err := netgsm.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted missing credentials", cfg)
		}
	}
}

func TestSendWireFormat(t *testing.T) {
	tests := []struct {
		name, to, body, wantNo, wantEncoding string
	}{
		{"plain", "+905321234567", "Kodunuz 123456. Onay icin paylasmayin.", "5321234567", ""},
		{"turkish letters", "+905321234567", "Kodunuz 123456. Doğrulama için paylaşmayın, ılık.", "5321234567", "TR"},
		{"ö and ü fit the default table", "+905321234567", "Güzel öykü", "5321234567", ""},
		{"ç needs the Turkish table", "+905321234567", "Sevgi çiçek", "5321234567", "TR"},
		{"abroad", "+4915112345678", "Code 123456", "004915112345678", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv := newPair(t, 0)
			res, err := p.Send(context.Background(), sms.Message{ID: "m1", Recipient: tt.to, Body: tt.body})
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server has %d messages, want 1", len(got))
			}
			m := got[0]
			if m.JobID != res.ProviderMessageID || m.Header != "IZINTEST" || m.Number != tt.wantNo ||
				m.Text != tt.body || m.IYSFilter != "0" {
				t.Errorf("received %+v, result %+v", m, res)
			}
			if m.Encoding != tt.wantEncoding {
				t.Errorf("encoding %q, want %q", m.Encoding, tt.wantEncoding)
			}
		})
	}
}

func TestSendErrorClassification(t *testing.T) {
	tests := []struct {
		code      string
		permanent bool
	}{
		{"20", true}, {"40", true}, {"50", true}, {"51", true}, {"70", true},
		{"30", false}, {"80", false}, {"85", false}, {"100", false}, {"101", false}, {"999", false},
	}
	for _, tt := range tests {
		err := netgsm.SendError(netgsm.Answer{Code: tt.code})
		if sms.IsPermanent(err) != tt.permanent || sms.IsUnknown(err) {
			t.Errorf("code %s: permanent=%v unknown=%v, want permanent=%v", tt.code, sms.IsPermanent(err), sms.IsUnknown(err), tt.permanent)
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

	_, err := p.Send(ctx, sms.Message{ID: "m2", Recipient: "+90532", Body: "x"})
	if !sms.IsPermanent(err) {
		t.Errorf("invalid number: %v, want permanent", err)
	}

	bad, _ := netgsm.New(sms.Config{BaseURL: srv.URL, Username: "8501234567", Password: "wrong", Sender: "IZINTEST"})
	_, err = bad.Send(ctx, sms.Message{ID: "m3", Recipient: "+905321234567", Body: "x"})
	if err == nil || sms.IsPermanent(err) || sms.IsUnknown(err) {
		t.Errorf("bad credentials: %v, want retryable", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server kept %d messages, want 1", n)
	}
}

func TestUnknownOutcome(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*netgsmtest.Server)
	}{
		{"hang", func(s *netgsmtest.Server) { s.HangNext(1) }},
		{"drop", func(s *netgsmtest.Server) { s.DropNext(1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv := newPair(t, 300*time.Millisecond)
			tt.inject(srv)
			first := time.Now()
			m := sms.Message{ID: "m1", Recipient: "+905321234567", Body: "Kodunuz 1"}
			_, err := p.Send(context.Background(), m)
			if !sms.IsUnknown(err) {
				t.Fatalf("err = %v, want unknown outcome", err)
			}
			if n := len(srv.Messages()); n != 1 {
				t.Fatalf("server has %d messages, want 1", n)
			}
			r, found, err := p.Lookup(context.Background(), sms.Sent{Message: m, FirstAttempt: first})
			if err != nil || !found || r.ProviderMessageID != srv.Messages()[0].JobID || r.State != sms.StateAccepted {
				t.Errorf("Lookup = %+v, %v, %v; want the accepted job", r, found, err)
			}
		})
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	p, srv := newPair(t, time.Second)
	srv.Close()
	_, err := p.Send(context.Background(), sms.Message{ID: "m1", Recipient: "+905321234567", Body: "x"})
	if err == nil || sms.IsUnknown(err) || sms.IsPermanent(err) {
		t.Errorf("err = %v, want retryable", err)
	}
}

func TestLookup(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0)
	first := time.Now()
	m := sms.Message{ID: "m1", Recipient: "+905321234567", Body: "x"}
	res, err := p.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetStatus(res.ProviderMessageID, 1, 0)
	tests := []struct {
		name      string
		sent      sms.Sent
		found     bool
		wantState sms.DeliveryState
	}{
		{"by job id", sms.Sent{Message: m, ProviderMessageID: res.ProviderMessageID, FirstAttempt: first}, true, sms.StateDelivered},
		{"by number", sms.Sent{Message: m, FirstAttempt: first}, true, sms.StateDelivered},
		{"unknown job", sms.Sent{Message: m, ProviderMessageID: "999", FirstAttempt: first}, false, 0},
		{"other number", sms.Sent{Message: sms.Message{ID: "m2", Recipient: "+905329999999"}, FirstAttempt: first}, false, 0},
		{"long ago", sms.Sent{Message: m, FirstAttempt: first.Add(-time.Hour)}, true, sms.StateDelivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, found, err := p.Lookup(ctx, tt.sent)
			if err != nil || found != tt.found || (found && (r.State != tt.wantState || r.Code != "1" || r.MessageID != tt.sent.ID)) {
				t.Errorf("Lookup = %+v, %v, %v", r, found, err)
			}
		})
	}
}

func TestStateMapping(t *testing.T) {
	tests := []struct {
		status int
		want   sms.DeliveryState
	}{
		{0, sms.StateAccepted}, {1, sms.StateDelivered}, {2, sms.StateExpired},
		{3, sms.StateFailed}, {4, sms.StateFailed}, {11, sms.StateFailed}, {12, sms.StateFailed},
		{13, sms.StateFailed}, {15, sms.StateFailed}, {16, sms.StateFailed}, {17, sms.StateFailed},
	}
	for _, tt := range tests {
		if got := netgsm.State(tt.status); got != tt.want {
			t.Errorf("State(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
	r := netgsm.JobReport(netgsm.Job{JobID: "7", Number: "5321234567", Status: 12, ErrorCode: 27})
	if r.Recipient != "+905321234567" || r.Code != "12" || !strings.Contains(r.Detail, "27") {
		t.Errorf("JobReport = %+v", r)
	}
}

func TestPushedReport(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0)
	res, err := p.Send(ctx, sms.Message{ID: "m1", Recipient: "+905321234567", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetStatus(res.ProviderMessageID, 3, 1)
	auth := sms.CallbackAuth{Secret: "hook-secret"}
	var got []sms.Report
	url := push.Receiver(t, func(r *http.Request) error {
		var err error
		got, err = p.ParseReports(r, "", auth)
		return err
	})
	if err := srv.PushReport(ctx, url, "hook-secret", res.ProviderMessageID); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ProviderMessageID != res.ProviderMessageID || got[0].State != sms.StateFailed || got[0].Code != "3" {
		t.Errorf("parsed %+v", got)
	}
	if err := srv.PushReport(ctx, url, "wrong", res.ProviderMessageID); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("push with a wrong secret: %v, want 401", err)
	}
}

func TestCallbackAuth(t *testing.T) {
	p, _ := newPair(t, 0)
	auth := sms.CallbackAuth{Secret: "hook-secret"}
	body := `{"message":"RET","sender":"905321234567","receiver":"8501234567","datetime":"04.12.2026 10:00:00"}`
	tests := []struct {
		name   string
		target string
		user   string
		pass   string
		auth   sms.CallbackAuth
		ok     bool
	}{
		{"query secret", "/in?secret=hook-secret", "", "", auth, true},
		{"basic password", "/in", "x", "hook-secret", auth, true},
		{"wrong query secret", "/in?secret=nope", "", "", auth, false},
		{"wrong password", "/in", "x", "nope", auth, false},
		{"none", "/in", "", "", auth, false},
		{"brand without secret", "/in?secret=", "", "", sms.CallbackAuth{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(body))
			if tt.pass != "" {
				r.SetBasicAuth(tt.user, tt.pass)
			}
			in, err := p.ParseInbound(r, "", tt.auth)
			if tt.ok {
				if err != nil || len(in) != 1 || in[0].Body != "RET" || in[0].From != "905321234567" || in[0].At.IsZero() {
					t.Errorf("ParseInbound = %+v, %v", in, err)
				}
				return
			}
			if !errors.Is(err, sms.ErrUnauthenticated) {
				t.Errorf("err = %v, want ErrUnauthenticated", err)
			}
		})
	}
}

func TestInbound(t *testing.T) {
	ctx := context.Background()
	p, srv := newPair(t, 0)
	var got []sms.Inbound
	url := push.Receiver(t, func(r *http.Request) error {
		var err error
		got, err = p.ParseInbound(r, "", sms.CallbackAuth{Secret: "k"})
		return err
	})
	if err := srv.PushInbound(ctx, url, "k", "905321234567", "8501234567", "RET IZIN"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Body != "RET IZIN" || got[0].From != "905321234567" || got[0].To != "8501234567" {
		t.Errorf("pushed inbound parsed as %+v", got)
	}

	now := time.Now()
	srv.Receive("905321234567", "8501234567", "İPTAL", now.Add(-time.Minute))
	srv.Receive("905329999999", "8501234567", "EVET IZIN", now.Add(-2*time.Hour))
	list, err := p.ListInbound(ctx, now.Add(-10*time.Minute), now.Add(time.Minute))
	if err != nil || len(list) != 1 || list[0].Body != "İPTAL" {
		t.Errorf("ListInbound = %+v, %v", list, err)
	}
	list, err = p.ListInbound(ctx, now.Add(-time.Second), now)
	if err != nil || len(list) != 0 {
		t.Errorf("empty ListInbound = %+v, %v", list, err)
	}
}
