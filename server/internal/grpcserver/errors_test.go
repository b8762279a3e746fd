package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/errs"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// statusReason is the ErrorInfo reason of st, or "".
func statusReason(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// statusDetails is what a client reads from st's details.
type statusDetails struct {
	fields   []string
	reason   string
	domain   string
	metadata map[string]string
	retry    time.Duration
}

func detailsOf(st *status.Status) statusDetails {
	var d statusDetails
	for _, x := range st.Details() {
		switch x := x.(type) {
		case *errdetails.BadRequest:
			for _, v := range x.GetFieldViolations() {
				d.fields = append(d.fields, v.GetField())
			}
		case *errdetails.ErrorInfo:
			d.reason, d.domain, d.metadata = x.GetReason(), x.GetDomain(), x.GetMetadata()
		case *errdetails.RetryInfo:
			d.retry = x.GetRetryDelay().AsDuration()
		}
	}
	return d
}

// Every errs kind has a gRPC code: a kind without one would be answered as
// OK with an error message.
func TestEveryKindHasACode(t *testing.T) {
	kinds := errsConsts(t, "Kind")
	if len(kinds) != len(kindCodes) {
		t.Errorf("errs has %d kinds, kindCodes maps %d", len(kinds), len(kindCodes))
	}
	for k, c := range kindCodes {
		if c == codes.OK {
			t.Errorf("kind %d maps to OK", k)
		}
	}
}

// toStatus turns each kind of error into its code and the details a client
// acts on, and never shows an internal error's text.
func TestToStatus(t *testing.T) {
	verr := protovalidate.GlobalValidator.Validate(&izinv1.CheckConsentRequest{})
	for _, tc := range []struct {
		name    string
		err     error
		code    codes.Code
		msg     string // the message contains it
		hidden  string // the message must not contain it
		details statusDetails
	}{
		{name: "invalid", err: errs.Invalid("recipient", "not a phone number"), code: codes.InvalidArgument,
			msg: "recipient: not a phone number", details: statusDetails{fields: []string{"recipient"}}},
		{name: "not found", err: errs.NotFound("no such brand"), code: codes.NotFound, msg: "no such brand"},
		{name: "already exists", err: errs.AlreadyExists("brand exists"), code: codes.AlreadyExists},
		{name: "failed precondition", err: errs.FailedPrecondition(errs.ReasonInvalidCode, "wrong code").With("attempts_left", "2"),
			code: codes.FailedPrecondition, msg: "wrong code", details: statusDetails{reason: "ERROR_REASON_INVALID_CODE",
				domain: ErrorDomain, metadata: map[string]string{"attempts_left": "2"}}},
		{name: "rate limited", err: errs.RateLimited(3*time.Second, "slow down"), code: codes.ResourceExhausted,
			details: statusDetails{reason: "ERROR_REASON_RATE_LIMITED", domain: ErrorDomain, retry: 3 * time.Second}},
		{name: "unauthenticated", err: errs.Unauthenticated("bad key"), code: codes.Unauthenticated,
			details: statusDetails{reason: "ERROR_REASON_INVALID_API_KEY", domain: ErrorDomain}},
		{name: "permission denied", err: errs.PermissionDenied("no").WithReason(errs.ReasonScopeMissing),
			code: codes.PermissionDenied, details: statusDetails{reason: "ERROR_REASON_SCOPE_MISSING", domain: ErrorDomain}},
		{name: "unavailable", err: &errs.Error{Kind: errs.KindUnavailable, Message: "try later"}, code: codes.Unavailable},
		{name: "unimplemented", err: errs.Unimplemented("not yet"), code: codes.Unimplemented},
		{name: "wrapped domain error", err: fmt.Errorf("lookup: %w", errs.NotFound("gone")), code: codes.NotFound, msg: "gone"},
		{name: "internal", err: errs.Internal(errors.New("password=hunter2"), "db"), code: codes.Internal,
			msg: "internal error", hidden: "hunter2"},
		{name: "plain error", err: errors.New("password=hunter2"), code: codes.Internal, hidden: "hunter2"},
		{name: "cancelled", err: fmt.Errorf("read: %w", context.Canceled), code: codes.Canceled},
		{name: "deadline", err: context.DeadlineExceeded, code: codes.DeadlineExceeded},
		{name: "already a status", err: status.Error(codes.Aborted, "aborted"), code: codes.Aborted, msg: "aborted"},
		{name: "validation", err: verr, code: codes.InvalidArgument, details: statusDetails{fields: []string{"recipient"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := toStatus(t.Context(), discardLog(), "/test", tc.err)
			if st.Code() != tc.code {
				t.Fatalf("code %s, want %s (%v)", st.Code(), tc.code, st.Message())
			}
			if !strings.Contains(st.Message(), tc.msg) {
				t.Errorf("message %q, want it to contain %q", st.Message(), tc.msg)
			}
			if tc.hidden != "" && strings.Contains(st.Message(), tc.hidden) {
				t.Errorf("message %q leaks %q", st.Message(), tc.hidden)
			}
			got := detailsOf(st)
			if strings.Join(got.fields, ",") != strings.Join(tc.details.fields, ",") {
				t.Errorf("field violations %v, want %v", got.fields, tc.details.fields)
			}
			if got.reason != tc.details.reason || got.domain != tc.details.domain {
				t.Errorf("reason %q in %q, want %q in %q", got.reason, got.domain, tc.details.reason, tc.details.domain)
			}
			for k, v := range tc.details.metadata {
				if got.metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, got.metadata[k], v)
				}
			}
			if got.retry != tc.details.retry {
				t.Errorf("retry after %v, want %v", got.retry, tc.details.retry)
			}
		})
	}
	if st := toStatus(t.Context(), discardLog(), "/test", nil); st != nil {
		t.Errorf("no error gave status %v", st)
	}
}
