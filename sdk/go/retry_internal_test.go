package izin

import (
	"context"
	"errors"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestBackoffIsExponentialWithJitterAndCapped(t *testing.T) {
	p := retryPolicy{maxAttempts: 10, initialBackoff: 100 * time.Millisecond, maxBackoff: time.Second}
	for n, base := range map[int]time.Duration{1: 100, 2: 200, 3: 400, 4: 800, 5: 1000, 9: 1000} {
		base *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.backoff(n)
			if d < base/2 || d > base {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, base/2, base)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) has little jitter: %d distinct values", n, len(seen))
		}
	}
}

func TestWaitPolicy(t *testing.T) {
	p := retryPolicy{maxAttempts: 3, initialBackoff: time.Millisecond, maxBackoff: time.Millisecond}
	if d, ok := p.wait(1, status.Error(codes.Unavailable, "")); !ok || d > time.Millisecond {
		t.Errorf("UNAVAILABLE: %v %v", d, ok)
	}
	if _, ok := p.wait(1, status.Error(codes.ResourceExhausted, "")); ok {
		t.Error("RESOURCE_EXHAUSTED without RetryInfo is retried")
	}
	for _, c := range []codes.Code{codes.InvalidArgument, codes.Internal, codes.DeadlineExceeded, codes.Unauthenticated, codes.FailedPrecondition} {
		if _, ok := p.wait(1, status.Error(c, "")); ok {
			t.Errorf("%v is retried", c)
		}
	}
	if _, ok := p.wait(1, errors.New("plain")); ok {
		t.Error("a plain error is retried")
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	p := retryPolicy{maxAttempts: 5, initialBackoff: time.Hour, maxBackoff: time.Hour}
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	err := p.do(ctx, 5, func() error { calls++; return status.Error(codes.Unavailable, "down") })
	if calls != 1 || status.Code(err) != codes.Unavailable {
		t.Errorf("calls %d err %v", calls, err)
	}
}

func TestIdempotentMethods(t *testing.T) {
	withKey := &izinv1.StartVerificationRequest{IdempotencyKey: "k"}
	for _, tc := range []struct {
		method string
		req    any
		want   bool
	}{
		{izinv1.ConsentService_CheckConsent_FullMethodName, &izinv1.CheckConsentRequest{}, true},
		{izinv1.ConsentService_BatchCheckConsents_FullMethodName, &izinv1.BatchCheckConsentsRequest{}, true},
		{izinv1.ConsentService_ListConsentEvents_FullMethodName, &izinv1.ListConsentEventsRequest{}, true},
		{izinv1.VerificationService_GetVerification_FullMethodName, &izinv1.GetVerificationRequest{}, true},
		{izinv1.AdminService_ListMessages_FullMethodName, &izinv1.ListMessagesRequest{}, true},
		{izinv1.AdminService_ListApiKeys_FullMethodName, &izinv1.ListApiKeysRequest{}, true},
		{izinv1.VerificationService_StartVerification_FullMethodName, withKey, true},
		{izinv1.VerificationService_StartVerification_FullMethodName, &izinv1.StartVerificationRequest{}, false},
		{izinv1.ConsentService_RecordConsent_FullMethodName, &izinv1.RecordConsentRequest{IdempotencyKey: "k"}, true},
		{izinv1.ConsentService_RecordConsent_FullMethodName, &izinv1.RecordConsentRequest{}, false},
		{izinv1.VerificationService_SubmitCode_FullMethodName, &izinv1.SubmitCodeRequest{}, false},
		{izinv1.VerificationService_ResendCode_FullMethodName, &izinv1.ResendCodeRequest{}, false},
		{izinv1.VerificationService_CancelVerification_FullMethodName, &izinv1.CancelVerificationRequest{}, false},
		{izinv1.ConsentService_RejectConsent_FullMethodName, &izinv1.RejectConsentRequest{}, false},
		{izinv1.AdminService_CreateApiKey_FullMethodName, &izinv1.CreateApiKeyRequest{}, false},
		{izinv1.AdminService_RevokeApiKey_FullMethodName, &izinv1.RevokeApiKeyRequest{}, false},
	} {
		if got := idempotent(tc.method, tc.req); got != tc.want {
			t.Errorf("idempotent(%s, %T) = %v, want %v", tc.method, tc.req, got, tc.want)
		}
	}
}
