package izin

import (
	"context"
	"errors"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
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

// idempotentCases are the retry decisions, as the proto declares them
// (idempotency_level, or an idempotency_key in the request). Every izin
// method has at least one case (TestEveryMethodHasARetryCase).
var idempotentCases = []struct {
	method string
	req    any
	want   bool
}{
	{izinv1.ConsentService_CheckConsent_FullMethodName, &izinv1.CheckConsentRequest{}, true},
	{izinv1.ConsentService_BatchCheckConsents_FullMethodName, &izinv1.BatchCheckConsentsRequest{}, true},
	{izinv1.ConsentService_ListConsentEvents_FullMethodName, &izinv1.ListConsentEventsRequest{}, true},
	{izinv1.ConsentService_WatchConsentEvents_FullMethodName, &izinv1.WatchConsentEventsRequest{}, true},
	{izinv1.VerificationService_GetVerification_FullMethodName, &izinv1.GetVerificationRequest{}, true},
	{izinv1.AdminService_ListMessages_FullMethodName, &izinv1.ListMessagesRequest{}, true},
	{izinv1.AdminService_ListApiKeys_FullMethodName, &izinv1.ListApiKeysRequest{}, true},
	{izinv1.VerificationService_StartVerification_FullMethodName, &izinv1.StartVerificationRequest{IdempotencyKey: "k"}, true},
	{izinv1.VerificationService_StartVerification_FullMethodName, &izinv1.StartVerificationRequest{}, false},
	{izinv1.ConsentService_RecordConsent_FullMethodName, &izinv1.RecordConsentRequest{IdempotencyKey: "k"}, true},
	{izinv1.ConsentService_RecordConsent_FullMethodName, &izinv1.RecordConsentRequest{}, false},
	{izinv1.VerificationService_SubmitCode_FullMethodName, &izinv1.SubmitCodeRequest{}, false},
	{izinv1.VerificationService_ResendCode_FullMethodName, &izinv1.ResendCodeRequest{}, false},
	{izinv1.VerificationService_CancelVerification_FullMethodName, &izinv1.CancelVerificationRequest{}, false},
	{izinv1.ConsentService_RejectConsent_FullMethodName, &izinv1.RejectConsentRequest{}, true},
	{izinv1.AdminService_CreateApiKey_FullMethodName, &izinv1.CreateApiKeyRequest{}, false},
	{izinv1.AdminService_RevokeApiKey_FullMethodName, &izinv1.RevokeApiKeyRequest{}, false},
	{izinv1.ConsentService_StreamCheckConsents_FullMethodName, &izinv1.StreamCheckConsentsRequest{}, true},
	{izinv1.ConsentService_ImportConsents_FullMethodName, &izinv1.ImportConsentsRequest{}, false},
	{izinv1.AdminService_CreateBrand_FullMethodName, &izinv1.CreateBrandRequest{}, false},
	{izinv1.AdminService_ListBrands_FullMethodName, &izinv1.ListBrandsRequest{}, true},
	{izinv1.AdminService_CreateSource_FullMethodName, &izinv1.CreateSourceRequest{}, false},
	{izinv1.AdminService_ListSources_FullMethodName, &izinv1.ListSourcesRequest{}, true},
	{izinv1.AdminService_SetIysConfig_FullMethodName, &izinv1.SetIysConfigRequest{}, true},
	{izinv1.AdminService_GetIysStatus_FullMethodName, &izinv1.GetIysStatusRequest{}, true},
	{izinv1.AdminService_ListIysUploads_FullMethodName, &izinv1.ListIysUploadsRequest{}, true},
	{izinv1.AdminService_CreateConsentText_FullMethodName, &izinv1.CreateConsentTextRequest{}, false},
	{izinv1.AdminService_ListConsentTexts_FullMethodName, &izinv1.ListConsentTextsRequest{}, true},
	{izinv1.AdminService_GetConsentText_FullMethodName, &izinv1.GetConsentTextRequest{}, true},
	{izinv1.AdminService_CreateWebhook_FullMethodName, &izinv1.CreateWebhookRequest{}, false},
	{izinv1.AdminService_ListWebhooks_FullMethodName, &izinv1.ListWebhooksRequest{}, true},
	{izinv1.AdminService_DeleteWebhook_FullMethodName, &izinv1.DeleteWebhookRequest{}, true},
	{izinv1.AdminService_RotateWebhookSecret_FullMethodName, &izinv1.RotateWebhookSecretRequest{}, false},
	{izinv1.AdminService_ListWebhookDeliveries_FullMethodName, &izinv1.ListWebhookDeliveriesRequest{}, true},
	{izinv1.AdminService_ReplayWebhookDeliveries_FullMethodName, &izinv1.ReplayWebhookDeliveriesRequest{}, false},
	{izinv1.AdminService_SetSmsConfig_FullMethodName, &izinv1.SetSmsConfigRequest{}, true},
	{izinv1.AdminService_GetSmsStatus_FullMethodName, &izinv1.GetSmsStatusRequest{}, true},
	{izinv1.AdminService_SendTestSms_FullMethodName, &izinv1.SendTestSmsRequest{}, false},
	{izinv1.AdminService_ListInboundMessages_FullMethodName, &izinv1.ListInboundMessagesRequest{}, true},
}

func TestIdempotentMethods(t *testing.T) {
	for _, tc := range idempotentCases {
		if got := idempotent(tc.method, tc.req); got != tc.want {
			t.Errorf("idempotent(%s, %T) = %v, want %v", tc.method, tc.req, got, tc.want)
		}
	}
}

// TestEveryMethodHasARetryCase checks idempotentCases against the proto
// descriptors: every method of the izin.v1 services has a case, and a case
// without an idempotency key expects what the method's idempotency_level
// declares.
func TestEveryMethodHasARetryCase(t *testing.T) {
	cases := map[string][]bool{}
	for _, tc := range idempotentCases {
		keyed := false
		if k, ok := tc.req.(interface{ GetIdempotencyKey() string }); ok {
			keyed = k.GetIdempotencyKey() != ""
		}
		if !keyed {
			cases[tc.method] = append(cases[tc.method], tc.want)
		}
	}
	for _, f := range []protoreflect.FileDescriptor{
		izinv1.File_izin_v1_consent_service_proto,
		izinv1.File_izin_v1_verification_service_proto,
		izinv1.File_izin_v1_admin_service_proto,
	} {
		for i := range f.Services().Len() {
			svc := f.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				full := "/" + string(svc.FullName()) + "/" + string(m.Name())
				level := m.Options().(*descriptorpb.MethodOptions).GetIdempotencyLevel()
				declared := level == descriptorpb.MethodOptions_NO_SIDE_EFFECTS || level == descriptorpb.MethodOptions_IDEMPOTENT
				wants, ok := cases[full]
				if !ok {
					t.Errorf("%s (idempotency_level %s) has no case without a key in idempotentCases", full, level)
				}
				for _, w := range wants {
					if w != declared {
						t.Errorf("%s: case expects retry %v, the proto declares %s", full, w, level)
					}
				}
			}
		}
	}
}
