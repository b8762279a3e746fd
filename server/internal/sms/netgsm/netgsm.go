// Package netgsm sends SMS through Netgsm's REST v2 JSON API.
//
// Documentation: https://www.netgsm.com.tr/dokuman/ (the REST v2 pages for
// sending SMS, delivery reports and the inbox), and the OpenAPI description
// and error-code tables Netgsm publishes with its own JavaScript client
// (github.com/netgsm/netgsm-sms-js: openapi.json, src/enums.ts).
//
// What this client relies on:
//   - POST /sms/rest/v2/send with HTTP basic auth (usercode, password) and
//     {"msgheader","messages":[{"msg","no"}],"encoding","iysfilter"}; the
//     answer is {"code","description","jobid"}, code "00" on success.
//   - iysfilter "0" marks an informational message that İYS does not
//     filter; izin sends only activation codes and confirmations, so every
//     message carries it. encoding "TR" selects the Turkish single-shift
//     table; it is set only when sms.Measure says the body needs it.
//   - POST /sms/rest/v2/report with {"jobids","startdate","stopdate"} for
//     delivery status, and GET /sms/rest/v2/inbox for received SMS.
//
// Netgsm takes no id of ours with a message, so after a send of unknown
// outcome Lookup searches the report of the minutes around the first
// attempt for the recipient's number. Any message to that number in that
// window counts as found: a false "found" costs the customer a resend
// request, a false "not found" would send the code twice.
package netgsm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
)

// DefaultBaseURL is Netgsm's public API.
const DefaultBaseURL = "https://api.netgsm.com.tr"

// API paths, relative to the base URL.
const (
	PathSend   = "/sms/rest/v2/send"
	PathReport = "/sms/rest/v2/report"
	PathInbox  = "/sms/rest/v2/inbox"
)

// Date layouts of the REST v2 API: report queries take "dd.MM.yyyy
// HH:mm:ss", the inbox query takes "ddMMyyyyHHmmss"; both in Turkish time.
const (
	ReportDateLayout = "02.01.2006 15:04:05"
	InboxDateLayout  = "02012006150405"
)

// lookupSlack widens the report window around the first attempt, for
// clock skew between izin and Netgsm.
const lookupSlack = 2 * time.Minute

// Provider is a Netgsm account. It implements sms.Provider, sms.Reporter,
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

// New returns a Netgsm client. Username is the usercode (subscriber
// number) of an API sub-user, Password its API password.
func New(cfg sms.Config) (*Provider, error) {
	if strings.TrimSpace(cfg.Username) == "" || cfg.Password == "" {
		return nil, errors.New("netgsm: username (usercode) and password are required")
	}
	return &Provider{
		base:   wire.BaseURL(cfg.BaseURL, DefaultBaseURL),
		user:   strings.TrimSpace(cfg.Username),
		pw:     cfg.Password,
		sender: cfg.Sender,
		client: wire.Client(cfg.HTTPClient),
	}, nil
}

// Name returns "netgsm".
func (p *Provider) Name() string { return "netgsm" }

// SendRequest is the body of POST /sms/rest/v2/send.
type SendRequest struct {
	MsgHeader string        `json:"msgheader"`
	Messages  []SendMessage `json:"messages"`
	Encoding  string        `json:"encoding,omitempty"`
	IYSFilter string        `json:"iysfilter"`
	AppName   string        `json:"appname,omitempty"`
}

// SendMessage is one message of a SendRequest; No is the recipient as
// Netgsm spells it (see Number).
type SendMessage struct {
	Msg string `json:"msg"`
	No  string `json:"no"`
}

// Answer is Netgsm's answer to every REST v2 call; JobID is set by send.
type Answer struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	JobID       string `json:"jobid,omitempty"`
}

// Informational is the iysfilter value for messages İYS does not filter.
const Informational = "0"

// EncodingTurkish is the encoding value for the Turkish table.
const EncodingTurkish = "TR"

