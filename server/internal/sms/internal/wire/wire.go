// Package wire holds what the SMS provider clients share about HTTP: one
// round trip that tells a lost answer (sms.Unknown) from a request that
// never left (retryable), the shared-secret check for pushes that carry no
// signature, phone number spelling and Turkish time.
package wire

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
)

// DefaultTimeout bounds one provider request when the brand's config has no
// HTTP client. A send that times out after it was written is reported as
// sms.Unknown, so a short timeout costs a lookup, never a duplicate.
const DefaultTimeout = 15 * time.Second

// MaxBody caps what is read of a provider answer or a pushed callback.
const MaxBody = 1 << 20

// Client returns c, or a client with DefaultTimeout when c is nil.
func Client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// BaseURL returns base without a trailing slash, or def when base is empty.
func BaseURL(base, def string) string {
	base = strings.TrimSpace(base)
	if base == "" {
		base = def
	}
	return strings.TrimRight(base, "/")
}

// Do sends req and reads the whole answer. Errors are classified for the
// outbox worker: a failure before the request was fully written (refused
// connection, DNS) is plain and retryable; a failure after it was written
// (timeout, reset while reading the answer) is sms.Unknown, because the
// provider may have accepted the message. An HTTP status is not an error
// here; the caller reads the provider's own codes.
func Do(ctx context.Context, c *http.Client, req *http.Request) (status int, body []byte, err error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	resp, err := c.Do(req)
	if err != nil {
		if wrote.Load() {
			return 0, nil, sms.Unknown(fmt.Errorf("%s %s: answer lost: %w", req.Method, req.URL.Path, err))
		}
		return 0, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return resp.StatusCode, nil, sms.Unknown(fmt.Errorf("%s %s: reading answer: %w", req.Method, req.URL.Path, err))
	}
	return resp.StatusCode, body, nil
}

// Lost reports whether an HTTP status from a proxy in front of the
// provider means the request may have reached it (504: the upstream did not
// answer in time) rather than that it was refused.
func Lost(status int) bool { return status == http.StatusGatewayTimeout }

// CheckSecret authenticates a push that carries no signature: the brand's
// callback secret must come as the basic-auth password or as the "secret"
// query parameter. The comparison takes constant time. An empty configured
// secret refuses everything, so a brand without one cannot be spoofed.
func CheckSecret(r *http.Request, auth sms.CallbackAuth) error {
	if auth.Secret == "" {
		return fmt.Errorf("no callback secret configured: %w", sms.ErrUnauthenticated)
	}
	var got string
	if _, pw, ok := r.BasicAuth(); ok {
		got = pw
	} else {
		got = r.URL.Query().Get("secret")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(auth.Secret)) != 1 {
		return fmt.Errorf("wrong or missing callback secret: %w", sms.ErrUnauthenticated)
	}
	return nil
}

// ReadBody reads a pushed request's body, capped at MaxBody.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, errors.New("empty body")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody))
	if err != nil {
		return nil, fmt.Errorf("reading callback body: %w", err)
	}
	return b, nil
}

// Digits returns the decimal digits of s.
func Digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IsTurkish reports whether an E.164 number (+90...) is Turkish.
func IsTurkish(e164 string) bool { return strings.HasPrefix(strings.TrimSpace(e164), "+90") }

// Istanbul returns Turkish time, which the Turkish providers use for the
// dates in their answers. Turkey has kept UTC+3 all year since 2016, so a
// fixed zone is right when the host has no tzdata.
func Istanbul() *time.Location {
	if loc, err := time.LoadLocation("Europe/Istanbul"); err == nil {
		return loc
	}
	return time.FixedZone("+03", 3*60*60)
}

// ParseTime reads a provider's date in the first of layouts that fits,
// in Turkish time unless the text names its zone; zero if none fits.
func ParseTime(s string, layouts ...string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, Istanbul()); err == nil {
			return t
		}
	}
	return time.Time{}
}
