// Package verimortest is an in-process stand-in for Verimor's SMS API v2,
// for tests: it checks the username and password, validates and records
// every send exactly as received, assigns campaign and message ids,
// answers status and inbound queries, and can be told to fail, to lose an
// answer, to change a message's status, and to push a report or an inbound
// SMS to izin.
//
// It follows https://github.com/verimor/SMS-API/blob/master/user_guide.md:
// send.json answers HTTP 200 with the campaign id as plain text, HTTP 400
// with an error name, 401 for bad credentials; status answers a JSON array
// or 404; pushes are JSON arrays with "type" outbound or inbound. Like
// Verimor it deduplicates nothing, so a message sent twice is recorded
// twice (custom_id is not a uniqueness key).
package verimortest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/sms/internal/fault"
	"github.com/izinhq/izin/server/internal/sms/internal/push"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
	"github.com/izinhq/izin/server/internal/sms/verimor"
)

// Message is one accepted message, as received.
type Message struct {
	CampaignID      int64
	MessageID       int64
	CustomID        string // campaign custom_id
	MessageCustomID string // messages[].id
	SourceAddr      string
	Dest            string
	Msg             string
	DataCoding      string
	// IsCommercial is the is_commercial flag as received; nil if absent.
	IsCommercial *bool
	At           time.Time
	// Status and GSMError are the report fields; Status starts WAITING.
	Status   string
	GSMError string
}

// Server is a fake Verimor. Use URL as the provider's base URL.
type Server struct {
	*fault.Server      // URL, Close, RefuseNext, DropNext, HangNext
	Username, Password string

	mu      sync.Mutex
	msgs    []Message
	inbound []verimor.InboundMessage
	nextID  int64
}

// New starts a fake Verimor that accepts the given username and password.
func New(username, password string) *Server {
	s := &Server{Username: username, Password: password, nextID: 20000}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+verimor.PathSend, s.send)
	mux.HandleFunc("GET "+verimor.PathStatus, s.status)
	mux.HandleFunc("GET "+verimor.PathInbound, s.inboundList)
	s.Server = fault.Start(mux)
	return s
}

// Messages returns every accepted message, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// SetStatus sets the status (DELIVERED, NOT_DELIVERED, EXPIRED, ...) and
// gsm_error of the messages of a campaign; it reports whether it exists.
func (s *Server) SetStatus(campaignID, status, gsmError string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for i := range s.msgs {
		if strconv.FormatInt(s.msgs[i].CampaignID, 10) == campaignID {
			s.msgs[i].Status, s.msgs[i].GSMError = status, gsmError
			found = true
		}
	}
	return found
}

// Receive adds an SMS from a customer that ListInbound polls, and returns
// it in Verimor's form (for PushInbound or assertions).
func (s *Server) Receive(from, to, body string, at time.Time) verimor.InboundMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	m := verimor.InboundMessage{MessageID: s.nextID, ReceivedAt: at.In(wire.Istanbul()).Format(verimor.TimeLayout),
		Network: "TURKCELL", SourceAddr: from, DestinationAddr: to, Content: body}
	s.inbound = append(s.inbound, m)
	return m
}

// PushReport posts the campaign's current statuses to target as Verimor
// does, adding secret as the "secret" query parameter.
func (s *Server) PushReport(ctx context.Context, target, secret, campaignID string) error {
	s.mu.Lock()
	var list []verimor.Status
	for _, m := range s.msgs {
		if strconv.FormatInt(m.CampaignID, 10) == campaignID {
			st := statusOf(m)
			st.Type = "outbound"
			list = append(list, st)
		}
	}
	s.mu.Unlock()
	if len(list) == 0 {
		return errNoCampaign(campaignID)
	}
	return s.push(ctx, target, secret, list)
}

// PushInbound records an inbound SMS and posts it to target, adding
// secret as the "secret" query parameter.
func (s *Server) PushInbound(ctx context.Context, target, secret, from, to, body string) error {
	m := s.Receive(from, to, body, time.Now())
	m.Type = "inbound"
	return s.push(ctx, target, secret, []verimor.InboundMessage{m})
}

func (s *Server) push(ctx context.Context, target, secret string, v any) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("secret", secret)
	u.RawQuery = q.Encode()
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return push.Post(ctx, push.Request{URL: u.String(), ContentType: "application/json", Body: b})
}

type errNoCampaign string

func (e errNoCampaign) Error() string { return "verimortest: no campaign " + string(e) }

