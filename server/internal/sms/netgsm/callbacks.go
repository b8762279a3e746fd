package netgsm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
)

// Pushes. The Netgsm documentation consulted (REST v2) describes delivery
// reports and the inbox as queries only, with no documented push format.
// So that a Netgsm brand can still use izin's callback routes (a forward
// set up on Netgsm's side, or a relay that polls), they accept exactly what
// the queries answer: report jobs ({"jobid","number","status","errorCode",
// "deliveredDate",...}) or inbox messages ({"message","sender","receiver",
// "datetime"}), one object, a JSON array, or the query answer itself
// (under "jobs" / "messages"). Nothing is signed, so each push must carry
// the brand's callback secret (wire.CheckSecret). Without any push, Lookup
// and ListInbound poll the same data.

// ParseReports reads a pushed delivery report.
func (p *Provider) ParseReports(r *http.Request, _ string, auth sms.CallbackAuth) ([]sms.Report, error) {
	if err := wire.CheckSecret(r, auth); err != nil {
		return nil, fmt.Errorf("netgsm: %w", err)
	}
	var jobs []Job
	if err := decodeList(r, "jobs", &jobs); err != nil {
		return nil, err
	}
	out := make([]sms.Report, 0, len(jobs))
	for _, j := range jobs {
		if j.JobID == "" {
			return nil, fmt.Errorf("netgsm: report without jobid")
		}
		out = append(out, JobReport(j))
	}
	return out, nil
}

// InboxMessage is one received SMS, as the inbox query lists it.
type InboxMessage struct {
	Message  string `json:"message"`
	Sender   string `json:"sender"`
	Receiver string `json:"receiver"`
	DateTime string `json:"datetime"`
}

// InboxAnswer is the answer of GET /sms/rest/v2/inbox.
type InboxAnswer struct {
	Answer
	Messages []InboxMessage `json:"messages"`
}

// ParseInbound reads a pushed inbound SMS.
func (p *Provider) ParseInbound(r *http.Request, _ string, auth sms.CallbackAuth) ([]sms.Inbound, error) {
	if err := wire.CheckSecret(r, auth); err != nil {
		return nil, fmt.Errorf("netgsm: %w", err)
	}
	var msgs []InboxMessage
	if err := decodeList(r, "messages", &msgs); err != nil {
		return nil, err
	}
	return inbound(msgs), nil
}

func inbound(msgs []InboxMessage) []sms.Inbound {
	out := make([]sms.Inbound, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, sms.Inbound{
			From: m.Sender,
			To:   m.Receiver,
			Body: m.Message,
			At:   wire.ParseTime(m.DateTime, ReportDateLayout, InboxDateLayout, "2006-01-02 15:04:05"),
		})
	}
	return out
}

// decodeList reads one object, an array, or an object holding the array
// under key.
func decodeList[T any](r *http.Request, key string, out *[]T) error {
	b, err := wire.ReadBody(r)
	if err != nil {
		return fmt.Errorf("netgsm: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("netgsm: decoding push: %w", err)
		}
		return nil
	}
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return fmt.Errorf("netgsm: decoding push: %w", err)
	}
	if raw, ok := wrapped[key]; ok {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("netgsm: decoding push: %w", err)
		}
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return fmt.Errorf("netgsm: decoding push: %w", err)
	}
	*out = []T{one}
	return nil
}

// ListInbound polls the inbox for SMS received in [since, until).
func (p *Provider) ListInbound(ctx context.Context, since, until time.Time) ([]sms.Inbound, error) {
	loc := wire.Istanbul()
	q := url.Values{
		"startdate": {since.In(loc).Format(InboxDateLayout)},
		"stopdate":  {until.In(loc).Format(InboxDateLayout)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+PathInbox+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("netgsm: %w", err)
	}
	var ans InboxAnswer
	status, err := p.do(ctx, req, &ans)
	if err != nil {
		return nil, err
	}
	switch ans.Code {
	case "00":
		return inbound(ans.Messages), nil
	case "40": // nothing to list
		return nil, nil
	case "":
		return nil, fmt.Errorf("netgsm: inbox: HTTP %d without a Netgsm code", status)
	}
	return nil, fmt.Errorf("netgsm: inbox refused: code %s: %s", ans.Code, ans.Description)
}