// Number spells an E.164 number the way Netgsm's "no" field takes it:
// ten digits for Turkish numbers (5321234567), 00 and the country code
// otherwise.
func Number(e164 string) string {
	d := wire.Digits(e164)
	if wire.IsTurkish(e164) {
		return strings.TrimPrefix(d, "90")
	}
	return "00" + d
}

// Send hands m to Netgsm as an informational message.
func (p *Provider) Send(ctx context.Context, m sms.Message) (sms.Result, error) {
	sender := m.Sender
	if sender == "" {
		sender = p.sender
	}
	if sender == "" || m.Recipient == "" || m.Body == "" {
		return sms.Result{}, sms.Permanent(errors.New("netgsm: sender, recipient and body are required"))
	}
	req := SendRequest{
		MsgHeader: sender,
		Messages:  []SendMessage{{Msg: m.Body, No: Number(m.Recipient)}},
		IYSFilter: Informational,
	}
	if ms := sms.Measure(m.Body); ms.Turkish {
		req.Encoding = EncodingTurkish
	}
	var ans Answer
	status, err := p.post(ctx, PathSend, req, &ans)
	if err != nil {
		return sms.Result{}, err
	}
	if ans.Code == "00" && ans.JobID != "" {
		return sms.Result{ProviderMessageID: ans.JobID}, nil
	}
	if ans.Code == "" {
		return sms.Result{}, answerless("send", status)
	}
	return sms.Result{}, SendError(ans)
}

// SendError classifies a send answer that is not "00". Codes that say the
// message or its sender is wrong are permanent; bad credentials, rate
// limits and system errors are retried: Netgsm did not take the message.
func SendError(a Answer) error {
	err := fmt.Errorf("netgsm: send refused: code %s: %s", a.Code, a.Description)
	switch a.Code {
	case "20", // message text problem or too long
		"40", // sender title (msgheader) not defined
		"41", // sender title not valid
		"50", // account cannot send İYS-checked messages
		"51", // no İYS brand for the account
		"70": // invalid or missing parameter (e.g. the number)
		return sms.Permanent(err)
	}
	return err // 30 credentials, 80/85 rate limits, 100/101 system error, others
}

// answerless reports an answer without a Netgsm code. A 2xx or a gateway
// timeout may hide an accepted message, so they are Unknown; anything else
// (a proxy's 502/503, a 401) means Netgsm did not take it.
func answerless(call string, status int) error {
	err := fmt.Errorf("netgsm: %s: HTTP %d without a Netgsm code", call, status)
	if (status >= 200 && status < 300) || wire.Lost(status) {
		return sms.Unknown(err)
	}
	return err
}

