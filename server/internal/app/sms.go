package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/backoff"
	"github.com/izinhq/izin/server/internal/callbacks"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/seal"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/providers"
	"github.com/izinhq/izin/server/internal/smsconfig"
)

// routeTTL is how long a process trusts a brand's provider settings before
// it reads them again: a change made through another replica is in use
// within it.
const routeTTL = 5 * time.Second

// smsPurpose labels the key derived from the server secret for SMS
// credentials and callback secrets.
const smsPurpose = "izin sms-credentials v1"

// smsSealer seals SMS credentials under a key of their own.
func smsSealer(secret []byte) (*seal.Sealer, error) {
	s, err := seal.New(secret, smsPurpose)
	if err != nil {
		return nil, fmt.Errorf("SMS credentials: %w", err)
	}
	return s, nil
}

// wireSMS connects the outbox to the brands' providers: the router the
// worker and the report poller ask, the administration service and the
// provider callbacks.
func (a *App) wireSMS(secret []byte) error {
	sealer, err := smsSealer(secret)
	if err != nil {
		return err
	}
	factory := providers.New
	sandbox := a.Provider
	factoryWithSandbox := func(name string, cfg sms.Config) (sms.Provider, error) {
		if name == smsconfig.Sandbox {
			return sandbox, nil
		}
		return factory(name, cfg)
	}
	a.Router = smsconfig.NewRouter(a.Store, sealer, factoryWithSandbox, sandbox, a.queue.PublicURL, routeTTL)
	a.SMS = smsconfig.New(a.Store, a.Tenancy, sealer, a.queue.PublicURL, time.Now)
	a.SMS.SetTester(a.Store, a.queue)
	a.SMS.OnChange(a.Router.Forget)
	a.Worker = outbox.NewWorker(a.Store, a.Router, a.log)
	a.Reports = outbox.NewReports(a.Store, a.Router, a.log)
	if t := a.cfg.Outbox; t.Poll > 0 {
		a.Worker.Poll = t.Poll
	}
	if t := a.cfg.Outbox; t.RetryBase > 0 {
		a.Worker.Retry = backoff.Policy{Base: t.RetryBase, Max: 5 * t.RetryBase}
	}
	if t := a.cfg.Outbox; t.BreakerOpen > 0 {
		a.Worker.SetBreaker(5, backoff.Policy{Base: t.BreakerOpen, Max: 4 * t.BreakerOpen})
	}
	if t := a.cfg.Outbox; t.ReportAfter > 0 {
		a.Worker.ReportAfter = t.ReportAfter
		a.Reports.Spacing = backoff.Policy{Base: t.ReportAfter, Max: 4 * t.ReportAfter}
	}
	if t := a.cfg.Outbox; t.ReportPoll > 0 {
		a.Reports.Poll = t.ReportPoll
	}
	a.queue.SetWake(a.Worker.Wake)
	a.Callbacks = callbacks.New(a.Store, a.Router, a.Consent, a.queue, a.queue.PublicURL, a.log)
	a.Callbacks.Woken = a.Worker.Wake
	a.Inbound = callbacks.NewPoller(a.Store, a.Router, a.Consent, a.queue, a.log)
	a.Inbound.Woken = a.Worker.Wake
	if t := a.cfg.Outbox; t.InboundPoll > 0 {
		a.Inbound.Poll = t.InboundPoll
	}
	return nil
}

// runSMS starts the report and inbound pollers until ctx ends (the outbox worker is
// started with the server).
func (a *App) runSMS(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(2)
	go func() { defer wg.Done(); a.Reports.Run(ctx) }()
	go func() { defer wg.Done(); a.Inbound.Run(ctx) }()
}
