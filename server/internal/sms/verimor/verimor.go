// Package verimor sends SMS through Verimor's SMS API v2.
//
// Documentation: https://github.com/verimor/SMS-API/blob/master/user_guide.md
// (Verimor SMS API Dökümanı: "SMS Gönderimi", "Gönderim Raporu Alımı",
// "Gelen SMS Alımı", "Hata Kodları", "SMS Boy Karakter Limitleri"), and
// Verimor's İYS page (github.com/verimor/docs, docs/iys/ticari-sms.md) for
// the is_commercial flag of send.json.
//
// What this client relies on:
//   - POST /v2/send.json with a JSON body carrying username and password,
//     source_addr (the sender title), custom_id, datacoding and
//     messages [{msg, dest, id}]. Success is HTTP 200 with the campaign id
//     as plain text; failure is HTTP 400 with an error name
//     (INVALID_DESTINATION_ADDRESS, ...), 401 for credentials or IP, 413
//     and 429 for size and rate limits.
//   - custom_id (campaign) and id (message) both carry izin's message id,
//     so GET /v2/status?custom_id=... finds a message whose send answer
//     was lost, and pushed reports name it.
//   - is_commercial false marks the message informational (true is an İYS
//     commercial message, which also needs iys_recipient_type); izin sends
//     only codes and confirmations, which İYS does not cover.
//   - datacoding 0 (GSM 7-bit), 1 (Turkish: the body has ş Ş ğ Ğ ç ı İ)
//     or 2 (Unicode), chosen with sms.Measure. Verimor asks not to send 1
//     abroad, so a Turkish body to a foreign number goes as 2.
//   - Pushed delivery reports and inbound SMS are JSON arrays POSTed to
//     the URLs set in Verimor's OİM panel, with "type" outbound or inbound.
//     They are not signed; izin's callback URL carries the brand's secret.
//   - GET /v2/inbound_messages lists received SMS for polling.
package verimor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
)

// DefaultBaseURL is Verimor's public SMS API.
const DefaultBaseURL = "https://sms.verimor.com.tr"

// API paths, relative to the base URL.
const (
	PathSend    = "/v2/send.json"
	PathStatus  = "/v2/status"
	PathInbound = "/v2/inbound_messages"
)

// TimeLayout is how Verimor writes dates in reports and takes them in
// queries, in Turkish time.
const TimeLayout = "2006-01-02 15:04:05"

// Data codings.
const (
	DataCodingGSM     = "0"
	DataCodingTurkish = "1"
	DataCodingUnicode = "2"
)

// Provider is a Verimor account. It implements sms.Provider, sms.Reporter,
// sms.Callbacks and sms.InboundLister.
type Provider struct {
	base     string
	user, pw string
	sender   string
	client   *http.Client
}

var (
	_ sms.Provider      = (*Provider)(nil)
	_ sms.Reporter      = (*Provider)(nil)
	_ sms.Callbacks     = (*Provider)(nil)
	_ sms.InboundLister = (*Provider)(nil)
)

// New returns a Verimor client. Username is the account's 12-digit number
// (908501234567), Password the API password set in OİM.
func New(cfg sms.Config) (*Provider, error) {
	if strings.TrimSpace(cfg.Username) == "" || cfg.Password == "" {
		return nil, errors.New("verimor: username and API password are required")
	}
	return &Provider{
		base:   wire.BaseURL(cfg.BaseURL, DefaultBaseURL),
		user:   strings.TrimSpace(cfg.Username),
		pw:     cfg.Password,
		sender: cfg.Sender,
		client: wire.Client(cfg.HTTPClient),
	}, nil
}

// Name returns "verimor".
func (p *Provider) Name() string { return "verimor" }

