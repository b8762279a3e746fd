package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
)

// TestRESTMalformedBodies sends JSON that no typed client would: each is a
// 400 with a google.rpc.Status body, never a 500.
func TestRESTMalformedBodies(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteEngine)
	tn := s.newTenant(t, "REST bodies")
	c := s.client(restTransport, tn.AdminKey).(*restClient)
	for _, tc := range []struct {
		name, path, body string
		field            string
	}{
		{name: "not JSON", path: "/v1/consents:check", body: `{"recipient":`},
		{name: "unknown field", path: "/v1/consents:check", body: `{"recipient":"05321234567","recipeint":"x"}`},
		{name: "wrong type", path: "/v1/consents:check", body: `{"recipient":5321234567}`},
		{name: "types not a list", path: "/v1/verifications", body: `{"recipient":"05321234567","types":"CONSENT_TYPE_SMS",` +
			`"method":"VERIFICATION_METHOD_SMS_CODE"}`},
		{name: "unknown enum number", path: "/v1/verifications", body: `{"recipient":"05321234567","types":[99],` +
			`"method":"VERIFICATION_METHOD_SMS_CODE"}`, field: "types[0]"},
		{name: "empty body", path: "/v1/verifications", body: `{}`, field: "types"},
		{name: "too long recipient", path: "/v1/consents:check", body: `{"recipient":"` + strings.Repeat("9", 400) + `"}`, field: "recipient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.postRaw(testCtx(t), tc.path, tc.body, &izinv1.StartVerificationResponse{})
			expectError(t, restTransport, err, want{code: codes.InvalidArgument, http: 400, field: tc.field})
		})
	}
	// Nothing was sent by any of them.
	msgs := must(c.ListMessages(testCtx(t), &izinv1.ListMessagesRequest{}))(t)
	if n := len(msgs.GetMessages()); n != 0 {
		t.Errorf("malformed requests queued %d SMS", n)
	}
}

// TestProbes checks what operators and tools reach without a key: the
// health endpoints of both ports and the OpenAPI document.
func TestProbes(t *testing.T) {
	t.Parallel()
	s := startServer(t, sqliteEngine)
	ctx := testCtx(t)
	hc := &http.Client{Timeout: 10 * time.Second}
	for path, wantBody := range map[string]string{"/healthz": "SERVING", "/openapi.json": "/v1/consents:check"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTPAddr+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), wantBody) {
			t.Errorf("GET %s: %d %.200s; want 200 with %q", path, resp.StatusCode, body, wantBody)
		}
	}
	res, err := healthpb.NewHealthClient(s.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health: %v, %v; want SERVING", res.GetStatus(), err)
	}
	// An unknown REST path is a 404, not a 500.
	err = s.client(restTransport, "").(*restClient).do(ctx, http.MethodGet, "/v1/nothing-here", nil, &izinv1.CheckConsentResponse{})
	expectError(t, restTransport, err, want{code: codes.NotFound, http: 404})
}
