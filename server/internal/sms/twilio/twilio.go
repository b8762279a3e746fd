// Package twilio sends SMS through Twilio Programmable Messaging, for
// numbers abroad.
//
// Documentation: https://www.twilio.com/docs/messaging/api/message-resource
// (create, fetch and list a Message), https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
// (status callbacks), https://www.twilio.com/docs/usage/webhooks/webhooks-security
// (X-Twilio-Signature) and https://www.twilio.com/docs/api/errors (error
// codes).
//
// What this client relies on:
//   - POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded
//     To, From (or MessagingServiceSid for a sender starting "MG"), Body
//     and StatusCallback, with HTTP basic auth AccountSid:AuthToken. The
//     answer is the Message resource (201) or an error object
//     {"code","message","more_info","status"}.
//   - GET .../Messages/{Sid}.json to fetch one message, and
//     GET .../Messages.json?To=...&DateSent>=YYYY-MM-DD to list them.
//   - Status callbacks and inbound SMS webhooks are form POSTs signed with
//     X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, of
//     the full URL followed by every POST parameter name and value, sorted
//     by name.
//
// Twilio has no informational/commercial flag: message classes are a
// Turkish (İYS) notion, and Twilio is used for numbers abroad, where izin
// sends only activation codes and confirmations anyway. Twilio takes no
// idempotency key for a message either, so after a send of unknown outcome
// Lookup lists the recipient's recent messages and matches the body.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// SignatureHeader carries Twilio's webhook signature.
const SignatureHeader = "X-Twilio-Signature"

// TimeLayout is how Twilio writes dates (RFC 2822).
const TimeLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// MessagesPath returns the Messages list path of an account.
func MessagesPath(accountSid string) string {
	return "/2010-04-01/Accounts/" + url.PathEscape(accountSid) + "/Messages.json"
}

// MessagePath returns the path of one message.
func MessagePath(accountSid, sid string) string {
	return "/2010-04-01/Accounts/" + url.PathEscape(accountSid) + "/Messages/" + url.PathEscape(sid) + ".json"
}

// Provider is a Twilio account. It implements sms.Provider, sms.Reporter
// and sms.Callbacks.
type Provider struct {
	base        string
	sid, token  string
	sender      string
	callbackURL string
	client      *http.Client
}

var (
	_ sms.Provider  = (*Provider)(nil)
	_ sms.Reporter  = (*Provider)(nil)
	_ sms.Callbacks = (*Provider)(nil)
)

// New returns a Twilio client: Username is the Account SID, Password the
// auth token, Sender a Twilio number (E.164) or a Messaging Service SID,
// ReportURL the status callback URL given with each message.
func New(cfg sms.Config) (*Provider, error) {
	if strings.TrimSpace(cfg.Username) == "" || cfg.Password == "" {
		return nil, errors.New("twilio: account SID (username) and auth token (password) are required")
	}
	return &Provider{
		base:        wire.BaseURL(cfg.BaseURL, DefaultBaseURL),
		sid:         strings.TrimSpace(cfg.Username),
		token:       cfg.Password,
		sender:      cfg.Sender,
		callbackURL: cfg.ReportURL,
		client:      wire.Client(cfg.HTTPClient),
	}, nil
}

// Name returns "twilio".
func (p *Provider) Name() string { return "twilio" }

// Message is Twilio's Message resource, the fields izin reads.
type Message struct {
	Sid                 string `json:"sid"`
	AccountSid          string `json:"account_sid"`
	To                  string `json:"to"`
	From                string `json:"from"`
	MessagingServiceSid string `json:"messaging_service_sid,omitempty"`
	Body                string `json:"body"`
	Status              string `json:"status"`
	Direction           string `json:"direction,omitempty"`
	ErrorCode           *int   `json:"error_code"`
	ErrorMessage        string `json:"error_message,omitempty"`
	DateCreated         string `json:"date_created"`
	DateSent            string `json:"date_sent"`
	DateUpdated         string `json:"date_updated,omitempty"`
	NumSegments         string `json:"num_segments,omitempty"`
}

