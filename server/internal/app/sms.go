package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/callbacks"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/smsconfig"
)

// routeTTL is how long a process trusts a brand's provider settings before
// it reads them again: a change made through another replica is in use
// within it.
const routeTTL = 5 * time.Second

// smsSealer seals SMS credentials. It shares the İYS credentials key; the
// smsconfig package binds each value to "sms:" and the brand, so neither
// kind of value opens as the other.
func smsSealer(secret []byte) (*iyssync.Sealer, error) {
	s, err := iyssync.NewSealer(secret)
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
	factory := func(name string, _ sms.Config) (sms.Provider, error) {
		return nil, fmt.Errorf("SMS provider %q is not built in", name)
	}
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
	a.queue.SetWake(a.Worker.Wake)
	a.Reports = outbox.NewReports(a.Store, a.Router, a.log)
	a.Callbacks = callbacks.New(a.Store, a.Router, a.Consent, a.queue, a.queue.PublicURL, a.log)
	a.Callbacks.Woken = a.Worker.Wake
	return nil
}

// runSMS starts the report poller until ctx ends (the outbox worker is
// started with the server).
func (a *App) runSMS(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() { defer wg.Done(); a.Reports.Run(ctx) }()
}
