package grpcserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// errorHandler answers errors as the gateway does, plus a Retry-After
// header taken from google.rpc.RetryInfo: HTTP clients and proxies honour
// the header, not the body's details. Every 429 carries one; a 503 carries
// one when the status says when to retry.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if code, secs := retryAfter(err); code == http.StatusTooManyRequests || (code == http.StatusServiceUnavailable && secs > 0) {
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// retryAfter is the HTTP status the gateway answers err with and the
// RetryInfo delay in whole seconds, rounded up (0 for none).
func retryAfter(err error) (httpStatus, secs int) {
	var he *runtime.HTTPStatusError
	if errors.As(err, &he) {
		return he.HTTPStatus, 0
	}
	st := status.Convert(err)
	httpStatus = runtime.HTTPStatusFromCode(st.Code())
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			delay := ri.GetRetryDelay().AsDuration()
			if delay > 0 {
				secs = max(secs, int((delay+time.Second-1)/time.Second))
			}
		}
	}
	return httpStatus, secs
}
