// Package netgsmtest is an in-process stand-in for Netgsm's REST v2 SMS
// API, for tests: it checks basic auth, validates and records every send
// exactly as received, assigns job ids, answers report and inbox queries,
// and can be told to fail, to lose an answer, to change a message's
// status, and to push a report or an inbound SMS to izin.
//
// It follows https://www.netgsm.com.tr/dokuman/ (REST v2 send, report and
// inbox) and the OpenAPI description in github.com/netgsm/netgsm-sms-js:
// answers are JSON {"code","description",...}, HTTP 200 with code "00" on
// success and HTTP 406 with the error code otherwise. Like Netgsm it
// deduplicates nothing, so a message sent twice is recorded twice.
package netgsmtest

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/sms/internal/fault"
	"github.com/izinhq/izin/server/internal/sms/internal/push"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
	"github.com/izinhq/izin/server/internal/sms/netgsm"
)

// Message is one accepted message, as received.
type Message struct {
	JobID     string
	Header    string // msgheader
	Number    string // "no"
	Text      string // "msg"
	Encoding  string // "" or "TR"
	IYSFilter string // "0" for informational
	At        time.Time
	// Status and ErrorCode are the report fields; Status starts at 0
	// (waiting) and changes with SetStatus.
	Status    int
	ErrorCode int
}

// Server is a fake Netgsm. Use URL as the provider's base URL.
type Server struct {
	*fault.Server      // URL, Close, RefuseNext, DropNext, HangNext
	Username, Password string

	mu     sync.Mutex
	msgs   []Message
	inbox  []netgsm.InboxMessage
	nextID int
}

// New starts a fake Netgsm that accepts the given usercode and password.
func New(username, password string) *Server {
	s := &Server{Username: username, Password: password, nextID: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+netgsm.PathSend, s.send)
	mux.HandleFunc("POST "+netgsm.PathReport, s.report)
	mux.HandleFunc("GET "+netgsm.PathInbox, s.inboxList)
	s.Server = fault.Start(mux)
	return s
}

// Messages returns every accepted message, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// SetStatus sets a message's report status (1 delivered, 2 expired, 3
// invalid number, 12 delivery error, ...; see netgsm.State) and operator
// error code. It reports whether the job exists.
func (s *Server) SetStatus(jobID string, status, errorCode int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.msgs {
		if s.msgs[i].JobID == jobID {
			s.msgs[i].Status, s.msgs[i].ErrorCode = status, errorCode
			return true
		}
	}
	return false
}

// Receive adds an SMS from a customer to the inbox that ListInbound polls.
func (s *Server) Receive(from, to, body string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbox = append(s.inbox, inboxMessage(from, to, body, at))
}

func inboxMessage(from, to, body string, at time.Time) netgsm.InboxMessage {
	return netgsm.InboxMessage{Message: body, Sender: from, Receiver: to,
		DateTime: at.In(wire.Istanbul()).Format(netgsm.ReportDateLayout)}
}

// PushReport posts the job's current status to target as a report job,
// with secret as the basic-auth password.
func (s *Server) PushReport(ctx context.Context, target, secret, jobID string) error {
	s.mu.Lock()
	var job *netgsm.Job
	for _, m := range s.msgs {
		if m.JobID == jobID {
			j := jobOf(m)
			job = &j
		}
	}
	s.mu.Unlock()
	if job == nil {
		return errNoJob(jobID)
	}
	return s.push(ctx, target, secret, []netgsm.Job{*job})
}

// PushInbound posts an inbound SMS to target, with secret as the
// basic-auth password.
func (s *Server) PushInbound(ctx context.Context, target, secret, from, to, body string) error {
	return s.push(ctx, target, secret, []netgsm.InboxMessage{inboxMessage(from, to, body, time.Now())})
}

func (s *Server) push(ctx context.Context, target, secret string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return push.Post(ctx, push.Request{URL: target, ContentType: "application/json", Body: b,
		BasicUser: s.Username, BasicPassword: secret})
}

type errNoJob string

func (e errNoJob) Error() string { return "netgsmtest: no job " + string(e) }

func jobOf(m Message) netgsm.Job {
	j := netgsm.Job{JobID: m.JobID, Number: m.Number, Status: m.Status, ErrorCode: m.ErrorCode,
		Operator: 30, MsgLen: 1}
	if m.Status != 0 {
		j.DeliveredDate = m.At.In(wire.Istanbul()).Format(netgsm.ReportDateLayout)
	}
	return j
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code, desc string) {
	answer(w, http.StatusNotAcceptable, netgsm.Answer{Code: code, Description: desc})
}

