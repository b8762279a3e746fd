// Package twiliotest is an in-process stand-in for Twilio Programmable
// Messaging, for tests: it checks basic auth (Account SID and auth token),
// validates and records every message exactly as received, assigns SM
// sids, answers fetch and list, and can be told to fail, to lose an
// answer, to change a message's status, and to send signed status
// callbacks and inbound-message webhooks to izin.
//
// It follows https://www.twilio.com/docs/messaging/api/message-resource
// (Message resource, create/fetch/list, the DateSent filters),
// https://www.twilio.com/docs/api/errors (error codes such as 20003,
// 20404, 21211, 21602, 21603, 21617) and
// https://www.twilio.com/docs/usage/webhooks/webhooks-security
// (X-Twilio-Signature). Like Twilio it deduplicates nothing.
package twiliotest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/sms/internal/fault"
	"github.com/izinhq/izin/server/internal/sms/internal/push"
	"github.com/izinhq/izin/server/internal/sms/twilio"
)

// Message is one accepted message, as received.
type Message struct {
	Sid                 string
	To                  string
	From                string
	MessagingServiceSid string
	Body                string
	StatusCallback      string
	// Status starts "queued" and changes with SetStatus; ErrorCode is 0
	// for none.
	Status    string
	ErrorCode int
	Created   time.Time
	// Sent is when the status left queued; zero while queued (Twilio's
	// date_sent is null then).
	Sent time.Time
}

// Server is a fake Twilio. Use URL as the provider's base URL.
type Server struct {
	*fault.Server         // URL, Close, RefuseNext, DropNext, HangNext
	AccountSid, AuthToken string

	mu   sync.Mutex
	msgs []Message
	next int
}

// New starts a fake Twilio for one account.
func New(accountSid, authToken string) *Server {
	s := &Server{AccountSid: accountSid, AuthToken: authToken}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{account}/Messages.json", s.create)
	mux.HandleFunc("GET /2010-04-01/Accounts/{account}/Messages.json", s.list)
	mux.HandleFunc("GET /2010-04-01/Accounts/{account}/Messages/{file}", s.fetch)
	s.Server = fault.Start(mux)
	return s
}

// Messages returns every accepted message, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// SetStatus sets a message's status (sent, delivered, undelivered,
// failed, ...) and error code (e.g. 30003 unreachable, 30036 validity
// expired); it reports whether the message exists.
func (s *Server) SetStatus(sid, status string, errorCode int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.msgs {
		if s.msgs[i].Sid == sid {
			s.msgs[i].Status, s.msgs[i].ErrorCode = status, errorCode
			if status != "queued" && status != "accepted" && s.msgs[i].Sent.IsZero() {
				s.msgs[i].Sent = time.Now()
			}
			return true
		}
	}
	return false
}

// PushReport sends the message's current status as a signed status
// callback to target, or to the message's StatusCallback when target is
// empty.
func (s *Server) PushReport(ctx context.Context, target, sid string) error {
	s.mu.Lock()
	var m *Message
	for i := range s.msgs {
		if s.msgs[i].Sid == sid {
			c := s.msgs[i]
			m = &c
		}
	}
	s.mu.Unlock()
	if m == nil {
		return fmt.Errorf("twiliotest: no message %s", sid)
	}
	if target == "" {
		target = m.StatusCallback
	}
	f := url.Values{
		"AccountSid": {s.AccountSid}, "ApiVersion": {"2010-04-01"},
		"MessageSid": {m.Sid}, "SmsSid": {m.Sid},
		"MessageStatus": {m.Status}, "SmsStatus": {m.Status},
		"To": {m.To}, "From": {m.From},
	}
	if m.MessagingServiceSid != "" {
		f.Set("MessagingServiceSid", m.MessagingServiceSid)
	}
	if m.ErrorCode != 0 {
		f.Set("ErrorCode", fmt.Sprint(m.ErrorCode))
	}
	return s.post(ctx, target, f, s.AuthToken)
}

// PushInbound sends a signed incoming-message webhook to target, as if
// from sent body to the brand's Twilio number to.
func (s *Server) PushInbound(ctx context.Context, target, from, to, body string) error {
	return s.PushInboundSigned(ctx, target, from, to, body, s.AuthToken)
}

// PushInboundSigned is PushInbound with the signature made with token, so
// a test can send a forged webhook.
func (s *Server) PushInboundSigned(ctx context.Context, target, from, to, body, token string) error {
	s.mu.Lock()
	s.next++
	sid := fmt.Sprintf("SM%032x", 1<<40+s.next)
	s.mu.Unlock()
	f := url.Values{
		"AccountSid": {s.AccountSid}, "ApiVersion": {"2010-04-01"},
		"MessageSid": {sid}, "SmsMessageSid": {sid}, "SmsSid": {sid}, "SmsStatus": {"received"},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
	}
	return s.post(ctx, target, f, token)
}

