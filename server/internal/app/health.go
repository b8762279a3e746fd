package app

import (
	"time"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/readiness"
)

// The workers' readiness checks.
const (
	checkOutbox   = "outbox"
	checkIYS      = "iys"
	checkWebhooks = "webhooks"
)

// healthEvery is how often the gRPC health statuses are recomputed.
const healthEvery = 2 * time.Second

// iysMargin is what a healthy İYS run may take beyond its interval: İYS's
// client waits out rate limits (up to 2 minutes, several times a call)
// within a run.
const iysMargin = 30 * time.Minute

// newReadiness registers the heartbeats of the workers Serve is about to
// start (a worker that is off is not watched) and returns the checker of
// the database and of those workers. Call it before the workers start.
func (a *App) newReadiness() *readiness.Checker {
	hb := readiness.NewHeartbeats(nil)
	// The outbox beats per claim and per send; a send is bounded by half
	// its lease, so three polls and a lease are plenty.
	a.Worker.Heartbeat = hb.Register(checkOutbox, 3*a.Worker.Poll+a.Worker.Lease+15*time.Second)
	if !a.cfg.IYS.Off && a.IYSWorker != nil {
		interval := a.cfg.IYS.Interval
		if interval <= 0 {
			interval = DefaultIYSConfig().Interval
		}
		a.IYSWorker.SetHeartbeat(hb.Register(checkIYS, 3*interval+iysMargin))
	}
	// The dispatcher beats per claim and per send; a send is bounded by
	// half its lease.
	a.Dispatcher.Heartbeat = hb.Register(checkWebhooks, 3*a.Dispatcher.Poll+a.Dispatcher.Lease+15*time.Second)
	db := []string{readiness.Database}
	return readiness.New(a.Store, hb, readiness.Options{
		Log: a.log,
		// The whole server ("") needs every check. Verifications need the
		// outbox: a code that is not sent cannot be submitted. Consents and
		// admin calls only need the database; İYS uploads may lag by days.
		Scopes: map[string][]string{
			izinv1.ConsentService_ServiceDesc.ServiceName:      db,
			izinv1.VerificationService_ServiceDesc.ServiceName: {readiness.Database, checkOutbox},
			izinv1.AdminService_ServiceDesc.ServiceName:        db,
		},
	})
}