// authed answers code 30 for wrong credentials.
func (s *Server) authed(w http.ResponseWriter, r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	if !ok || u != s.Username || p != s.Password {
		fail(w, "30", "Invalid username, password or no API access")
		return false
	}
	return true
}

var numberRE = regexp.MustCompile(`^([0-9]{10}|00[1-9][0-9]{6,14})$`)

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	k := fault.Send(&s.Switch)
	if k == fault.Refuse {
		fail(w, "100", "System error")
		return
	}
	if !s.authed(w, r) {
		return
	}
	var req netgsm.SendRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, "70", "Invalid query")
		return
	}
	switch {
	case req.MsgHeader == "" || len(req.MsgHeader) > 11:
		fail(w, "40", "Message header is not defined")
		return
	case len(req.Messages) == 0:
		fail(w, "70", "Invalid query")
		return
	case req.Encoding != "" && req.Encoding != netgsm.EncodingTurkish:
		fail(w, "70", "Invalid encoding")
		return
	case req.IYSFilter != "" && req.IYSFilter != "0" && req.IYSFilter != "11" && req.IYSFilter != "12":
		fail(w, "70", "Invalid iysfilter")
		return
	}
	for _, m := range req.Messages {
		if m.Msg == "" {
			fail(w, "20", "Message text problem")
			return
		}
		if !numberRE.MatchString(m.No) {
			fail(w, "70", "Invalid number")
			return
		}
	}
	s.mu.Lock()
	s.nextID++
	id := strconv.Itoa(s.nextID)
	for _, m := range req.Messages {
		s.msgs = append(s.msgs, Message{JobID: id, Header: req.MsgHeader, Number: m.No, Text: m.Msg,
			Encoding: req.Encoding, IYSFilter: req.IYSFilter, At: time.Now()})
	}
	s.mu.Unlock()
	if fault.Apply(&s.Switch, k, w, r) {
		return
	}
	answer(w, http.StatusOK, netgsm.Answer{Code: "00", Description: "queued", JobID: id})
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	if fault.Request(&s.Switch) == fault.Refuse {
		fail(w, "100", "System error")
		return
	}
	if !s.authed(w, r) {
		return
	}
	var req netgsm.ReportRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, "70", "Invalid query")
		return
	}
	loc := wire.Istanbul()
	start, err1 := time.ParseInLocation(netgsm.ReportDateLayout, req.StartDate, loc)
	stop, err2 := time.ParseInLocation(netgsm.ReportDateLayout, req.StopDate, loc)
	if err1 != nil || err2 != nil {
		fail(w, "70", "Invalid date")
		return
	}
	want := map[string]bool{}
	for _, id := range req.JobIDs {
		want[id] = true
	}
	var jobs []netgsm.Job
	s.mu.Lock()
	for _, m := range s.msgs {
		if len(want) > 0 && !want[m.JobID] {
			continue
		}
		if m.At.Before(start) || m.At.After(stop) {
			continue
		}
		jobs = append(jobs, jobOf(m))
	}
	s.mu.Unlock()
	if len(jobs) == 0 {
		fail(w, "60", "No records")
		return
	}
	answer(w, http.StatusOK, netgsm.ReportAnswer{Answer: netgsm.Answer{Code: "00", Description: "Success"}, Jobs: jobs})
}

func (s *Server) inboxList(w http.ResponseWriter, r *http.Request) {
	if fault.Request(&s.Switch) == fault.Refuse {
		fail(w, "100", "System error")
		return
	}
	if !s.authed(w, r) {
		return
	}
	loc := wire.Istanbul()
	q := r.URL.Query()
	start, err1 := time.ParseInLocation(netgsm.InboxDateLayout, q.Get("startdate"), loc)
	stop, err2 := time.ParseInLocation(netgsm.InboxDateLayout, q.Get("stopdate"), loc)
	if err1 != nil || err2 != nil {
		fail(w, "70", "Invalid date")
		return
	}
	var out []netgsm.InboxMessage
	s.mu.Lock()
	for _, m := range s.inbox {
		at, _ := time.ParseInLocation(netgsm.ReportDateLayout, m.DateTime, loc)
		if !at.Before(start) && at.Before(stop) {
			out = append(out, m)
		}
	}
	s.mu.Unlock()
	if len(out) == 0 {
		fail(w, "40", "No messages")
		return
	}
	answer(w, http.StatusOK, netgsm.InboxAnswer{Answer: netgsm.Answer{Code: "00", Description: "Success"}, Messages: out})
}