func statusOf(m Message) verimor.Status {
	st := verimor.Status{CampaignID: m.CampaignID, CampaignCustomID: m.CustomID,
		MessageID: strconv.FormatInt(m.MessageID, 10), MessageCustomID: m.MessageCustomID,
		Dest: m.Dest, Size: 1, Credits: 1, Status: m.Status, GSMError: m.GSMError}
	if m.Status != "WAITING" && m.Status != "SENDING" {
		st.DoneAt = m.At.In(wire.Istanbul()).Format(verimor.TimeLayout)
	}
	return st
}

func text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (s *Server) credentialsOK(user, pw string) bool { return user == s.Username && pw == s.Password }

var destRE = regexp.MustCompile(`^(90[0-9]{10}|(\+|00)[1-9][0-9]{6,14})$`)

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	k := fault.Send(&s.Switch)
	if k == fault.Refuse {
		text(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	var req verimor.SendRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		text(w, http.StatusBadRequest, "MISSING_MESSAGE")
		return
	}
	if !s.credentialsOK(req.Username, req.Password) {
		text(w, http.StatusUnauthorized, "Geçersiz kullanıcı adı/şifre")
		return
	}
	switch req.DataCoding {
	case "", verimor.DataCodingGSM, verimor.DataCodingTurkish, verimor.DataCodingUnicode:
	default:
		text(w, http.StatusBadRequest, "INVALID_DATACODING")
		return
	}
	if len(req.Messages) == 0 {
		text(w, http.StatusBadRequest, "MISSING_MESSAGE")
		return
	}
	for _, m := range req.Messages {
		switch {
		case m.Msg == "":
			text(w, http.StatusBadRequest, "MISSING_MESSAGE")
			return
		case m.Dest == "":
			text(w, http.StatusBadRequest, "MISSING_DESTINATION_ADDRESS")
			return
		case !destRE.MatchString(m.Dest):
			text(w, http.StatusBadRequest, "INVALID_DESTINATION_ADDRESS")
			return
		}
	}
	s.mu.Lock()
	s.nextID++
	campaign := s.nextID
	for _, m := range req.Messages {
		s.nextID++
		s.msgs = append(s.msgs, Message{CampaignID: campaign, MessageID: s.nextID, CustomID: req.CustomID,
			MessageCustomID: m.ID, SourceAddr: req.SourceAddr, Dest: m.Dest, Msg: m.Msg,
			DataCoding: req.DataCoding, IsCommercial: req.IsCommercial, At: time.Now(),
			Status: "WAITING", GSMError: "0"})
	}
	s.mu.Unlock()
	if fault.Apply(&s.Switch, k, w, r) {
		return
	}
	text(w, http.StatusOK, strconv.FormatInt(campaign, 10))
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if fault.Request(&s.Switch) == fault.Refuse {
		text(w, http.StatusServiceUnavailable, "Service Unavailable")
		return nil, false
	}
	q := r.URL.Query()
	if !s.credentialsOK(q.Get("username"), q.Get("password")) {
		text(w, http.StatusUnauthorized, "Geçersiz kullanıcı adı/şifre")
		return nil, false
	}
	return q, true
}

func answerJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	q, ok := s.query(w, r)
	if !ok {
		return
	}
	id, custom := q.Get("id"), q.Get("custom_id")
	if id == "" && custom == "" {
		text(w, http.StatusBadRequest, "id or custom_id required")
		return
	}
	list := []verimor.Status{}
	s.mu.Lock()
	for _, m := range s.msgs {
		if (id != "" && strconv.FormatInt(m.CampaignID, 10) == id) || (id == "" && m.CustomID == custom) {
			list = append(list, statusOf(m))
		}
	}
	s.mu.Unlock()
	if len(list) == 0 {
		text(w, http.StatusNotFound, "Bu idye sahip kampanya bulunamadı")
		return
	}
	answerJSON(w, list)
}

func (s *Server) inboundList(w http.ResponseWriter, r *http.Request) {
	q, ok := s.query(w, r)
	if !ok {
		return
	}
	loc := wire.Istanbul()
	from, err1 := time.ParseInLocation(verimor.TimeLayout, q.Get("from_time"), loc)
	to, err2 := time.ParseInLocation(verimor.TimeLayout, q.Get("to_time"), loc)
	if err1 != nil || err2 != nil {
		text(w, http.StatusBadRequest, "invalid from_time or to_time")
		return
	}
	list := []verimor.InboundMessage{}
	s.mu.Lock()
	for _, m := range s.inbound {
		at, _ := time.ParseInLocation(verimor.TimeLayout, m.ReceivedAt, loc)
		if !at.Before(from) && at.Before(to) {
			list = append(list, m)
		}
	}
	s.mu.Unlock()
	answerJSON(w, list)
}
