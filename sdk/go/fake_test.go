package izin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	izin "github.com/izinhq/izin/sdk/go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fake is an in-process izin server on a bufconn listener: a small model
// of consents, SMS-code verifications and the sandbox outbox, plus hooks
// to make calls fail. The activation code is always fakeCode.
type fake struct {
	mu            sync.Mutex
	consents      map[string]map[izinv1.ConsentType]izinv1.ConsentStatus
	verifications map[string]*izinv1.Verification
	messages      []*izinv1.Message // oldest first
	calls         map[string]int    // full method -> calls, failed ones included
	batchSizes    []int
	auth          []string // authorization header of each call
	deadlines     []time.Duration
	// fail, when set, may fail the n-th call (from 1) of a method.
	fail func(method string, n int) error
	// streamFailAfter, when > 0, ends StreamCheckConsents with UNAVAILABLE
	// after that many answers.
	streamFailAfter int
	// streamEndAfter, when > 0, ends StreamCheckConsents without error
	// after that many answers, reading no more checks.
	streamEndAfter int
	// watch serves the n-th WatchConsentEvents call (from 1).
	watch func(ctx context.Context, n int, req *izinv1.WatchConsentEventsRequest, send func(*izinv1.WatchConsentEventsResponse) error) error
}

const fakeCode = "123456"

func newFake() *fake {
	return &fake{
		consents:      map[string]map[izinv1.ConsentType]izinv1.ConsentStatus{},
		verifications: map[string]*izinv1.Verification{},
		calls:         map[string]int{},
	}
}

// serve starts the fake and returns a dialer for WithDialOptions.
func (f *fake) serve(opts ...grpc.ServerOption) (dial grpc.DialOption, stop func()) {
	lis := bufconn.Listen(1 << 20)
	opts = append(opts, grpc.UnaryInterceptor(f.unary), grpc.StreamInterceptor(f.stream))
	s := grpc.NewServer(opts...)
	izinv1.RegisterConsentServiceServer(s, &fakeConsent{f: f})
	izinv1.RegisterVerificationServiceServer(s, &fakeVerification{f: f})
	izinv1.RegisterAdminServiceServer(s, &fakeAdmin{f: f})
	go s.Serve(lis) //nolint:errcheck // ends with Stop
	dial = grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })
	return dial, s.Stop
}

// client starts the fake and a plaintext client for it, with tiny backoffs.
func (f *fake) client(t testing.TB, opts ...izin.Option) *izin.Client {
	t.Helper()
	dial, stop := f.serve()
	opts = append([]izin.Option{izin.WithInsecure(), izin.WithAPIKey("izin_test"), izin.WithRetry(3, time.Millisecond, 5*time.Millisecond), izin.WithDialOptions(dial)}, opts...)
	c, err := izin.NewClient("passthrough:///bufnet", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); stop() })
	return c
}

func (f *fake) record(ctx context.Context, method string) (n int, hook func(string, int) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	md, _ := metadata.FromIncomingContext(ctx)
	f.auth = append(f.auth, strings.Join(md.Get("authorization"), ","))
	if dl, ok := ctx.Deadline(); ok {
		f.deadlines = append(f.deadlines, time.Until(dl))
	} else {
		f.deadlines = append(f.deadlines, 0)
	}
	return f.calls[method], f.fail
}

func (f *fake) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if n, fail := f.record(ctx, info.FullMethod); fail != nil {
		if err := fail(info.FullMethod, n); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

func (f *fake) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if n, fail := f.record(ss.Context(), info.FullMethod); fail != nil {
		if err := fail(info.FullMethod, n); err != nil {
			return err
		}
	}
	return handler(srv, ss)
}

func (f *fake) callCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// invalid builds an INVALID_ARGUMENT status naming field, as izin does.
func invalid(field, msg string, info *errdetails.ErrorInfo) *status.Status {
	details := []protoadapt.MessageV1{&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}}}}
	if info != nil {
		details = append(details, info)
	}
	st, err := status.New(codes.InvalidArgument, field+": "+msg).WithDetails(details...)
	if err != nil {
		panic(err)
	}
	return st
}

