package verimor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
)

// Status is one message's report, as GET /v2/status answers it and as a
// pushed report carries it (with Type "outbound").
type Status struct {
	Type             string `json:"type,omitempty"`
	CampaignID       int64  `json:"campaign_id"`
	CampaignCustomID string `json:"campaign_custom_id,omitempty"`
	MessageID        string `json:"message_id"`
	MessageCustomID  string `json:"message_custom_id,omitempty"`
	Dest             string `json:"dest"`
	Size             int    `json:"size,omitempty"`
	Credits          int    `json:"credits,omitempty"`
	Status           string `json:"status"`
	GSMError         string `json:"gsm_error,omitempty"`
	SentAt           string `json:"sent_at,omitempty"`
	DoneAt           string `json:"done_at,omitempty"`
}

// State maps a Verimor message status to a delivery state.
func State(status string) sms.DeliveryState {
	switch status {
	case "SENDING", "WAITING":
		return sms.StateAccepted
	case "DELIVERED", "SENT": // SENT: delivered where the operator gives no report
		return sms.StateDelivered
	case "EXPIRED":
		return sms.StateExpired
	}
	// NOT_DELIVERED, INVALID_DESTINATION_ADDRESS, REJECTED,
	// DOUBLE_SEND_ERROR, BLACKLISTED_DESTINATION_ADDRESS, MISSING_TARIFF,
	// ROUTE_NOT_AVAILABLE, NETWORK_NOTCOVERED, SEND_ERROR,
	// INTERNATIONAL_DENIED and anything new.
	return sms.StateFailed
}

// StatusReport turns a Verimor status into an sms.Report. Code is the
// status name; the operator's gsm_error, when not 0, is in Detail.
func StatusReport(s Status) sms.Report {
	r := sms.Report{
		MessageID:         s.MessageCustomID,
		ProviderMessageID: strconv.FormatInt(s.CampaignID, 10),
		State:             State(s.Status),
		Code:              s.Status,
		At:                wire.ParseTime(s.DoneAt, TimeLayout),
	}
	if r.MessageID == "" {
		r.MessageID = s.CampaignCustomID
	}
	if s.CampaignID == 0 {
		r.ProviderMessageID = ""
	}
	if s.GSMError != "" && s.GSMError != "0" {
		r.Detail = "gsm_error " + s.GSMError
	}
	if d := wire.Digits(s.Dest); d != "" {
		r.Recipient = "+" + d
	}
	return r
}

// Lookup asks GET /v2/status about m: by campaign id when the send
// answered, by izin's id (custom_id) otherwise. 404 means Verimor has no
// such campaign, so it never got the message.
func (p *Provider) Lookup(ctx context.Context, m sms.Sent) (sms.Report, bool, error) {
	q := url.Values{"username": {p.user}, "password": {p.pw}}
	if m.ProviderMessageID != "" {
		q.Set("id", m.ProviderMessageID)
	} else {
		q.Set("custom_id", m.ID)
	}
	var list []Status
	found, err := p.get(ctx, PathStatus, q, &list)
	if err != nil || !found || len(list) == 0 {
		return sms.Report{}, false, err
	}
	// One message per campaign; a custom_id sent twice (after a "not
	// found") names two campaigns, and either answers the question.
	r := StatusReport(list[0])
	if r.MessageID == "" {
		r.MessageID = m.ID
	}
	return r, true, nil
}

// get runs a GET query; found is false on 404.
func (p *Provider) get(ctx context.Context, path string, q url.Values, out any) (found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return false, fmt.Errorf("verimor: %w", err)
	}
	status, body, err := wire.Do(ctx, p.client, req)
	if err != nil {
		return false, fmt.Errorf("verimor: %w", err)
	}
	switch status {
	case http.StatusOK:
	case http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("verimor: %s: HTTP %d: %s", path, status, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return false, fmt.Errorf("verimor: %s: decoding answer: %w", path, err)
	}
	return true, nil
}

// InboundMessage is one received SMS, pushed (Type "inbound") or listed.
type InboundMessage struct {
	MessageID       int64  `json:"message_id"`
	Type            string `json:"type,omitempty"`
	ReceivedAt      string `json:"received_at"`
	Network         string `json:"network,omitempty"`
	SourceAddr      string `json:"source_addr"`
	DestinationAddr string `json:"destination_addr"`
	Keyword         string `json:"keyword,omitempty"`
	Content         string `json:"content"`
}

func (m InboundMessage) inbound() sms.Inbound {
	return sms.Inbound{
		ProviderMessageID: strconv.FormatInt(m.MessageID, 10),
		From:              m.SourceAddr,
		To:                m.DestinationAddr,
		Body:              m.Content,
		At:                wire.ParseTime(m.ReceivedAt, TimeLayout),
	}
}

// ListInbound polls GET /v2/inbound_messages for [since, until).
func (p *Provider) ListInbound(ctx context.Context, since, until time.Time) ([]sms.Inbound, error) {
	loc := wire.Istanbul()
	q := url.Values{"username": {p.user}, "password": {p.pw},
		"from_time": {since.In(loc).Format(TimeLayout)}, "to_time": {until.In(loc).Format(TimeLayout)}}
	var list []InboundMessage
	if _, err := p.get(ctx, PathInbound, q, &list); err != nil {
		return nil, err
	}
	out := make([]sms.Inbound, 0, len(list))
	for _, m := range list {
		out = append(out, m.inbound())
	}
	return out, nil
}

// ParseReports reads a pushed array of delivery reports; inbound entries
// in it are skipped.
func (p *Provider) ParseReports(r *http.Request, _ string, auth sms.CallbackAuth) ([]sms.Report, error) {
	var list []Status
	if err := decodePush(r, auth, &list); err != nil {
		return nil, err
	}
	out := make([]sms.Report, 0, len(list))
	for _, s := range list {
		if s.Type != "" && s.Type != "outbound" {
			continue
		}
		out = append(out, StatusReport(s))
	}
	return out, nil
}

// ParseInbound reads a pushed array of inbound SMS; report entries in it
// are skipped.
func (p *Provider) ParseInbound(r *http.Request, _ string, auth sms.CallbackAuth) ([]sms.Inbound, error) {
	var list []InboundMessage
	if err := decodePush(r, auth, &list); err != nil {
		return nil, err
	}
	out := make([]sms.Inbound, 0, len(list))
	for _, m := range list {
		if m.Type != "" && m.Type != "inbound" {
			continue
		}
		out = append(out, m.inbound())
	}
	return out, nil
}

func decodePush(r *http.Request, auth sms.CallbackAuth, out any) error {
	if err := wire.CheckSecret(r, auth); err != nil {
		return fmt.Errorf("verimor: %w", err)
	}
	b, err := wire.ReadBody(r)
	if err != nil {
		return fmt.Errorf("verimor: %w", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("verimor: decoding push: %w", err)
	}
	return nil
}
