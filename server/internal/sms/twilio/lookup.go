package twilio

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/internal/wire"
)

// lookupSlack widens the window around the first attempt for clock skew.
const lookupSlack = 2 * time.Minute

// MessageList is a page of the Messages list.
type MessageList struct {
	Messages    []Message `json:"messages"`
	NextPageURI string    `json:"next_page_uri"`
}

// Lookup fetches the message by sid when the send answered. Otherwise it
// lists messages to the recipient sent since the first attempt's day and
// matches the body and the creation time; a message Twilio still queues
// has no date_sent yet, so the recipient's latest messages are searched
// too before the answer is "not found".
func (p *Provider) Lookup(ctx context.Context, m sms.Sent) (sms.Report, bool, error) {
	if m.ProviderMessageID != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+MessagePath(p.sid, m.ProviderMessageID), nil)
		if err != nil {
			return sms.Report{}, false, fmt.Errorf("twilio: %w", err)
		}
		var msg Message
		if _, err := p.do(ctx, req, &msg); err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
				return sms.Report{}, false, nil
			}
			return sms.Report{}, false, err
		}
		r := MessageReport(msg)
		r.MessageID = m.ID
		return r, true, nil
	}
	since := m.FirstAttempt
	if since.IsZero() {
		since = time.Now().Add(-24 * time.Hour)
	}
	since = since.Add(-lookupSlack)
	queries := []url.Values{
		{"To": {m.Recipient}, "DateSent>": {since.UTC().Format("2006-01-02")}, "PageSize": {"50"}},
		{"To": {m.Recipient}, "PageSize": {"50"}},
	}
	for _, q := range queries {
		msg, found, err := p.find(ctx, q, m, since)
		if err != nil {
			return sms.Report{}, false, err
		}
		if found {
			r := MessageReport(msg)
			r.MessageID = m.ID
			return r, true, nil
		}
	}
	return sms.Report{}, false, nil
}

// find lists one page of messages and returns the first outbound one with
// m's body created at or after since.
func (p *Provider) find(ctx context.Context, q url.Values, m sms.Sent, since time.Time) (Message, bool, error) {
	// Twilio spells the inequality filter "DateSent>=": the key ends in
	// ">" and the "=" is the separator, so Encode writes it as Twilio reads it.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+MessagesPath(p.sid)+"?"+q.Encode(), nil)
	if err != nil {
		return Message{}, false, fmt.Errorf("twilio: %w", err)
	}
	var list MessageList
	if _, err := p.do(ctx, req, &list); err != nil {
		return Message{}, false, err
	}
	for _, msg := range list.Messages {
		created := wire.ParseTime(msg.DateCreated, TimeLayout)
		if msg.Body == m.Body && !slices.Contains(m.Known, msg.Sid) && (created.IsZero() || !created.Before(since)) {
			return msg, true, nil
		}
	}
	return Message{}, false, nil
}

// verify checks X-Twilio-Signature against the brand's auth token and the
// full URL Twilio called, and that the callback names the brand's account.
func verify(r *http.Request, fullURL string, auth sms.CallbackAuth) (url.Values, error) {
	if auth.Password == "" {
		return nil, fmt.Errorf("twilio: no auth token configured: %w", sms.ErrUnauthenticated)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, wire.MaxBody)
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("twilio: reading callback: %w", err)
	}
	want := Signature(auth.Password, fullURL, r.PostForm)
	got := r.Header.Get(SignatureHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return nil, fmt.Errorf("twilio: bad %s: %w", SignatureHeader, sms.ErrUnauthenticated)
	}
	if auth.Username != "" && r.PostForm.Get("AccountSid") != auth.Username {
		return nil, fmt.Errorf("twilio: callback for another account: %w", sms.ErrUnauthenticated)
	}
	return r.PostForm, nil
}

// ParseReports reads a status callback (MessageSid, MessageStatus,
// ErrorCode, To).
func (p *Provider) ParseReports(r *http.Request, fullURL string, auth sms.CallbackAuth) ([]sms.Report, error) {
	f, err := verify(r, fullURL, auth)
	if err != nil {
		return nil, err
	}
	sid, status := f.Get("MessageSid"), f.Get("MessageStatus")
	if sid == "" || status == "" {
		return nil, errors.New("twilio: status callback without MessageSid or MessageStatus")
	}
	code, _ := strconv.Atoi(f.Get("ErrorCode"))
	rep := report(sid, f.Get("To"), status, code, f.Get("ErrorMessage"))
	rep.At = time.Now().UTC()
	return []sms.Report{rep}, nil
}

// ParseInbound reads an incoming-message webhook (MessageSid, From, To,
// Body). Twilio gives no receive time, so At is when izin got it.
func (p *Provider) ParseInbound(r *http.Request, fullURL string, auth sms.CallbackAuth) ([]sms.Inbound, error) {
	f, err := verify(r, fullURL, auth)
	if err != nil {
		return nil, err
	}
	if f.Get("MessageSid") == "" || f.Get("From") == "" {
		return nil, errors.New("twilio: inbound webhook without MessageSid or From")
	}
	return []sms.Inbound{{
		ProviderMessageID: f.Get("MessageSid"),
		From:              f.Get("From"),
		To:                f.Get("To"),
		Body:              f.Get("Body"),
		At:                time.Now().UTC(),
	}}, nil
}
