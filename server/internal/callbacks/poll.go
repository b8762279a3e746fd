package callbacks

import (
	"context"
	"log/slog"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store"
)

// PollStore is what the inbound poller reads and writes.
type PollStore interface {
	EnabledSMSConfigs(ctx context.Context) ([]store.SMSConfig, error)
	SetInboundPolled(ctx context.Context, brandID string, at time.Time) error
}

// Poller reads inbound SMS from providers that are asked for them (an
// sms.InboundLister), for brands whose provider does not push them, and to
// catch up after the push route was down. A message read twice (by two
// replicas, or pushed and polled) is kept once.
type Poller struct {
	store   PollStore
	router  *smsconfig.Router
	consent *consent.Service
	replier consent.Replier
	log     *slog.Logger
	now     func() time.Time
	Poll    time.Duration
	// Overlap is read again each time, so that a message the provider
	// files late is not missed; FirstLook is how far back a brand's first
	// poll reads.
	Overlap, FirstLook time.Duration
	// Woken, if set, is called after a poll queued an answer.
	Woken func()
}

// NewPoller returns an inbound poller.
func NewPoller(s PollStore, r *smsconfig.Router, c *consent.Service, replier consent.Replier, log *slog.Logger) *Poller {
	return &Poller{store: s, router: r, consent: c, replier: replier, log: log, now: time.Now, Poll: 30 * time.Second,
		Overlap: 10 * time.Minute, FirstLook: time.Hour}
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(p.Poll)
	defer t.Stop()
	for {
		if err := p.RunOnce(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("callbacks: poll inbound SMS", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce polls every enabled brand whose provider is asked, once.
func (p *Poller) RunOnce(ctx context.Context) error {
	configs, err := p.store.EnabledSMSConfigs(ctx)
	if err != nil {
		return err
	}
	received := 0
	for i := range configs {
		n, err := p.pollBrand(ctx, &configs[i])
		if err != nil {
			// One provider down must not stop the others.
			p.log.Warn("callbacks: poll a brand's inbound SMS", "brand_id", configs[i].BrandID, "err", err)
		}
		received += n
	}
	if received > 0 && p.Woken != nil {
		p.Woken()
	}
	return nil
}

func (p *Poller) pollBrand(ctx context.Context, c *store.SMSConfig) (int, error) {
	route, err := p.router.Route(ctx, c.TenantID, c.BrandID)
	if err != nil {
		return 0, err
	}
	lister, ok := route.Provider.(sms.InboundLister)
	if !ok {
		return 0, nil
	}
	now := p.now().UTC()
	since := now.Add(-p.FirstLook)
	if c.InboundPolledAt != nil {
		since = c.InboundPolledAt.Add(-p.Overlap)
	}
	msgs, err := lister.ListInbound(ctx, since, now)
	if err != nil {
		return 0, err
	}
	types := store.SplitTypes(c.RejectTypes)
	for _, m := range msgs {
		if _, err := p.consent.ReceiveSMS(ctx, p.replier, consent.InboundSMS{TenantID: c.TenantID, BrandID: c.BrandID,
			Provider: c.Provider, Message: m, Types: types, OptinKeyword: c.OptinKeyword}); err != nil {
			return 0, err // not marked polled: read again next time
		}
	}
	return len(msgs), p.store.SetInboundPolled(ctx, c.BrandID, now)
}
