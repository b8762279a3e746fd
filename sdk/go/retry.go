package izin

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	// The izin.v1 descriptors, whose methods declare their idempotency.
	_ "github.com/izinhq/izin/gen/go/izin/v1"
)

// idempotent reports whether a call may be sent again after a failure: its
// method declares idempotency_level NO_SIDE_EFFECTS or IDEMPOTENT in the
// proto, or its request carries an idempotency_key, with which the server
// replays the first answer. SubmitCode, ResendCode, CancelVerification and
// the other writes never are.
func idempotent(method string, req any) bool {
	if declaredIdempotent(method) {
		return true
	}
	k, ok := req.(interface{ GetIdempotencyKey() string })
	return ok && k.GetIdempotencyKey() != ""
}

// declaredIdempotent reads the idempotency_level of a gRPC full method name
// ("/izin.v1.ConsentService/CheckConsent") from its descriptor.
func declaredIdempotent(method string) bool {
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", "."))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return false
	}
	m, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return false
	}
	opts, _ := m.Options().(*descriptorpb.MethodOptions)
	switch opts.GetIdempotencyLevel() {
	case descriptorpb.MethodOptions_NO_SIDE_EFFECTS, descriptorpb.MethodOptions_IDEMPOTENT:
		return true
	}
	return false
}

type retryPolicy struct {
	maxAttempts    int
	initialBackoff time.Duration
	maxBackoff     time.Duration
}

// backoff is the wait after the n-th failed attempt (n >= 1): exponential
// from initialBackoff, capped at maxBackoff, with "equal jitter" (half
// fixed, half random) so that clients failing together spread out.
func (p retryPolicy) backoff(n int) time.Duration {
	b := p.initialBackoff
	for i := 1; i < n && b < p.maxBackoff; i++ {
		b *= 2
	}
	b = min(b, p.maxBackoff)
	half := b / 2
	return half + rand.N(half+1)
}

// wait returns how long to wait before retrying after err, and false when
// err is not worth retrying: UNAVAILABLE is retried after the backoff,
// RESOURCE_EXHAUSTED only when the server said when (google.rpc.RetryInfo),
// after that delay plus up to a tenth of it as jitter. Other codes, such as
// RESOURCE_EXHAUSTED for an oversized message, are final.
func (p retryPolicy) wait(n int, err error) (time.Duration, bool) {
	st, ok := status.FromError(err)
	if !ok {
		return 0, false
	}
	delay := fromStatus(st).RetryAfter
	switch st.Code() {
	case codes.Unavailable:
		return max(p.backoff(n), delay), true
	case codes.ResourceExhausted:
		if delay <= 0 {
			return 0, false
		}
		return delay + rand.N(delay/10+1), true
	}
	return 0, false
}

// do runs call up to attempts times. It does not wait past ctx's deadline:
// when the next wait would end after it, the last error is returned at once.
func (p retryPolicy) do(ctx context.Context, attempts int, call func() error) error {
	for n := 1; ; n++ {
		err := call()
		if err == nil || n >= attempts {
			return err
		}
		d, ok := p.wait(n, err)
		if !ok {
			return err
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) <= d {
			return err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
