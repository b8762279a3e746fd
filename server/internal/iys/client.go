package iys

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/backoff"
)

// Client talks to İYS for one API account. It is safe for concurrent use.
type Client struct {
	base          *url.URL
	creds         Credentials
	hc            *http.Client
	now           func() time.Time
	sleep         func(context.Context, time.Duration) error
	retry         RetryPolicy
	maxBatch      int
	refreshMargin time.Duration
	tokenTimeout  time.Duration
	changesSource string
	userAgent     string

	tokens tokenCache
}

// RetryPolicy bounds the retries of one call.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent at most when it fails
	// with a network error or a transient answer (5xx, H123...). Default 5.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the exponential backoff: attempt n waits
	// about BaseDelay·2ⁿ⁻¹, at most MaxDelay, with jitter. Defaults 250 ms, 15 s.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRateLimitWaits is how many 429 answers one call waits out. Default 10.
	MaxRateLimitWaits int
	// MaxRetryAfter is the longest Retry-After the client waits; beyond it the
	// call returns the rate-limit error (IsRateLimited, with RetryAfter) for
	// the caller to reschedule. Default 2 minutes.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 15 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.MaxRateLimitWaits <= 0 {
		p.MaxRateLimitWaits = 10
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 2 * time.Minute
	}
	return p
}

// Option configures New.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, proxy, TLS). Default: one
// with a 30 s timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithClock sets the clock used for token lifetimes and Retry-After dates.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithSleeper sets how the client waits between retries. It must return
// ctx.Err() when the context ends first. Tests use it to skip real waiting.
func WithSleeper(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithRetryPolicy sets the retry bounds; zero fields keep their defaults.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p.withDefaults() } }

// WithMaxBatch sets the largest batch AddConsentsAsync sends (default and
// upper bound: 1000, İYS's limit).
func WithMaxBatch(n int) Option { return func(c *Client) { c.maxBatch = n } }

// WithTokenRefreshMargin sets how long before expiry a token is replaced
// (default 5 minutes).
func WithTokenRefreshMargin(d time.Duration) Option { return func(c *Client) { c.refreshMargin = d } }

