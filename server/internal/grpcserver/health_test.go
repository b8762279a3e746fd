package grpcserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/izinhq/izin/server/internal/readiness"
)

type probeFunc func(context.Context) error

func (f probeFunc) Probe(ctx context.Context) error { return f(ctx) }

// Each service's gRPC health follows the checks it needs.
func TestUpdateHealth(t *testing.T) {
	const consentSvc, verifySvc = "izin.v1.ConsentService", "izin.v1.VerificationService"
	scopes := map[string][]string{consentSvc: {readiness.Database}, verifySvc: {readiness.Database, "outbox"}}
	for _, tc := range []struct {
		name     string
		probeErr error
		stale    bool
		want     map[string]healthpb.HealthCheckResponse_ServingStatus
	}{
		{name: "all well", want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": healthpb.HealthCheckResponse_SERVING, consentSvc: healthpb.HealthCheckResponse_SERVING,
			verifySvc: healthpb.HealthCheckResponse_SERVING}},
		{name: "database down", probeErr: errors.New("down"), want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": healthpb.HealthCheckResponse_NOT_SERVING, consentSvc: healthpb.HealthCheckResponse_NOT_SERVING,
			verifySvc: healthpb.HealthCheckResponse_NOT_SERVING}},
		{name: "outbox stuck", stale: true, want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": healthpb.HealthCheckResponse_NOT_SERVING, consentSvc: healthpb.HealthCheckResponse_SERVING,
			verifySvc: healthpb.HealthCheckResponse_NOT_SERVING}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
			hb := readiness.NewHeartbeats(func() time.Time { return now })
			hb.Register("outbox", time.Minute)
			if tc.stale {
				now = now.Add(2 * time.Minute)
			}
			c := readiness.New(probeFunc(func(context.Context) error { return tc.probeErr }), hb,
				readiness.Options{Scopes: scopes, Now: func() time.Time { return now }})
			hs := health.NewServer()
			UpdateHealth(context.Background(), hs, c)
			for svc, want := range tc.want {
				res, err := hs.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
				if err != nil || res.GetStatus() != want {
					t.Errorf("health of %q = %v, %v; want %v", svc, res.GetStatus(), err, want)
				}
			}
		})
	}
}