// rateLimited builds a RESOURCE_EXHAUSTED status with a RetryInfo delay.
func rateLimited(delay time.Duration) error {
	st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(
		&errdetails.ErrorInfo{Reason: "ERROR_REASON_RATE_LIMITED", Domain: izin.ErrorDomain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// normalize is a rough model of izin's recipient normal form.
func normalize(r string) (string, bool) {
	if strings.Contains(r, "@") {
		return strings.ToLower(strings.TrimSpace(r)), true
	}
	d := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(r)
	switch {
	case strings.HasPrefix(d, "+90"):
	case strings.HasPrefix(d, "90"):
		d = "+" + d
	case strings.HasPrefix(d, "0"):
		d = "+90" + d[1:]
	default:
		d = "+90" + d
	}
	if len(d) != 13 {
		return "", false
	}
	for _, ch := range d[1:] {
		if ch < '0' || ch > '9' {
			return "", false
		}
	}
	return d, true
}

var allTypes = []izinv1.ConsentType{izin.SMS, izin.Call, izin.Email}

func (f *fake) check(req *izinv1.CheckConsentRequest) (*izinv1.CheckConsentResponse, *status.Status) {
	rcpt, ok := normalize(req.GetRecipient())
	if !ok {
		return nil, invalid("recipient", "not a phone number or e-mail address", nil)
	}
	types := req.GetTypes()
	if len(types) == 0 {
		types = allTypes
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &izinv1.CheckConsentResponse{Recipient: rcpt, RecipientType: izinv1.RecipientType_RECIPIENT_TYPE_INDIVIDUAL, Brand: "ACME"}
	for _, t := range types {
		s := f.consents[rcpt][t]
		if s == izinv1.ConsentStatus_CONSENT_STATUS_UNSPECIFIED {
			s = izinv1.ConsentStatus_CONSENT_STATUS_NONE
		}
		resp.Results = append(resp.Results, &izinv1.ConsentResult{Type: t, Status: s, Allowed: s == izinv1.ConsentStatus_CONSENT_STATUS_GRANTED})
	}
	return resp, nil
}

func (f *fake) set(rcpt string, types []izinv1.ConsentType, s izinv1.ConsentStatus) []*izinv1.ConsentResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.consents[rcpt] == nil {
		f.consents[rcpt] = map[izinv1.ConsentType]izinv1.ConsentStatus{}
	}
	var res []*izinv1.ConsentResult
	for _, t := range types {
		f.consents[rcpt][t] = s
		res = append(res, &izinv1.ConsentResult{Type: t, Status: s, Allowed: s == izinv1.ConsentStatus_CONSENT_STATUS_GRANTED})
	}
	return res
}

type fakeConsent struct {
	izinv1.UnimplementedConsentServiceServer
	f *fake
}

func (s *fakeConsent) CheckConsent(_ context.Context, req *izinv1.CheckConsentRequest) (*izinv1.CheckConsentResponse, error) {
	resp, st := s.f.check(req)
	return resp, st.Err()
}

func (s *fakeConsent) BatchCheckConsents(_ context.Context, req *izinv1.BatchCheckConsentsRequest) (*izinv1.BatchCheckConsentsResponse, error) {
	if n := len(req.GetChecks()); n < 1 || n > 1000 {
		return nil, invalid("checks", fmt.Sprintf("must have 1 to 1000 items, not %d", n), nil).Err()
	}
	s.f.mu.Lock()
	s.f.batchSizes = append(s.f.batchSizes, len(req.GetChecks()))
	s.f.mu.Unlock()
	resp := &izinv1.BatchCheckConsentsResponse{}
	for _, c := range req.GetChecks() {
		r, st := s.f.check(c)
		resp.Items = append(resp.Items, &izinv1.CheckConsentItem{Result: r, Error: st.Proto()})
	}
	return resp, nil
}

func (s *fakeConsent) WatchConsentEvents(req *izinv1.WatchConsentEventsRequest, stream grpc.ServerStreamingServer[izinv1.WatchConsentEventsResponse]) error {
	n := s.f.callCount(izinv1.ConsentService_WatchConsentEvents_FullMethodName)
	return s.f.watch(stream.Context(), n, req, stream.Send)
}

func (s *fakeConsent) StreamCheckConsents(stream grpc.BidiStreamingServer[izinv1.StreamCheckConsentsRequest, izinv1.StreamCheckConsentsResponse]) error {
	for n := 0; ; n++ {
		req, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if s.f.streamFailAfter > 0 && n == s.f.streamFailAfter {
			return status.Error(codes.Unavailable, "server going away")
		}
		if s.f.streamEndAfter > 0 && n == s.f.streamEndAfter {
			return nil
		}
		r, st := s.f.check(req.GetCheck())
		if err := stream.Send(&izinv1.StreamCheckConsentsResponse{CorrelationId: req.GetCorrelationId(), Result: r, Error: st.Proto()}); err != nil {
			return err
		}
	}
}

func (s *fakeConsent) RejectConsent(_ context.Context, req *izinv1.RejectConsentRequest) (*izinv1.RejectConsentResponse, error) {
	rcpt, ok := normalize(req.GetRecipient())
	if !ok {
		return nil, invalid("recipient", "not a phone number or e-mail address", nil).Err()
	}
	types := req.GetTypes()
	if len(types) == 0 {
		types = allTypes
	}
	return &izinv1.RejectConsentResponse{Recipient: rcpt, Results: s.f.set(rcpt, types, izinv1.ConsentStatus_CONSENT_STATUS_REJECTED)}, nil
}

func (s *fakeConsent) RecordConsent(_ context.Context, req *izinv1.RecordConsentRequest) (*izinv1.RecordConsentResponse, error) {
	rcpt, ok := normalize(req.GetRecipient())
	if !ok {
		return nil, invalid("recipient", "not a phone number or e-mail address", nil).Err()
	}
	return &izinv1.RecordConsentResponse{Recipient: rcpt, Results: s.f.set(rcpt, req.GetTypes(), izinv1.ConsentStatus_CONSENT_STATUS_GRANTED)}, nil
}

type fakeVerification struct {
	izinv1.UnimplementedVerificationServiceServer
	f *fake
}

func (s *fakeVerification) StartVerification(_ context.Context, req *izinv1.StartVerificationRequest) (*izinv1.StartVerificationResponse, error) {
	if req.GetMethod() == izinv1.VerificationMethod_VERIFICATION_METHOD_LANDING_PAGE {
		return nil, status.Error(codes.Unimplemented, "the landing-page method is not available yet; use VERIFICATION_METHOD_SMS_CODE")
	}
	rcpt, ok := normalize(req.GetRecipient())
	if !ok {
		return nil, invalid("recipient", "not a mobile phone number", nil).Err()
	}
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.verifications) + 1
	v := &izinv1.Verification{
		Id: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Status: izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING,
		Method: req.GetMethod(), Recipient: rcpt, Types: req.GetTypes(), BrandCode: "ACME", AttemptsLeft: 3,
		ExpireTime: timestamppb.New(time.Date(2030, 1, 1, 0, 3, 0, 0, time.UTC)),
	}
	f.verifications[v.Id] = v
	f.messages = append(f.messages, &izinv1.Message{
		Id: fmt.Sprintf("msg-%d", len(f.messages)+1), Recipient: rcpt, Kind: izinv1.MessageKind_MESSAGE_KIND_ACTIVATION,
		Body:   fakeCode + " is your ACME consent code. MERSIS 0123456789012345. To reject: RET ACME to 3338.",
		Status: izinv1.MessageStatus_MESSAGE_STATUS_SENT, VerificationId: v.Id,
	})
	return &izinv1.StartVerificationResponse{Verification: v}, nil
}

func (s *fakeVerification) GetVerification(_ context.Context, req *izinv1.GetVerificationRequest) (*izinv1.GetVerificationResponse, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	v, ok := s.f.verifications[req.GetId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "verification not found")
	}
	return &izinv1.GetVerificationResponse{Verification: v}, nil
}

func (s *fakeVerification) SubmitCode(_ context.Context, req *izinv1.SubmitCodeRequest) (*izinv1.SubmitCodeResponse, error) {
	f := s.f
	f.mu.Lock()
	v, ok := f.verifications[req.GetId()]
	if !ok {
		f.mu.Unlock()
		return nil, status.Error(codes.NotFound, "verification not found")
	}
	if v.Status != izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING {
		f.mu.Unlock()
		return nil, status.Error(codes.FailedPrecondition, "verification is not pending")
	}
	if req.GetCode() != fakeCode {
		v.AttemptsLeft--
		left := v.AttemptsLeft
		if left == 0 {
			v.Status = izinv1.VerificationStatus_VERIFICATION_STATUS_FAILED
		}
		f.mu.Unlock()
		return nil, invalid("code", "the code does not match", &errdetails.ErrorInfo{
			Reason: "ERROR_REASON_INVALID_CODE", Domain: izin.ErrorDomain, Metadata: map[string]string{"attempts_left": fmt.Sprint(left)},
		}).Err()
	}
	v.Status = izinv1.VerificationStatus_VERIFICATION_STATUS_VERIFIED
	f.mu.Unlock()
	return &izinv1.SubmitCodeResponse{Verification: v, Results: f.set(v.Recipient, v.Types, izinv1.ConsentStatus_CONSENT_STATUS_GRANTED)}, nil
}

type fakeAdmin struct {
	izinv1.UnimplementedAdminServiceServer
	f *fake
}

func (s *fakeAdmin) ListMessages(_ context.Context, req *izinv1.ListMessagesRequest) (*izinv1.ListMessagesResponse, error) {
	rcpt, _ := normalize(req.GetRecipient())
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	resp := &izinv1.ListMessagesResponse{}
	for i := len(s.f.messages) - 1; i >= 0; i-- {
		if m := s.f.messages[i]; req.GetRecipient() == "" || m.Recipient == rcpt {
			resp.Messages = append(resp.Messages, m)
		}
	}
	return resp, nil
}
