package grpcserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/izinhq/izin/server/internal/errs"
)

func withRetry(c codes.Code, d time.Duration) error {
	st, err := status.New(c, "wait").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

func TestErrorHandlerRetryAfter(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		header string // "" for none
	}{
		{name: "a domain rate limit", err: toStatus(context.Background(), log, "m", errs.RateLimited(90*time.Second, "slow down")).Err(),
			code: 429, header: "90"},
		{name: "rounded up", err: withRetry(codes.ResourceExhausted, 1200*time.Millisecond), code: 429, header: "2"},
		{name: "at least one second", err: withRetry(codes.ResourceExhausted, 300*time.Millisecond), code: 429, header: "1"},
		{name: "a 429 without RetryInfo", err: status.Error(codes.ResourceExhausted, "too big"), code: 429, header: "1"},
		{name: "unavailable with RetryInfo", err: withRetry(codes.Unavailable, 5*time.Second), code: 503, header: "5"},
		{name: "unavailable without", err: status.Error(codes.Unavailable, "down"), code: 503},
		{name: "not a retry", err: status.Error(codes.InvalidArgument, "bad"), code: 400},
		{name: "a routing error", err: &runtime.HTTPStatusError{HTTPStatus: 405, Err: status.Error(codes.Unimplemented, "no")}, code: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			errorHandler(context.Background(), runtime.NewServeMux(), &runtime.JSONPb{}, w,
				httptest.NewRequest(http.MethodPost, "/v1/verifications", nil), tc.err)
			if w.Code != tc.code {
				t.Errorf("status %d, want %d", w.Code, tc.code)
			}
			if got := w.Header().Get("Retry-After"); got != tc.header {
				t.Errorf("Retry-After %q, want %q", got, tc.header)
			}
		})
	}
}
