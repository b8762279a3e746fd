package app

import (
	"context"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/grpcserver"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/verify"
	"github.com/izinhq/izin/server/internal/webhook"
)

// webhookTimeout bounds one delivery's connect, TLS and answer.
const webhookTimeout = 15 * time.Second

// newWebhookService builds the webhook administration; the server and the
// CLI both come here, so they seal and check targets alike.
func newWebhookService(cfg Config, st *sqlstore.Store, secret []byte) (*webhook.Service, error) {
	sealer, err := webhook.NewSealer(secret)
	if err != nil {
		return nil, err
	}
	return webhook.NewService(st, sealer, cfg.WebhookAllowPrivate, time.Now), nil
}

// Webhooks is the webhook administration, sealing secrets with the
// server secret.
func (o *Ops) Webhooks() (*webhook.Service, error) {
	secret, err := LoadSecret(o.cfg)
	if err != nil {
		return nil, err
	}
	return newWebhookService(o.cfg, o.Store, secret)
}

// wireWebhooks builds the webhook service and its dispatcher.
func (a *App) wireWebhooks(secret []byte) error {
	svc, err := newWebhookService(a.cfg, a.Store, secret)
	if err != nil {
		return err
	}
	sealer, err := webhook.NewSealer(secret)
	if err != nil {
		return err
	}
	render := &grpcserver.WebhookRenderer{Verify: a.Verify, Brands: a.Tenancy, Subject: a.Store}
	a.Webhooks = svc
	a.Dispatcher = webhook.NewDispatcher(a.Store, render, sealer,
		webhook.NewClient(webhookTimeout, a.cfg.WebhookAllowPrivate), a.log, time.Now)
	a.Dispatcher.Lease = 2 * webhookTimeout
	if len(a.cfg.WebhookSchedule) > 0 {
		a.Dispatcher.Schedule = a.cfg.WebhookSchedule
	}
	if a.cfg.WebhookPoll > 0 {
		a.Dispatcher.Poll = a.cfg.WebhookPoll
	}
	svc.Wake = a.Dispatcher.Wake
	return nil
}

// runWebhooks starts the dispatcher and the sweeper that expires
// untouched verifications (and so notifies verification.expired).
func (a *App) runWebhooks(ctx context.Context, wg *sync.WaitGroup) {
	sweeper := verify.NewSweeper(a.Verify, a.log)
	wg.Add(2)
	go func() { defer wg.Done(); a.Dispatcher.Run(ctx) }()
	go func() { defer wg.Done(); sweeper.Run(ctx) }()
}
