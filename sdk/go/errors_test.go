package izin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	izin "github.com/izinhq/izin/sdk/go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func detailedStatus(t *testing.T) *status.Status {
	t.Helper()
	st, err := status.New(codes.InvalidArgument, "code: the code does not match").WithDetails(
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "code", Description: "the code does not match"},
			{Field: "id", Description: "must be a UUID", Reason: "string.uuid"},
		}},
		&errdetails.ErrorInfo{Reason: "ERROR_REASON_INVALID_CODE", Domain: "izin.dev", Metadata: map[string]string{"attempts_left": "2"}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(90 * time.Second)},
	)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestErrorDecodesStatusDetails(t *testing.T) {
	st := detailedStatus(t)
	err := fmt.Errorf("wrapped: %w", st.Err())
	e, ok := izin.AsError(err)
	if !ok {
		t.Fatal("AsError: not an izin error")
	}
	if e.Code != codes.InvalidArgument || e.Message != "code: the code does not match" {
		t.Errorf("code %v message %q", e.Code, e.Message)
	}
	if e.Field != "code" || len(e.Violations) != 2 || e.Violations[1] != (izin.Violation{Field: "id", Description: "must be a UUID", Reason: "string.uuid"}) {
		t.Errorf("field %q violations %+v", e.Field, e.Violations)
	}
	if e.Reason != "ERROR_REASON_INVALID_CODE" || e.Domain != izin.ErrorDomain || e.Metadata["attempts_left"] != "2" {
		t.Errorf("reason %q domain %q metadata %v", e.Reason, e.Domain, e.Metadata)
	}
	if e.ErrorReason() != izinv1.ErrorReason_ERROR_REASON_INVALID_CODE {
		t.Errorf("ErrorReason %v", e.ErrorReason())
	}
	if e.RetryAfter != 90*time.Second {
		t.Errorf("RetryAfter %v", e.RetryAfter)
	}
	if !izin.IsInvalidCode(err) || !izin.IsInvalidArgument(err) || izin.IsRateLimited(err) || izin.IsNotFound(err) {
		t.Error("Is helpers disagree with the decoded error")
	}
	want := "izin: INVALID_ARGUMENT: code: the code does not match (reason ERROR_REASON_INVALID_CODE, retry after 1m30s)"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	// The status survives, details included.
	if got, ok := status.FromError(e); !ok || len(got.Details()) != 3 || got.Code() != codes.InvalidArgument {
		t.Errorf("status.FromError(e) = %v, %v", got, ok)
	}
}

func TestErrorWithoutDetails(t *testing.T) {
	e, ok := izin.AsError(status.Error(codes.Unauthenticated, "missing API key"))
	if !ok || e.Code != codes.Unauthenticated || e.Field != "" || e.Reason != "" || e.Metadata != nil || e.RetryAfter != 0 {
		t.Fatalf("%+v %v", e, ok)
	}
	if e.Error() != "izin: UNAUTHENTICATED: missing API key" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestAsErrorRejectsOtherErrors(t *testing.T) {
	for _, err := range []error{nil, io.EOF, errors.New("x"), status.Error(codes.OK, "")} {
		if e, ok := izin.AsError(err); ok || e != nil {
			t.Errorf("AsError(%v) = %v, %v", err, e, ok)
		}
	}
	if izin.Code(nil) != codes.OK || izin.Code(io.EOF) != codes.Unknown {
		t.Error("Code of nil or a plain error")
	}
}

func TestErrorsIs(t *testing.T) {
	dl, _ := izin.AsError(status.Error(codes.DeadlineExceeded, "deadline"))
	if !errors.Is(dl, context.DeadlineExceeded) || errors.Is(dl, context.Canceled) {
		t.Error("DEADLINE_EXCEEDED should match context.DeadlineExceeded only")
	}
	ic, _ := izin.AsError(detailedStatus(t).Err())
	if !errors.Is(ic, &izin.Error{Code: codes.InvalidArgument}) ||
		!errors.Is(ic, &izin.Error{Code: codes.InvalidArgument, Reason: "ERROR_REASON_INVALID_CODE"}) ||
		errors.Is(ic, &izin.Error{Code: codes.InvalidArgument, Reason: "ERROR_REASON_RATE_LIMITED"}) {
		t.Error("errors.Is by code and reason")
	}
}

func TestStatusError(t *testing.T) {
	if err := izin.StatusError(nil); err != nil {
		t.Errorf("StatusError(nil) = %v", err)
	}
	if err := izin.StatusError(status.New(codes.OK, "").Proto()); err != nil {
		t.Errorf("StatusError(OK) = %v", err)
	}
	err := izin.StatusError(detailedStatus(t).Proto())
	if e, ok := izin.AsError(err); !ok || e.Field != "code" || e.Metadata["attempts_left"] != "2" {
		t.Errorf("StatusError = %v", err)
	}
}

func TestCodeName(t *testing.T) {
	for c, want := range map[codes.Code]string{codes.InvalidArgument: "INVALID_ARGUMENT", codes.Canceled: "CANCELLED", codes.Unauthenticated: "UNAUTHENTICATED", codes.Code(99): "CODE(99)"} {
		if got := izin.CodeName(c); got != want {
			t.Errorf("CodeName(%d) = %q, want %q", c, got, want)
		}
	}
}

func TestWrongCodeOverTheWire(t *testing.T) {
	f := newFake()
	c := f.client(t)
	v, err := c.StartSMSVerification(t.Context(), "05321234567", izin.SMS, izin.Call)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SubmitCode(t.Context(), v.GetId(), "654321")
	var e *izin.Error
	if !errors.As(err, &e) || e.Field != "code" || e.Reason != "ERROR_REASON_INVALID_CODE" || e.Metadata["attempts_left"] != "2" {
		t.Fatalf("err %#v", err)
	}
}
