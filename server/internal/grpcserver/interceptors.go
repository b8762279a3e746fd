package grpcserver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// public methods need no key: health checks and reflection.
func public(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}

type interceptors struct {
	log       *slog.Logger
	auth      *auth.Authenticator
	validator protovalidate.Validator
	scopes    map[string]store.Scope // from the required_scope method option
}

// unary is the whole chain for unary calls: recover and map errors
// outermost, then authenticate, then validate, then the handler.
func (ic *interceptors) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	var resp any
	err := ic.guard(ctx, info.FullMethod, func(ctx context.Context) error {
		if m, ok := req.(proto.Message); ok {
			if err := ic.validator.Validate(m, validationOptions(info.FullMethod)...); err != nil {
				return err
			}
		}
		var err error
		resp, err = h(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// guard is what both chains share: it recovers a panic, authenticates, runs
// call with the caller's context, and logs and maps the outcome.
func (ic *interceptors) guard(ctx context.Context, method string, call func(ctx context.Context) error) (err error) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			err = errs.Internal(fmt.Errorf("panic: %v\n%s", r, debug.Stack()), "panic")
		}
		err = ic.finish(ctx, method, start, err)
	}()
	// ctx is replaced only on success: the deferred finish reads it, and
	// authenticate returns a nil context with its error.
	actx, err := ic.authenticate(ctx, method)
	if err != nil {
		return err
	}
	ctx = actx
	return call(ctx)
}

// itemRules names, per method, the item message whose rules the handler
// checks itself, one item at a time, so that a malformed item gets an error
// in its own answer instead of failing the whole request. The request's
// other rules (such as how many items it may hold) stay with the
// interceptor; a stream's handler validates each message with the same
// options.
var itemRules = map[string]protoreflect.FullName{
	batchCheckMethod:  checkItem,
	streamCheckMethod: checkItem,
}

const (
	batchCheckMethod  = "/izin.v1.ConsentService/BatchCheckConsents"
	streamCheckMethod = "/izin.v1.ConsentService/StreamCheckConsents"
)

// checkItem is the message a batch or stream check answers one by one.
var checkItem = (&izinv1.CheckConsentRequest{}).ProtoReflect().Descriptor().FullName()

// validationOptions leaves out the rules of method's item message, if it
// has one: the filter is asked about each message and about each field with
// its containing message, so refusing the item type skips exactly the
// item's own rules and keeps the list's.
func validationOptions(method string) []protovalidate.ValidationOption {
	item, ok := itemRules[method]
	if !ok {
		return nil
	}
	return []protovalidate.ValidationOption{protovalidate.WithFilter(protovalidate.FilterFunc(
		func(m protoreflect.Message, _ protoreflect.Descriptor) bool { return m.Descriptor().FullName() != item }))}
}

// stream authenticates the stream once; streaming handlers validate each
// message themselves, so one bad row gets its own error instead of ending a
// campaign-sized stream.
func (ic *interceptors) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return ic.guard(ss.Context(), info.FullMethod, func(ctx context.Context) error {
		return h(srv, &ctxStream{ServerStream: ss, ctx: ctx})
	})
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

func (ic *interceptors) finish(ctx context.Context, method string, start time.Time, err error) error {
	st := toStatus(ctx, ic.log, method, err)
	attrs := []any{"method", method, "code", st.Code().String(), "duration", time.Since(start)}
	if p, ok := auth.FromContext(ctx); ok {
		attrs = append(attrs, "tenant", p.TenantID)
	}
	if err == nil {
		ic.log.DebugContext(ctx, "rpc", attrs...)
		return nil
	}
	ic.log.InfoContext(ctx, "rpc", append(attrs, "error", st.Message())...)
	return st.Err()
}

func (ic *interceptors) authenticate(ctx context.Context, method string) (context.Context, error) {
	if public(method) {
		return ctx, nil
	}
	need, ok := ic.scopes[method]
	if !ok {
		return nil, errs.PermissionDenied("method %s has no access rule", method)
	}
	key := bearer(ctx)
	if key == "" {
		return nil, errs.Unauthenticated("missing API key; send Authorization: Bearer <key>")
	}
	p, err := ic.auth.Authenticate(ctx, key)
	if err != nil {
		return nil, err
	}
	if !p.Allows(need) {
		return nil, errs.PermissionDenied("this API key lacks the %s scope that %s needs", need, method).
			WithReason(errs.ReasonScopeMissing)
	}
	return auth.WithPrincipal(ctx, p), nil
}

func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		if tok, ok := strings.CutPrefix(v, "bearer "); ok {
			return strings.TrimSpace(tok)
		}
	}
	return ""
}

// principal returns the caller set by the auth interceptor.
func principal(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, errs.Unauthenticated("not authenticated")
	}
	return p, nil
}
