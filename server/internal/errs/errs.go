// Package errs holds the domain errors of izin. Domain code returns these;
// the gRPC layer turns them into status codes in one place, so a rule is
// written once and reported the same way over gRPC and REST.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the class of a domain error; each maps to one gRPC code.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindAlreadyExists
	KindFailedPrecondition
	KindResourceExhausted
	KindUnauthenticated
	KindPermissionDenied
	KindUnavailable
	KindUnimplemented
)

// Reason names the izin.v1.ErrorReason without its prefix, e.g. "INVALID_CODE".
type Reason string

const (
	ReasonInvalidCode          Reason = "INVALID_CODE"
	ReasonVerificationExpired  Reason = "VERIFICATION_EXPIRED"
	ReasonTooManyAttempts      Reason = "TOO_MANY_ATTEMPTS"
	ReasonVerificationClosed   Reason = "VERIFICATION_CLOSED"
	ReasonRateLimited          Reason = "RATE_LIMITED"
	ReasonFirstRecordRejected  Reason = "FIRST_RECORD_REJECTED"
	ReasonInvalidConsentTime   Reason = "INVALID_CONSENT_TIME"
	ReasonIdempotencyKeyReused Reason = "IDEMPOTENCY_KEY_REUSED"
	ReasonScopeMissing         Reason = "SCOPE_MISSING"
	ReasonInvalidAPIKey        Reason = "INVALID_API_KEY"
	ReasonRecipientMismatch    Reason = "RECIPIENT_MISMATCH"
	ReasonConsentTextMissing   Reason = "CONSENT_TEXT_MISSING"
	ReasonPageNotSubmitted     Reason = "PAGE_NOT_SUBMITTED"
)

// Error is a domain error with what a client needs to act on it.
type Error struct {
	Kind    Kind
	Reason  Reason
	Message string
	// Field is the request field at fault, in proto path form ("recipient").
	Field string
	// Metadata goes to google.rpc.ErrorInfo, e.g. attempts_left.
	Metadata map[string]string
	// RetryAfter, when set, goes to google.rpc.RetryInfo.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// WithReason sets the reason and returns e, for chaining.
func (e *Error) WithReason(r Reason) *Error { e.Reason = r; return e }

// With adds a metadata pair and returns e.
func (e *Error) With(k, v string) *Error {
	if e.Metadata == nil {
		e.Metadata = map[string]string{}
	}
	e.Metadata[k] = v
	return e
}

func newf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a bad value in a request field.
func Invalid(field, format string, args ...any) *Error {
	e := newf(KindInvalid, format, args...)
	e.Field = field
	return e
}

func NotFound(format string, args ...any) *Error { return newf(KindNotFound, format, args...) }
func AlreadyExists(format string, args ...any) *Error {
	return newf(KindAlreadyExists, format, args...)
}
func FailedPrecondition(r Reason, format string, args ...any) *Error {
	return newf(KindFailedPrecondition, format, args...).WithReason(r)
}
func Unauthenticated(format string, args ...any) *Error {
	return newf(KindUnauthenticated, format, args...).WithReason(ReasonInvalidAPIKey)
}
func PermissionDenied(format string, args ...any) *Error {
	return newf(KindPermissionDenied, format, args...)
}
func Unimplemented(format string, args ...any) *Error {
	return newf(KindUnimplemented, format, args...)
}

// RateLimited reports a limit that clears after retryAfter.
func RateLimited(retryAfter time.Duration, format string, args ...any) *Error {
	e := newf(KindResourceExhausted, format, args...).WithReason(ReasonRateLimited)
	e.RetryAfter = retryAfter
	return e
}

// Internal wraps an unexpected error; its text is logged, not shown.
func Internal(err error, format string, args ...any) *Error {
	e := newf(KindInternal, format, args...)
	e.Err = err
	return e
}

// Wrap keeps a domain error as it is and turns anything else into an
// internal error about what, so store failures never reach clients raw.
func Wrap(err error, what string) error {
	if _, ok := As(err); ok {
		return err
	}
	return Internal(err, "%s", what)
}

// As returns the domain error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
