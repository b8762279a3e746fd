package grpcserver

import (
	"context"
	"errors"
	"log/slog"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/izinhq/izin/server/internal/errs"
)

// ErrorDomain is google.rpc.ErrorInfo.domain for izin's reasons.
const ErrorDomain = "izin.dev"

var kindCodes = map[errs.Kind]codes.Code{
	errs.KindInternal:           codes.Internal,
	errs.KindInvalid:            codes.InvalidArgument,
	errs.KindNotFound:           codes.NotFound,
	errs.KindAlreadyExists:      codes.AlreadyExists,
	errs.KindFailedPrecondition: codes.FailedPrecondition,
	errs.KindResourceExhausted:  codes.ResourceExhausted,
	errs.KindUnauthenticated:    codes.Unauthenticated,
	errs.KindPermissionDenied:   codes.PermissionDenied,
	errs.KindUnavailable:        codes.Unavailable,
	errs.KindUnimplemented:      codes.Unimplemented,
}

// toStatus is the one place where errors become gRPC statuses. Domain
// errors keep their message, field and reason; anything else is logged and
// answered as a bare internal error, so no internals leak to clients.
func toStatus(ctx context.Context, log *slog.Logger, method string, err error) *status.Status {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return st // already a status (e.g. from grpc itself)
	}
	var verr *protovalidate.ValidationError
	if errors.As(err, &verr) {
		return validationStatus(verr)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded")
	}
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.KindInternal {
		log.ErrorContext(ctx, "internal error", "method", method, "err", err)
		return status.New(codes.Internal, "internal error; the server log has details")
	}
	st := status.New(kindCodes[e.Kind], e.Error())
	var details []detail
	if e.Field != "" {
		details = append(details, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: e.Field, Description: e.Message},
		}})
	}
	if e.Reason != "" {
		details = append(details, &errdetails.ErrorInfo{Reason: "ERROR_REASON_" + string(e.Reason), Domain: ErrorDomain, Metadata: e.Metadata})
	}
	if e.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	return withDetails(st, details)
}

func validationStatus(verr *protovalidate.ValidationError) *status.Status {
	br := &errdetails.BadRequest{}
	for _, v := range verr.Violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field:       protovalidate.FieldPathString(v.Proto.GetField()),
			Description: v.Proto.GetMessage(),
			Reason:      v.Proto.GetRuleId(),
		})
	}
	return withDetails(status.New(codes.InvalidArgument, verr.Error()), []detail{br})
}

type detail = protoadapt.MessageV1

func withDetails(st *status.Status, details []detail) *status.Status {
	if len(details) == 0 {
		return st
	}
	if d, err := st.WithDetails(details...); err == nil {
		return d
	}
	return st
}
