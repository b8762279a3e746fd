package izin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of izin's error reasons.
const ErrorDomain = "izin.dev"

// Violation is one violated request field (google.rpc.BadRequest).
type Violation struct {
	// Field is the field path, e.g. "recipient" or "checks[3].recipient".
	Field       string
	Description string
	// Reason is the validation rule id, when the server gave one.
	Reason string
}

// Error is an error answered by the izin server, decoded from the gRPC
// status and its google.rpc details. Every error the Client's methods (and
// the raw clients from Consent, Verification and Admin) return for a failed
// unary call is an *Error; use AsError to get at it.
type Error struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the status message.
	Message string
	// Field is the first violated field (google.rpc.BadRequest), if any.
	Field string
	// Violations are all violated fields (google.rpc.BadRequest).
	Violations []Violation
	// Reason is google.rpc.ErrorInfo.reason, e.g. "ERROR_REASON_INVALID_CODE".
	Reason string
	// Domain is google.rpc.ErrorInfo.domain ("izin.dev" for izin's reasons).
	Domain string
	// Metadata is google.rpc.ErrorInfo.metadata, e.g. {"attempts_left": "2"}.
	Metadata map[string]string
	// RetryAfter is google.rpc.RetryInfo.retry_delay: how long to wait
	// before trying again (RESOURCE_EXHAUSTED); zero when not given.
	RetryAfter time.Duration

	status *status.Status
}

// Error formats the code, message and, when present, the reason and field.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("izin: ")
	b.WriteString(codeName(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	var extra []string
	if e.Reason != "" {
		extra = append(extra, "reason "+e.Reason)
	}
	if e.Field != "" && !strings.Contains(e.Message, e.Field) {
		extra = append(extra, "field "+e.Field)
	}
	if e.RetryAfter > 0 {
		extra = append(extra, "retry after "+e.RetryAfter.String())
	}
	if len(extra) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(extra, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// GRPCStatus returns the status the error was decoded from, so that
// status.FromError and status.Code keep working on an *Error.
func (e *Error) GRPCStatus() *status.Status {
	if e.status != nil {
		return e.status
	}
	return status.New(e.Code, e.Message)
}

// Is lets errors.Is match an *Error whose code is DEADLINE_EXCEEDED or
// CANCELLED against context.DeadlineExceeded or context.Canceled, and match
// another *Error by code and, when the target has one, by reason.
func (e *Error) Is(target error) bool {
	switch target {
	case context.DeadlineExceeded:
		return e.Code == codes.DeadlineExceeded
	case context.Canceled:
		return e.Code == codes.Canceled
	}
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason)
}

// ErrorReason returns Reason as the generated enum (ERROR_REASON_UNSPECIFIED
// when there is none or it is unknown to this SDK).
func (e *Error) ErrorReason() izinv1.ErrorReason {
	return izinv1.ErrorReason(izinv1.ErrorReason_value[e.Reason])
}

// AsError returns the *Error in err's chain, or decodes one from a gRPC
// status error (any error with a GRPCStatus method, such as those of a raw
// stream). It returns false for nil and for errors that carry no status.
func AsError(err error) (*Error, bool) {
	if err == nil {
		return nil, false
	}
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return nil, false
	}
	st := se.GRPCStatus()
	if st == nil || st.Code() == codes.OK {
		return nil, false
	}
	return fromStatus(st), true
}

// StatusError decodes a google.rpc.Status carried in a message, such as
// CheckConsentItem.error or StreamCheckConsentsResponse.error. It returns
// nil (an untyped nil error) when s is nil or OK.
func StatusError(s *spb.Status) error {
	if s == nil || codes.Code(s.GetCode()) == codes.OK {
		return nil
	}
	return fromStatus(status.FromProto(s))
}

// toError turns a gRPC error into an *Error; other errors pass unchanged.
func toError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := AsError(err); ok {
		return e
	}
	return err
}

func fromStatus(st *status.Status) *Error {
	e := &Error{Code: st.Code(), Message: st.Message(), status: st}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.Violations = append(e.Violations, Violation{Field: v.GetField(), Description: v.GetDescription(), Reason: v.GetReason()})
			}
		case *errdetails.ErrorInfo:
			if e.Reason == "" {
				e.Reason, e.Domain, e.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
			}
		case *errdetails.RetryInfo:
			if d.GetRetryDelay() != nil && e.RetryAfter == 0 {
				e.RetryAfter = d.GetRetryDelay().AsDuration()
			}
		}
	}
	if len(e.Violations) > 0 {
		e.Field = e.Violations[0].Field
	}
	return e
}

// Code returns the gRPC code of err: OK for nil, Unknown for an error that
// carries no status.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if e, ok := AsError(err); ok {
		return e.Code
	}
	return codes.Unknown
}

// HasReason reports whether err is an izin error with the given reason.
func HasReason(err error, reason izinv1.ErrorReason) bool {
	e, ok := AsError(err)
	return ok && e.Reason == reason.String()
}

// IsInvalidCode reports whether SubmitCode refused a wrong code; the
// error's Metadata["attempts_left"] tells how many tries remain.
func IsInvalidCode(err error) bool {
	return HasReason(err, izinv1.ErrorReason_ERROR_REASON_INVALID_CODE)
}

// IsRateLimited reports whether a send or resend limit was hit; RetryAfter
// tells how long to wait.
func IsRateLimited(err error) bool {
	return HasReason(err, izinv1.ErrorReason_ERROR_REASON_RATE_LIMITED)
}

// IsInvalidArgument reports whether the request was invalid; Field and
// Violations name the fields.
func IsInvalidArgument(err error) bool { return Code(err) == codes.InvalidArgument }

// IsNotFound reports whether the resource (e.g. a verification) does not exist.
func IsNotFound(err error) bool { return Code(err) == codes.NotFound }

// IsUnauthenticated reports whether the API key was missing, unknown or revoked.
func IsUnauthenticated(err error) bool { return Code(err) == codes.Unauthenticated }

// IsPermissionDenied reports whether the API key lacks the needed scope.
func IsPermissionDenied(err error) bool { return Code(err) == codes.PermissionDenied }

// codeNames are the canonical upper-case names of the gRPC codes, as in
// the gRPC specification and the conformance scenario.
var codeNames = [...]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

// codeName returns the canonical upper-case name of c, e.g. "INVALID_ARGUMENT".
func codeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("CODE(%d)", uint32(c))
}

// CodeName returns the canonical upper-case name of a gRPC code, e.g.
// "INVALID_ARGUMENT" (codes.Code's String gives "InvalidArgument").
func CodeName(c codes.Code) string { return codeName(c) }