// WithChangesSource adds source=HS or source=IYS to Changes queries, which
// İYS uses to select the company's own changes or those citizens made at
// İYS. Default: none (all changes).
func WithChangesSource(s string) Option { return func(c *Client) { c.changesSource = s } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client for the İYS API at baseURL (for example
// https://api.sandbox.iys.org.tr).
func New(baseURL string, creds Credentials, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("iys: base URL %q: want http(s)://host", baseURL)
	}
	if creds.Username == "" || creds.Password == "" {
		return nil, errors.New("iys: credentials need a user name and a password")
	}
	c := &Client{
		base:          u,
		creds:         creds,
		hc:            &http.Client{Timeout: 30 * time.Second},
		now:           time.Now,
		sleep:         sleepCtx,
		retry:         RetryPolicy{}.withDefaults(),
		maxBatch:      maxBatchIYS,
		refreshMargin: 5 * time.Minute,
		tokenTimeout:  time.Minute,
		userAgent:     "izin-iys-client",
	}
	for _, o := range opts {
		o(c)
	}
	if c.maxBatch <= 0 || c.maxBatch > maxBatchIYS {
		c.maxBatch = maxBatchIYS
	}
	return c, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AddConsent uploads one consent (POST .../consents).
func (c *Client) AddConsent(ctx context.Context, iysCode, brandCode string, consent Consent) (Result, error) {
	body, err := json.Marshal(consent)
	if err != nil {
		return Result{}, err
	}
	resp, _, err := c.do(ctx, request{op: "AddConsent", method: http.MethodPost, path: brandPath(pathConsents, iysCode, brandCode), body: body, auth: true})
	if err != nil {
		return Result{}, err
	}
	var w wireAddResult
	if err := json.Unmarshal(resp, &w); err != nil {
		return Result{}, fmt.Errorf("iys: AddConsent: decoding answer: %w", err)
	}
	r := Result{TransactionID: w.TransactionID}
	if w.CreationDate != "" {
		if r.CreationDate, err = ParseDate(w.CreationDate); err != nil {
			return Result{}, fmt.Errorf("iys: AddConsent: creationDate %q: %w", w.CreationDate, err)
		}
	}
	return r, nil
}

// ErrBatchSize is returned, without a request, for an empty batch or one
// larger than the client's maximum.
var ErrBatchSize = errors.New("iys: batch size out of range")

// AddConsentsAsync uploads up to 1000 consents in one request
// (POST .../consents/request) and returns İYS's request id, to be passed to
// RequestResult. İYS validates the whole list at once: a malformed item
// fails the request with a rule violation naming the item (Error.Index). İYS
// asks that results be queried no sooner than 5 minutes later, and that one
// recipient and type appear at most once in a list.
func (c *Client) AddConsentsAsync(ctx context.Context, iysCode, brandCode string, consents []Consent) (string, error) {
	if len(consents) == 0 || len(consents) > c.maxBatch {
		return "", fmt.Errorf("%w: %d consents, want 1 to %d", ErrBatchSize, len(consents), c.maxBatch)
	}
	body, err := json.Marshal(consents)
	if err != nil {
		return "", err
	}
	resp, _, err := c.do(ctx, request{op: "AddConsentsAsync", method: http.MethodPost, path: brandPath(pathConsentsAsync, iysCode, brandCode), body: body, auth: true})
	if err != nil {
		return "", err
	}
	var w wireBulkAnswer
	if err := json.Unmarshal(resp, &w); err != nil {
		return "", fmt.Errorf("iys: AddConsentsAsync: decoding answer: %w", err)
	}
	if w.RequestID == "" {
		return "", errors.New("iys: AddConsentsAsync: answer without requestId")
	}
	return w.RequestID, nil
}

// RequestResult returns the per-item outcome of a bulk request
// (GET .../consents/request/{requestId}), in submission order. Items İYS has
// not processed yet are Pending.
func (c *Client) RequestResult(ctx context.Context, iysCode, brandCode, requestID string) ([]ItemResult, error) {
	resp, _, err := c.do(ctx, request{op: "RequestResult", method: http.MethodGet, path: brandPath(pathRequestResult, iysCode, brandCode, requestID), auth: true})
	if err != nil {
		return nil, err
	}
	var ws []wireItemResult
	if err := json.Unmarshal(resp, &ws); err != nil {
		return nil, fmt.Errorf("iys: RequestResult: decoding answer: %w", err)
	}
	out := make([]ItemResult, 0, len(ws))
	for _, w := range ws {
		r := ItemResult{
			Index:         w.Index - resultIndexBase,
			Status:        ItemStatus(w.Status),
			SubrequestID:  w.SubrequestID,
			TransactionID: w.TransactionID,
		}
		if w.CreationDate != "" {
			if r.CreationDate, err = ParseDate(w.CreationDate); err != nil {
				return nil, fmt.Errorf("iys: RequestResult: creationDate %q: %w", w.CreationDate, err)
			}
		}
		if w.Error != nil {
			d := w.Error.detail()
			d.Index = r.Index
			r.Err = &Error{Op: "RequestResult", HTTPStatus: http.StatusOK, Code: d.Code, Message: d.Message,
				Location: d.Location, Value: d.Value, Index: r.Index, Details: []ErrorDetail{d}, kind: classify(http.StatusUnprocessableEntity, d.Code)}
			if r.Status == "" {
				r.Status = ItemFailure
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// ConsentStatus returns the consent İYS holds for the recipient, type and
// recipient type (POST .../consents/status; empty recipientType means
// BIREYSEL), or nil when it holds none.
func (c *Client) ConsentStatus(ctx context.Context, iysCode, brandCode, recipient string, recipientType RecipientType, typ ConsentType) (*Consent, error) {
	if recipientType == "" {
		recipientType = Individual
	}
	body, err := json.Marshal(wireStatusQuery{Recipient: recipient, RecipientType: string(recipientType), Type: string(typ)})
	if err != nil {
		return nil, err
	}
	resp, _, err := c.do(ctx, request{op: "ConsentStatus", method: http.MethodPost, path: brandPath(pathStatus, iysCode, brandCode), body: body, auth: true})
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.HTTPStatus == http.StatusNotFound {
			return nil, nil
		}
		return nil, err
	}
	var out Consent
	if err := json.Unmarshal(resp, &out); err != nil {
		return nil, fmt.Errorf("iys: ConsentStatus: decoding answer: %w", err)
	}
	return &out, nil
}

// Changes returns the consent changes after the cursor (empty for the
// oldest İYS still lists: about 7 days), at most limit of them (0: İYS's
// default), oldest first (GET .../consents/changes). Changes made by
// citizens at İYS have a Source with FromIYS() true.
func (c *Client) Changes(ctx context.Context, iysCode, brandCode, after string, limit int) (ChangesPage, error) {
	if limit < 0 {
		return ChangesPage{}, fmt.Errorf("iys: Changes: negative limit %d", limit)
	}
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", formatLimit(limit))
	}
	if c.changesSource != "" {
		q.Set("source", c.changesSource)
	}
	resp, _, err := c.do(ctx, request{op: "Changes", method: http.MethodGet, path: brandPath(pathChanges, iysCode, brandCode), query: q, auth: true})
	if err != nil {
		return ChangesPage{}, err
	}
	var w wireChanges
	if err := json.Unmarshal(resp, &w); err != nil {
		return ChangesPage{}, fmt.Errorf("iys: Changes: decoding answer: %w", err)
	}
	page := ChangesPage{Next: after}
	for _, item := range w.List {
		cs, err := fromWire(item)
		if err != nil {
			return ChangesPage{}, fmt.Errorf("iys: Changes: %w", err)
		}
		page.Changes = append(page.Changes, cs)
	}
	if len(page.Changes) > 0 && w.After != "" {
		page.Next = w.After
	}
	return page, nil
}

// DailyChanges returns the changes İYS recorded on the given Istanbul date
// (GET .../changes/{reportDate}/file): a day from yesterday back to about
// 7 days ago.
func (c *Client) DailyChanges(ctx context.Context, iysCode, brandCode string, date time.Time) ([]Consent, error) {
	day := date.In(istanbul).Format(reportDateLayout)
	resp, _, err := c.do(ctx, request{op: "DailyChanges", method: http.MethodGet, path: brandPath(pathDailyFile, iysCode, brandCode, day), auth: true, accept: "text/csv"})
	if err != nil {
		return nil, err
	}
	return parseDailyFile(resp)
}

func parseDailyFile(b []byte) ([]Consent, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("iys: DailyChanges: reading CSV: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[strings.TrimSpace(name)] = i
	}
	for _, name := range dailyFileColumns {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("iys: DailyChanges: CSV header lacks %q", name)
		}
	}
	out := make([]Consent, 0, len(rows)-1)
	for n, row := range rows[1:] {
		get := func(name string) string {
			if i := col[name]; i < len(row) {
				return strings.TrimSpace(row[i])
			}
			return ""
		}
		w := wireConsentOut{
			wireConsent: wireConsent{
				Recipient: get("recipient"), RecipientType: get("recipientType"), Type: get("type"),
				Status: get("status"), Source: get("source"), ConsentDate: get("consentDate"),
			},
			CreationDate: get("creationDate"), TransactionID: get("transactionId"),
		}
		cs, err := fromWire(w)
		if err != nil {
			return nil, fmt.Errorf("iys: DailyChanges: line %d: %w", n+2, err)
		}
		out = append(out, cs)
	}
	return out, nil
}

type request struct {
	op          string
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
	accept      string
	auth        bool
}

const maxAnswer = 64 << 20

// do sends the request, with a token when auth is set, retrying as the
// RetryPolicy allows, and returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, rq request) ([]byte, int, error) {
	target := c.base.String() + rq.path
	if q := rq.query.Encode(); q != "" {
		target += "?" + q
	}

	attempts, rateWaits := 0, 0
	reauthed := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		attempts++
		var tok string
		if rq.auth {
			var err error
			if tok, err = c.accessToken(ctx); err != nil {
				return nil, 0, err
			}
		}
		var body io.Reader
		if rq.body != nil {
			body = bytes.NewReader(rq.body)
		}
		req, err := http.NewRequestWithContext(ctx, rq.method, target, body)
		if err != nil {
			return nil, 0, fmt.Errorf("iys: %s: %w", rq.op, err)
		}
		if rq.body != nil {
			ct := rq.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
		}
		accept := rq.accept
		if accept == "" {
			accept = "application/json"
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("User-Agent", c.userAgent)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}

		resp, err := c.hc.Do(req)
		var answer []byte
		if err == nil {
			answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
			resp.Body.Close()
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			e := &Error{Op: rq.op, Index: -1, Attempts: attempts, kind: kindTransient, err: err}
			if attempts >= c.retry.MaxAttempts {
				return nil, 0, e
			}
			if err := c.sleep(ctx, c.backoff(attempts)); err != nil {
				return nil, 0, err
			}
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return answer, resp.StatusCode, nil
		}

		e := parseError(rq.op, resp.StatusCode, resp.Header, answer, c.now())
		e.Attempts = attempts
		switch {
		case resp.StatusCode == http.StatusUnauthorized && rq.auth && !reauthed:
			// The token was revoked or expired early: fetch a new one, once.
			reauthed = true
			attempts--
			c.invalidate(tok)
			continue
		case resp.StatusCode == http.StatusUnauthorized && rq.auth:
			e.kind = kindAuth
			return nil, resp.StatusCode, e
		case e.kind == kindRateLimited:
			rateWaits++
			attempts--
			wait := e.RetryAfter
			if wait <= 0 {
				wait = c.backoff(rateWaits)
			} else {
				// Honour Retry-After, plus a little jitter so that callers
				// turned away together do not come back together.
				wait += time.Duration(rand.Int64N(int64(c.retry.BaseDelay) + 1))
			}
			if rateWaits > c.retry.MaxRateLimitWaits || wait > c.retry.MaxRetryAfter {
				return nil, resp.StatusCode, e
			}
			if err := c.sleep(ctx, wait); err != nil {
				return nil, 0, err
			}
			continue
		case e.kind == kindTransient:
			if attempts >= c.retry.MaxAttempts {
				return nil, resp.StatusCode, e
			}
			if err := c.sleep(ctx, c.backoff(attempts)); err != nil {
				return nil, 0, err
			}
			continue
		default:
			return nil, resp.StatusCode, e
		}
	}
}

// backoff returns the wait before retry n (1-based).
func (c *Client) backoff(n int) time.Duration {
	return backoff.Policy{Base: c.retry.BaseDelay, Max: c.retry.MaxDelay}.Delay(n)
}