// APIError is Twilio's error answer.
type APIError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info,omitempty"`
	Status   int    `json:"status"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("twilio: HTTP %d: error %d: %s", e.Status, e.Code, e.Message)
}

// isServiceSid reports whether a sender is a Messaging Service SID.
func isServiceSid(s string) bool { return strings.HasPrefix(s, "MG") && len(s) == 34 }

// Send creates the message at Twilio.
func (p *Provider) Send(ctx context.Context, m sms.Message) (sms.Result, error) {
	sender := m.Sender
	if sender == "" {
		sender = p.sender
	}
	if sender == "" || m.Recipient == "" || m.Body == "" {
		return sms.Result{}, sms.Permanent(errors.New("twilio: sender, recipient and body are required"))
	}
	form := url.Values{"To": {m.Recipient}, "Body": {m.Body}}
	if isServiceSid(sender) {
		form.Set("MessagingServiceSid", sender)
	} else {
		form.Set("From", sender)
	}
	if p.callbackURL != "" {
		form.Set("StatusCallback", p.callbackURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+MessagesPath(p.sid), strings.NewReader(form.Encode()))
	if err != nil {
		return sms.Result{}, fmt.Errorf("twilio: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var msg Message
	status, err := p.do(ctx, req, &msg)
	if err != nil {
		return sms.Result{}, err
	}
	if msg.Sid == "" {
		return sms.Result{}, sms.Unknown(fmt.Errorf("twilio: send: HTTP %d without a message sid", status))
	}
	return sms.Result{ProviderMessageID: msg.Sid}, nil
}

// do sends req and decodes a 2xx answer into out. Other answers become
// errors classified by SendError.
func (p *Provider) do(ctx context.Context, req *http.Request, out any) (int, error) {
	req.SetBasicAuth(p.sid, p.token)
	req.Header.Set("Accept", "application/json")
	status, body, err := wire.Do(ctx, p.client, req)
	if err != nil {
		return status, fmt.Errorf("twilio: %w", err)
	}
	if status >= 200 && status < 300 {
		if err := json.Unmarshal(body, out); err != nil {
			return status, sms.Unknown(fmt.Errorf("twilio: HTTP %d: unreadable answer: %w", status, err))
		}
		return status, nil
	}
	apiErr := &APIError{Status: status}
	_ = json.Unmarshal(body, apiErr)
	apiErr.Status = status
	return status, SendError(apiErr)
}

// SendError classifies a Twilio error answer. A 400 is a request Twilio
// will never accept (invalid To, unverified or wrong From, body too long,
// recipient unsubscribed with STOP, region not enabled): permanent, except
// 21611 (the sender's queue is full), which clears. Credentials (401),
// refusals (403), unknown account (404), rate limits (429) and server
// errors are retried; a gateway timeout may hide an accepted message and
// is Unknown.
func SendError(e *APIError) error {
	switch {
	case e.Status == http.StatusBadRequest && e.Code != 21611:
		return sms.Permanent(e)
	case wire.Lost(e.Status):
		return sms.Unknown(e)
	}
	return e
}

// Signature computes X-Twilio-Signature for a request to fullURL with the
// given POST parameters.
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// State maps a Twilio message status (and error code) to a delivery state.
func State(status string, errorCode int) sms.DeliveryState {
	switch status {
	case "delivered", "read":
		return sms.StateDelivered
	case "undelivered", "failed", "canceled":
		if errorCode == ErrValidityExpired {
			return sms.StateExpired
		}
		return sms.StateFailed
	}
	// queued, accepted, scheduled, sending, sent (handed to the carrier,
	// no handset receipt yet)
	return sms.StateAccepted
}

// ErrValidityExpired is Twilio's error for a message whose validity
// period ran out before it could be sent.
const ErrValidityExpired = 30036

// report builds an sms.Report from a status, an error code (0 for none)
// and its message. Code is the error code when there is one, else the
// status.
func report(sid, to, status string, code int, msg string) sms.Report {
	r := sms.Report{ProviderMessageID: sid, Recipient: to, State: State(status, code), Code: status, Detail: status}
	if code != 0 {
		r.Code = strconv.Itoa(code)
		r.Detail = strings.TrimSpace(fmt.Sprintf("%s (%d %s)", status, code, msg))
	}
	return r
}

// MessageReport turns a fetched Message into an sms.Report.
func MessageReport(m Message) sms.Report {
	code := 0
	if m.ErrorCode != nil {
		code = *m.ErrorCode
	}
	r := report(m.Sid, m.To, m.Status, code, m.ErrorMessage)
	r.At = wire.ParseTime(m.DateUpdated, TimeLayout)
	return r
}