func (p *Provider) post(ctx context.Context, path string, in, out any) (int, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return 0, fmt.Errorf("netgsm: encoding request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, fmt.Errorf("netgsm: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return p.do(ctx, req, out)
}

func (p *Provider) do(ctx context.Context, req *http.Request, out any) (int, error) {
	req.SetBasicAuth(p.user, p.pw)
	req.Header.Set("Accept", "application/json")
	status, body, err := wire.Do(ctx, p.client, req)
	if err != nil {
		return status, fmt.Errorf("netgsm: %w", err)
	}
	// An unreadable body leaves out empty; the caller sees no code.
	_ = json.Unmarshal(body, out)
	return status, nil
}

// ReportRequest is the body of POST /sms/rest/v2/report.
type ReportRequest struct {
	JobIDs    []string `json:"jobids,omitempty"`
	StartDate string   `json:"startdate"`
	StopDate  string   `json:"stopdate"`
	PageSize  int      `json:"pagesize,omitempty"`
}

// ReportAnswer is the answer of the report query.
type ReportAnswer struct {
	Answer
	Jobs []Job `json:"jobs"`
}

// Job is one message's status in a report (polled or pushed).
type Job struct {
	JobID         string `json:"jobid"`
	Number        string `json:"number"`
	Status        int    `json:"status"`
	Operator      int    `json:"operator,omitempty"`
	MsgLen        int    `json:"msglen,omitempty"`
	DeliveredDate string `json:"deliveredDate,omitempty"`
	ErrorCode     int    `json:"errorCode,omitempty"`
	ReferenceID   string `json:"referansID,omitempty"`
}

// Lookup asks the report API about m: by job id when the send answered,
// otherwise by the recipient within minutes of the first attempt.
func (p *Provider) Lookup(ctx context.Context, m sms.Sent) (sms.Report, bool, error) {
	first := m.FirstAttempt
	if first.IsZero() {
		first = time.Now().Add(-24 * time.Hour)
	}
	loc := wire.Istanbul()
	req := ReportRequest{
		StartDate: first.Add(-lookupSlack).In(loc).Format(ReportDateLayout),
		StopDate:  time.Now().Add(lookupSlack).In(loc).Format(ReportDateLayout),
		PageSize:  100,
	}
	if m.ProviderMessageID != "" {
		req.JobIDs = []string{m.ProviderMessageID}
	}
	var ans ReportAnswer
	status, err := p.post(ctx, PathReport, req, &ans)
	if err != nil {
		return sms.Report{}, false, err
	}
	switch ans.Code {
	case "00":
	case "60": // no records
		return sms.Report{}, false, nil
	case "":
		return sms.Report{}, false, fmt.Errorf("netgsm: report: HTTP %d without a Netgsm code", status)
	default:
		return sms.Report{}, false, fmt.Errorf("netgsm: report refused: code %s: %s", ans.Code, ans.Description)
	}
	want := Number(m.Recipient)
	for _, j := range ans.Jobs {
		if m.ProviderMessageID != "" && j.JobID != m.ProviderMessageID {
			continue
		}
		if m.ProviderMessageID == "" && (!sameNumber(j.Number, want) || slices.Contains(m.Known, j.JobID)) {
			continue
		}
		r := JobReport(j)
		r.MessageID = m.ID
		return r, true, nil
	}
	return sms.Report{}, false, nil
}

// sameNumber compares two Netgsm spellings of a number by their last ten
// digits, since answers may or may not carry the 90 country code.
func sameNumber(a, b string) bool {
	a, b = wire.Digits(a), wire.Digits(b)
	if len(a) > 10 {
		a = a[len(a)-10:]
	}
	if len(b) > 10 {
		b = b[len(b)-10:]
	}
	return a != "" && a == b
}

// State maps a Netgsm report status to a delivery state.
func State(status int) sms.DeliveryState {
	switch status {
	case 0: // waiting to be sent
		return sms.StateAccepted
	case 1:
		return sms.StateDelivered
	case 2: // validity ran out
		return sms.StateExpired
	default: // 3 invalid number, 4 not sent to the operator, 11 rejected,
		// 12 delivery error, 13 duplicate, 14 no credit, 15 blacklisted,
		// 16 İYS refused, 17 İYS error
		return sms.StateFailed
	}
}

var statusText = map[int]string{
	0: "waiting", 1: "delivered", 2: "expired", 3: "invalid number",
	4: "not sent to operator", 11: "rejected", 12: "delivery error",
	13: "duplicate", 14: "insufficient credit", 15: "blacklisted",
	16: "refused by İYS", 17: "İYS error",
}

// JobReport turns a report job into an sms.Report. Code is the status;
// an operator error code is added to Detail.
func JobReport(j Job) sms.Report {
	detail := statusText[j.Status]
	if detail == "" {
		detail = "status " + strconv.Itoa(j.Status)
	}
	if j.ErrorCode != 0 {
		detail += fmt.Sprintf(" (error %d)", j.ErrorCode)
	}
	r := sms.Report{
		ProviderMessageID: j.JobID,
		State:             State(j.Status),
		Code:              strconv.Itoa(j.Status),
		Detail:            detail,
		At:                wire.ParseTime(j.DeliveredDate, ReportDateLayout, "2006-01-02 15:04:05", InboxDateLayout),
	}
	if n := wire.Digits(j.Number); n != "" {
		r.Recipient = "+" + n
		if len(n) == 10 {
			r.Recipient = "+90" + n
		}
	}
	return r
}
