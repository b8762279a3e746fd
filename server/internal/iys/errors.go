package iys

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a request İYS did not carry out: a refusal with İYS's code, or a
// failure (network, 5xx) that outlasted the retries.
type Error struct {
	Op         string   // client method, e.g. "AddConsent"
	HTTPStatus int      // 0 when no answer came (network error)
	Code       string   // İYS's code, e.g. "H175"; OAuth error name for the token endpoint
	Message    string   // İYS's message (Turkish), kept as is
	Location   []string // the offending field, e.g. ["consentDate"] or ["retailerAccess", "0"]
	Value      string   // the offending value, when İYS names it
	Index      int      // position in a bulk request, or -1
	// Details holds every error of the answer; the fields above are the first.
	Details []ErrorDetail
	// RetryAfter is what İYS asked to wait, on 429.
	RetryAfter time.Duration
	// Attempts is how many times the request was sent. A refusal after more
	// than one attempt may follow an attempt that İYS carried out although
	// its answer was lost (for example H174 after a 5xx on the same upload);
	// reconcile with ConsentStatus in that case.
	Attempts int

	kind kind
	err  error // underlying transport error, if any
}

// ErrorDetail is one entry of İYS's errors list.
type ErrorDetail struct {
	Code     string
	Message  string
	Location []string
	Value    string
	Index    int // position in a bulk request, or -1
}

type kind int

const (
	kindOther       kind = iota
	kindRule             // refused for a rule or malformed data: do not retry
	kindTransient        // network, 5xx, İYS busy: retry later
	kindRateLimited      // 429 / H124: retry after the given delay
	kindAuth             // credentials or permissions: fix configuration
	kindNotFound         // unknown request id or record
)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("iys: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Code != "" {
		b.WriteString(e.Code)
		b.WriteString(" ")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "(HTTP %d) ", e.HTTPStatus)
	}
	b.WriteString(e.Cause())
	if len(e.Location) > 0 {
		fmt.Fprintf(&b, " [at %s]", strings.Join(e.Location, "."))
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, " [item %d]", e.Index)
	}
	if e.Message != "" && e.err == nil {
		fmt.Fprintf(&b, " (İYS: %s)", e.Message)
	}
	if len(e.Details) > 1 {
		fmt.Fprintf(&b, " (+%d more)", len(e.Details)-1)
	}
	return b.String()
}

// Unwrap returns the transport error behind a network failure.
func (e *Error) Unwrap() error { return e.err }

// Cause is a short English explanation of the error.
func (e *Error) Cause() string {
	if c, ok := causes[e.Code]; ok {
		return c.text
	}
	switch {
	case e.err != nil:
		return "no answer from İYS: " + e.err.Error()
	case e.kind == kindAuth && e.HTTPStatus == http.StatusBadRequest:
		return "İYS refused the credentials or refresh token"
	case e.HTTPStatus == http.StatusUnauthorized:
		return "missing, invalid or expired token"
	case e.HTTPStatus == http.StatusForbidden:
		return "this account may not act for that İYS code or brand"
	case e.HTTPStatus == http.StatusNotFound:
		return "not found at İYS"
	case e.HTTPStatus == http.StatusTooManyRequests:
		return "too many requests; İYS asks to slow down"
	case e.HTTPStatus >= 500:
		return "İYS failed to process the request; try again later"
	case e.HTTPStatus == http.StatusUnprocessableEntity || e.HTTPStatus == http.StatusBadRequest:
		return "İYS refused the request"
	}
	return "unexpected answer from İYS"
}

// IsRuleViolation reports whether İYS refused the request for a rule or for
// malformed data (H175 first record RET, H174 same status again, H178 older
// date, H467 more than 3 business days old, a malformed recipient...).
// Sending the same data again will be refused again: do not retry, keep the
// reason (errors.As to *Error for Code and Message).
func IsRuleViolation(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.kind == kindRule
}

// IsTransient reports whether the failure may pass if the request is sent
// again later: a network error, a 5xx, İYS busy, or a rate limit.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.kind == kindTransient || e.kind == kindRateLimited)
}

// IsRateLimited reports whether İYS answered 429 (H124) and the client gave
// up waiting; RetryAfter on the *Error says how long İYS asked to wait.
func IsRateLimited(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.kind == kindRateLimited
}

// IsAuth reports whether the failure is about credentials or permissions
// (401 after a fresh token, 403, a refused grant): a configuration problem.
func IsAuth(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.kind == kindAuth
}

// IsNotFound reports whether İYS does not know the request id or record.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.kind == kindNotFound
}

func classify(status int, code string) kind {
	if c, ok := causes[code]; ok && c.kind != kindOther {
		return c.kind
	}
	switch {
	case status == http.StatusTooManyRequests:
		return kindRateLimited
	case status >= 500 || status == http.StatusRequestTimeout:
		return kindTransient
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return kindAuth
	case status == http.StatusNotFound:
		return kindNotFound
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity || status == http.StatusConflict:
		return kindRule
	}
	return kindOther
}

// parseError builds the *Error for a non-2xx answer.
func parseError(op string, status int, h http.Header, body []byte, now time.Time) *Error {
	e := &Error{Op: op, HTTPStatus: status, Index: -1}
	var wb wireErrorBody
	if json.Unmarshal(body, &wb) == nil && len(wb.Errors) > 0 {
		for _, w := range wb.Errors {
			e.Details = append(e.Details, w.detail())
		}
		first := e.Details[0]
		e.Code, e.Message, e.Location, e.Value, e.Index = first.Code, first.Message, first.Location, first.Value, first.Index
	} else if len(body) > 0 {
		var oe wireOAuthError
		if json.Unmarshal(body, &oe) == nil && oe.Error != "" {
			e.Code, e.Message = oe.Error, oe.ErrorDescription
		} else {
			e.Message = truncate(strings.TrimSpace(string(body)), 300)
		}
	}
	e.kind = classify(status, e.Code)
	if e.kind == kindRateLimited {
		e.RetryAfter = parseRetryAfter(h.Get("Retry-After"), now)
	}
	return e
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
