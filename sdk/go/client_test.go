package izin_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	izin "github.com/izinhq/izin/sdk/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	mCheck  = "/izin.v1.ConsentService/CheckConsent"
	mStart  = "/izin.v1.VerificationService/StartVerification"
	mSubmit = "/izin.v1.VerificationService/SubmitCode"
	mReject = "/izin.v1.ConsentService/RejectConsent"
	mRecord = "/izin.v1.ConsentService/RecordConsent"
	mList   = "/izin.v1.AdminService/ListMessages"
)

// failFirst fails the first n calls of method with err.
func failFirst(method string, n int, err error) func(string, int) error {
	return func(m string, call int) error {
		if m == method && call <= n {
			return err
		}
		return nil
	}
}

func TestRetryUnavailableThenSuccess(t *testing.T) {
	f := newFake()
	f.fail = failFirst(mCheck, 2, status.Error(codes.Unavailable, "try again"))
	c := f.client(t)
	res, err := c.Check(t.Context(), "05321234567")
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.GetRecipient() != "+905321234567" {
		t.Errorf("recipient %q", res.GetRecipient())
	}
	if n := f.callCount(mCheck); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	f := newFake()
	f.fail = failFirst(mCheck, 100, status.Error(codes.Unavailable, "down"))
	c := f.client(t, izin.WithRetry(4, time.Millisecond, 2*time.Millisecond))
	_, err := c.Check(t.Context(), "05321234567")
	if izin.Code(err) != codes.Unavailable {
		t.Fatalf("err %v, want UNAVAILABLE", err)
	}
	if n := f.callCount(mCheck); n != 4 {
		t.Errorf("%d calls, want 4", n)
	}
}

