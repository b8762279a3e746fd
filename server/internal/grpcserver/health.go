package grpcserver

import (
	"context"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/izinhq/izin/server/internal/readiness"
)

// UpdateHealth sets the gRPC health status of every service the checker
// answers for ("" is the whole server) from one round of its checks.
func UpdateHealth(ctx context.Context, hs *health.Server, c *readiness.Checker) {
	for _, svc := range c.Services() {
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if rep, ok := c.Check(ctx, svc); ok && rep.Ready() {
			st = healthpb.HealthCheckResponse_SERVING
		}
		hs.SetServingStatus(svc, st)
	}
}

// WatchHealth updates the gRPC health statuses every interval until ctx
// ends. Health calls then read a status, never the database.
func WatchHealth(ctx context.Context, hs *health.Server, c *readiness.Checker, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			UpdateHealth(ctx, hs, c)
		}
	}
}