func (s *Server) post(ctx context.Context, target string, f url.Values, token string) error {
	h := http.Header{twilio.SignatureHeader: {twilio.Signature(token, target, f)}}
	return push.Post(ctx, push.Request{URL: target, ContentType: "application/x-www-form-urlencoded",
		Body: []byte(f.Encode()), Header: h})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, twilio.APIError{Code: code, Message: msg, Status: status,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
}

func (s *Server) authed(w http.ResponseWriter, r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	if !ok || u != s.AccountSid || p != s.AuthToken || r.PathValue("account") != s.AccountSid {
		apiError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return false
	}
	return true
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	k := fault.Send(&s.Switch)
	if k == fault.Refuse {
		apiError(w, http.StatusServiceUnavailable, 20503, "Service unavailable")
		return
	}
	if !s.authed(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}
	f := r.PostForm
	m := Message{To: f.Get("To"), From: f.Get("From"), MessagingServiceSid: f.Get("MessagingServiceSid"),
		Body: f.Get("Body"), StatusCallback: f.Get("StatusCallback"), Status: "queued", Created: time.Now()}
	switch {
	case !e164.MatchString(m.To):
		apiError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", m.To))
		return
	case m.From == "" && m.MessagingServiceSid == "":
		apiError(w, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
		return
	case m.Body == "":
		apiError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(m.Body)) > 1600:
		apiError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	if m.MessagingServiceSid != "" {
		m.Status = "accepted"
	}
	s.mu.Lock()
	s.next++
	m.Sid = fmt.Sprintf("SM%032x", s.next)
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	if fault.Apply(&s.Switch, k, w, r) {
		return
	}
	writeJSON(w, http.StatusCreated, s.resource(m))
}

func (s *Server) resource(m Message) twilio.Message {
	out := twilio.Message{Sid: m.Sid, AccountSid: s.AccountSid, To: m.To, From: m.From,
		MessagingServiceSid: m.MessagingServiceSid, Body: m.Body, Status: m.Status,
		Direction: "outbound-api", DateCreated: m.Created.UTC().Format(twilio.TimeLayout),
		DateUpdated: time.Now().UTC().Format(twilio.TimeLayout), NumSegments: "1"}
	if !m.Sent.IsZero() {
		out.DateSent = m.Sent.UTC().Format(twilio.TimeLayout)
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		out.ErrorCode = &code
	}
	return out
}

func (s *Server) fetch(w http.ResponseWriter, r *http.Request) {
	if fault.Request(&s.Switch) == fault.Refuse {
		apiError(w, http.StatusServiceUnavailable, 20503, "Service unavailable")
		return
	}
	if !s.authed(w, r) {
		return
	}
	sid := strings.TrimSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.Sid == sid {
			writeJSON(w, http.StatusOK, s.resource(m))
			return
		}
	}
	apiError(w, http.StatusNotFound, 20404, "The requested resource was not found")
}

// list filters by To, From and DateSent / DateSent< / DateSent> (dates
// YYYY-MM-DD, UTC), newest first, as Twilio does.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	if fault.Request(&s.Switch) == fault.Refuse {
		apiError(w, http.StatusServiceUnavailable, 20503, "Service unavailable")
		return
	}
	if !s.authed(w, r) {
		return
	}
	q := r.URL.Query()
	day := func(key string) (time.Time, bool) {
		v := q.Get(key)
		if v == "" {
			return time.Time{}, false
		}
		t, err := time.Parse("2006-01-02", v)
		return t, err == nil
	}
	onDay, hasOn := day("DateSent")
	after, hasAfter := day("DateSent>")
	before, hasBefore := day("DateSent<")
	out := twilio.MessageList{Messages: []twilio.Message{}}
	s.mu.Lock()
	for i := len(s.msgs) - 1; i >= 0; i-- {
		m := s.msgs[i]
		if (q.Get("To") != "" && m.To != q.Get("To")) || (q.Get("From") != "" && m.From != q.Get("From")) {
			continue
		}
		if hasOn || hasAfter || hasBefore {
			if m.Sent.IsZero() {
				continue
			}
			d := m.Sent.UTC().Truncate(24 * time.Hour)
			if (hasOn && !d.Equal(onDay)) || (hasAfter && d.Before(after)) || (hasBefore && d.After(before)) {
				continue
			}
		}
		out.Messages = append(out.Messages, s.resource(m))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