func TestRetryDisabled(t *testing.T) {
	f := newFake()
	f.fail = failFirst(mCheck, 1, status.Error(codes.Unavailable, "down"))
	c := f.client(t, izin.WithRetry(1, time.Millisecond, time.Millisecond))
	if _, err := c.Check(t.Context(), "05321234567"); izin.Code(err) != codes.Unavailable {
		t.Fatalf("err %v, want UNAVAILABLE", err)
	}
	if n := f.callCount(mCheck); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestRetryResourceExhaustedHonorsRetryInfo(t *testing.T) {
	const delay = 300 * time.Millisecond
	f := newFake()
	f.fail = failFirst(mCheck, 1, rateLimited(delay))
	c := f.client(t) // backoff of 1-5ms: only RetryInfo explains a longer wait
	start := time.Now()
	if _, err := c.Check(t.Context(), "05321234567"); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("retried after %v, before the RetryInfo delay %v", took, delay)
	}
	if n := f.callCount(mCheck); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestRetryInfoBeyondDeadlineFailsAtOnce(t *testing.T) {
	f := newFake()
	f.fail = failFirst(mCheck, 1, rateLimited(time.Minute))
	c := f.client(t, izin.WithTimeout(2*time.Second))
	start := time.Now()
	_, err := c.Check(t.Context(), "05321234567")
	e, ok := izin.AsError(err)
	if !ok || e.Code != codes.ResourceExhausted || e.RetryAfter != time.Minute || !izin.IsRateLimited(err) {
		t.Fatalf("err %#v, want RESOURCE_EXHAUSTED, rate limited, retry after 1m", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("waited %v for a retry that could not fit the deadline", took)
	}
	if n := f.callCount(mCheck); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestResourceExhaustedWithoutRetryInfoIsFinal(t *testing.T) {
	f := newFake()
	f.fail = failFirst(mCheck, 1, status.Error(codes.ResourceExhausted, "message too large"))
	c := f.client(t)
	if _, err := c.Check(t.Context(), "05321234567"); izin.Code(err) != codes.ResourceExhausted {
		t.Fatalf("err %v", err)
	}
	if n := f.callCount(mCheck); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestNonIdempotentCallsAreNeverRetried(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "down")
	for _, tc := range []struct {
		name, method string
		call         func(context.Context, *izin.Client) error
	}{
		{"SubmitCode", mSubmit, func(ctx context.Context, c *izin.Client) error {
			_, err := c.SubmitCode(ctx, "00000000-0000-4000-8000-000000000001", "123456")
			return err
		}},
		{"SubmitCode raw", mSubmit, func(ctx context.Context, c *izin.Client) error {
			_, err := c.Verification().SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: "00000000-0000-4000-8000-000000000001", Code: "123456"})
			return err
		}},
		{"StartSMSVerification without key", mStart, func(ctx context.Context, c *izin.Client) error {
			_, err := c.StartSMSVerification(ctx, "05321234567", izin.SMS)
			return err
		}},
		{"RecordConsent without key", mRecord, func(ctx context.Context, c *izin.Client) error {
			_, err := c.Record(ctx, &izinv1.RecordConsentRequest{Recipient: "05321234567", Types: []izinv1.ConsentType{izin.SMS}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.fail = failFirst(tc.method, 1, unavailable)
			c := f.client(t)
			if err := tc.call(t.Context(), c); izin.Code(err) != codes.Unavailable {
				t.Fatalf("err %v, want UNAVAILABLE", err)
			}
			if n := f.callCount(tc.method); n != 1 {
				t.Errorf("%d calls, want 1", n)
			}
		})
	}
}

// TestDeclaredIdempotentWritesAreRetried: RejectConsent is declared
// IDEMPOTENT in the proto (a repeat leaves the state REJECTED), so it is
// retried like a read.
func TestDeclaredIdempotentWritesAreRetried(t *testing.T) {
	f := newFake()
	f.fail = failFirst(mReject, 1, status.Error(codes.Unavailable, "down"))
	c := f.client(t)
	if _, err := c.Reject(t.Context(), "05321234567", izin.SMS); err != nil {
		t.Fatalf("Reject: %v", err)
	}
	if n := f.callCount(mReject); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestWritesWithIdempotencyKeyAreRetried(t *testing.T) {
	f := newFake()
	unavailable := status.Error(codes.Unavailable, "down")
	f.fail = func(m string, n int) error {
		if (m == mStart || m == mRecord) && n == 1 {
			return unavailable
		}
		return nil
	}
	c := f.client(t)
	resp, err := c.Verification().StartVerification(t.Context(), &izinv1.StartVerificationRequest{
		Recipient: "05321234567", Types: []izinv1.ConsentType{izin.SMS},
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE, IdempotencyKey: "order-42",
	})
	if err != nil || resp.GetVerification().GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_PENDING {
		t.Fatalf("StartVerification: %v %v", resp, err)
	}
	if _, err := c.Record(t.Context(), &izinv1.RecordConsentRequest{Recipient: "05321234567", Types: []izinv1.ConsentType{izin.Call}, IdempotencyKey: "form-7"}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	if a, b := f.callCount(mStart), f.callCount(mRecord); a != 2 || b != 2 {
		t.Errorf("calls: start %d, record %d; want 2 each", a, b)
	}
}

func TestOtherCodesAreNotRetried(t *testing.T) {
	f := newFake()
	c := f.client(t)
	_, err := c.Check(t.Context(), "12ab")
	if !izin.IsInvalidArgument(err) {
		t.Fatalf("err %v", err)
	}
	if n := f.callCount(mCheck); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestAPIKeyAndDeadline(t *testing.T) {
	f := newFake()
	c := f.client(t, izin.WithTimeout(5*time.Second))
	if _, err := c.Check(t.Context(), "05321234567"); err != nil {
		t.Fatal(err)
	}
	// A per-call key in the outgoing metadata wins over WithAPIKey.
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer other")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := c.Check(ctx, "05321234567"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.auth[0] != "Bearer izin_test" || f.auth[1] != "Bearer other" {
		t.Errorf("authorization headers %q", f.auth)
	}
	if d := f.deadlines[0]; d <= 4*time.Second || d > 5*time.Second {
		t.Errorf("default deadline %v, want about 5s", d)
	}
	if d := f.deadlines[1]; d <= 50*time.Second {
		t.Errorf("the context's deadline was replaced: %v", d)
	}
}

func TestNoTimeout(t *testing.T) {
	f := newFake()
	c := f.client(t, izin.WithTimeout(0))
	if _, err := c.Check(t.Context(), "05321234567"); err != nil {
		t.Fatal(err)
	}
	if d := f.deadlines[0]; d != 0 {
		t.Errorf("deadline %v, want none", d)
	}
}

func TestOptionConflicts(t *testing.T) {
	if _, err := izin.NewClient("localhost:1", izin.WithInsecure(), izin.WithTLSConfig(&tls.Config{})); err == nil {
		t.Error("WithInsecure with WithTLSConfig: no error")
	}
	if _, err := izin.NewClient("localhost:1", izin.WithTimeout(-time.Second)); err == nil {
		t.Error("negative timeout: no error")
	}
}

func TestLandingPagePassesThroughUnimplemented(t *testing.T) {
	f := newFake()
	c := f.client(t)
	_, err := c.StartLandingPageVerification(t.Context(), "05321234567", izin.SMS)
	if izin.Code(err) != codes.Unimplemented {
		t.Fatalf("err %v, want UNIMPLEMENTED", err)
	}
}

// selfSigned returns a TLS certificate for "izin.test" and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "izin.test"}, DNSNames: []string{"izin.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func TestTLSIsTheDefault(t *testing.T) {
	cert, pool := selfSigned(t)
	f := newFake()
	dial, stop := f.serve(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	defer stop()
	check := func(opts ...izin.Option) error {
		c, err := izin.NewClient("passthrough:///izin.test", append(opts, izin.WithDialOptions(dial), izin.WithRetry(1, time.Millisecond, time.Millisecond), izin.WithTimeout(5*time.Second))...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Check(t.Context(), "05321234567")
		return err
	}

	// Default: TLS with the system roots, which do not trust the test CA.
	err := check()
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("default options: err %v, want a certificate error (TLS with system roots)", err)
	}
	// With the test CA trusted, TLS works.
	if err := check(izin.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})); err != nil {
		t.Errorf("WithTLSConfig: %v", err)
	}
	// Plaintext cannot talk to a TLS server.
	if err := check(izin.WithInsecure()); err == nil {
		t.Error("WithInsecure against a TLS server: no error")
	}
}

func TestRawClientsGetTypedErrors(t *testing.T) {
	f := newFake()
	c := f.client(t)
	_, err := c.Verification().GetVerification(t.Context(), &izinv1.GetVerificationRequest{Id: "00000000-0000-4000-8000-000000000009"})
	var e *izin.Error
	if !errors.As(err, &e) || e.Code != codes.NotFound || !izin.IsNotFound(err) {
		t.Fatalf("err %T %v, want *izin.Error NOT_FOUND", err, err)
	}
	if status.Code(err) != codes.NotFound {
		t.Errorf("status.Code(err) = %v", status.Code(err))
	}
}