// SendRequest is the body of POST /v2/send.json.
type SendRequest struct {
	Username     string        `json:"username"`
	Password     string        `json:"password"`
	SourceAddr   string        `json:"source_addr,omitempty"`
	CustomID     string        `json:"custom_id,omitempty"`
	DataCoding   string        `json:"datacoding,omitempty"`
	IsCommercial *bool         `json:"is_commercial,omitempty"`
	ValidFor     string        `json:"valid_for,omitempty"`
	Messages     []SendMessage `json:"messages"`
}

// SendMessage is one message of a campaign; Dest may list several numbers
// separated by commas, and ID then as many ids.
type SendMessage struct {
	Msg  string `json:"msg"`
	Dest string `json:"dest"`
	ID   string `json:"id,omitempty"`
}

// Number spells an E.164 number as Verimor's dest takes it: 905321234567
// for Turkey, +49... abroad.
func Number(e164 string) string {
	d := wire.Digits(e164)
	if wire.IsTurkish(e164) {
		return d
	}
	return "+" + d
}

// DataCoding picks the datacoding for body sent to recipient.
func DataCoding(body, recipient string) string {
	m := sms.Measure(body)
	switch {
	case m.Encoding == sms.EncodingUCS2:
		return DataCodingUnicode
	case m.Turkish && wire.IsTurkish(recipient):
		return DataCodingTurkish
	case m.Turkish:
		return DataCodingUnicode
	}
	return DataCodingGSM
}

// Send hands m to Verimor as an informational message.
func (p *Provider) Send(ctx context.Context, m sms.Message) (sms.Result, error) {
	sender := m.Sender
	if sender == "" {
		sender = p.sender
	}
	if m.ID == "" || m.Recipient == "" || m.Body == "" {
		return sms.Result{}, sms.Permanent(errors.New("verimor: id, recipient and body are required"))
	}
	commercial := false
	body, err := json.Marshal(SendRequest{
		Username:     p.user,
		Password:     p.pw,
		SourceAddr:   sender,
		CustomID:     m.ID,
		DataCoding:   DataCoding(m.Body, m.Recipient),
		IsCommercial: &commercial,
		Messages:     []SendMessage{{Msg: m.Body, Dest: Number(m.Recipient), ID: m.ID}},
	})
	if err != nil {
		return sms.Result{}, fmt.Errorf("verimor: encoding request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+PathSend, bytes.NewReader(body))
	if err != nil {
		return sms.Result{}, fmt.Errorf("verimor: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	status, ans, err := wire.Do(ctx, p.client, req)
	if err != nil {
		return sms.Result{}, fmt.Errorf("verimor: %w", err)
	}
	text := strings.TrimSpace(string(ans))
	if status == http.StatusOK && text != "" {
		return sms.Result{ProviderMessageID: text}, nil
	}
	return sms.Result{}, SendError(status, text)
}

// permanentError reports whether a send answer says the message itself is
// wrong, so that sending it again cannot succeed.
func permanentError(text string) bool {
	switch text {
	case "INVALID_SOURCE_ADDRESS", "MISSING_MESSAGE", "MESSAGE_TOO_LONG",
		"INVALID_PERIOD", "INVALID_DELIVERY_TIME", "INVALID_DATACODING",
		"MISSING_DESTINATION_ADDRESS", "INVALID_DESTINATION_ADDRESS",
		"FORBIDDEN_MESSAGE":
		return true
	}
	return false
}

// SendError classifies a failed send answer. A 400 with one of the
// documented message errors is permanent; INSUFFICIENT_CREDITS, 401
// (credentials, IP allow-list), 413, 429 and server errors are retried.
// A 200 without a campaign id, or a gateway timeout, may hide an accepted
// message and is Unknown.
func SendError(status int, text string) error {
	err := fmt.Errorf("verimor: send refused: HTTP %d: %s", status, text)
	switch {
	case status == http.StatusBadRequest && permanentError(text):
		return sms.Permanent(err)
	case status == http.StatusOK || wire.Lost(status):
		return sms.Unknown(err)
	}
	return err
}
