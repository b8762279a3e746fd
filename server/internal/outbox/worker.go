package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/backoff"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store"
)

// Store is what the worker needs.
type Store interface {
	ClaimMessages(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Message, error)
	FinishMessage(ctx context.Context, m *store.Message) error
	RecordSMSOutcome(ctx context.Context, brandID string, at time.Time, errText string) error
	ProviderMessageIDs(ctx context.Context, tenantID, recipient string, since time.Time) ([]string, error)
}

// Router tells which provider sends a brand's messages.
type Router interface {
	Route(ctx context.Context, tenantID, brandID string) (*smsconfig.Route, error)
}

// StaticRouter sends every message through one provider, to Türkiye only.
type StaticRouter struct{ Provider sms.Provider }

// Route returns the one route.
func (r StaticRouter) Route(context.Context, string, string) (*smsconfig.Route, error) {
	return &smsconfig.Route{Key: r.Provider.Name(), Name: r.Provider.Name(), Provider: r.Provider,
		Countries: smsconfig.DefaultCountries}, nil
}

// Worker delivers queued messages through their brands' providers.
type Worker struct {
	store   Store
	router  Router
	log     *slog.Logger
	now     func() time.Time
	breaker *breaker

	Lease       time.Duration // how long a claimed message is ours
	Poll        time.Duration // how often to look when not woken
	MaxAttempts int
	Batch       int
	// ReportAfter is when to first ask a provider that is asked (a
	// sms.Reporter) for a sent message's delivery report.
	ReportAfter time.Duration
	// Heartbeat, if set, is called whenever the worker has made progress
	// (a claim, a send), so that readiness can tell a stuck worker.
	Heartbeat func()
	// Retry spaces the retries of a failed send.
	Retry backoff.Policy

	wake chan struct{}

	outcomeMu sync.Mutex
	outcomeAt map[string]time.Time // brand → last success recorded
}

// NewWorker returns a worker with sensible defaults.
func NewWorker(s Store, r Router, log *slog.Logger) *Worker {
	return &Worker{store: s, router: r, log: log, now: time.Now, Lease: 30 * time.Second,
		breaker: newBreaker(5, backoff.Policy{Base: 15 * time.Second, Max: 5 * time.Minute}),
		Poll:    time.Second, MaxAttempts: 10, Batch: 50, ReportAfter: time.Minute, Retry: sendRetry, wake: make(chan struct{}, 1),
		outcomeAt: map[string]time.Time{}}
}

// Wake makes the worker look for messages now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.log.Error("outbox: claim messages", "err", err)
			}
			if n < w.Batch || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// RunOnce claims one batch and sends it; it returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	now := w.now()
	msgs, err := w.store.ClaimMessages(ctx, now, now.Add(w.Lease), w.Batch)
	if err != nil {
		return 0, err
	}
	w.beat()
	for i := range msgs {
		w.send(ctx, &msgs[i])
		w.beat() // per send: a slow provider must not look like a stuck worker
	}
	return len(msgs), nil
}

func (w *Worker) beat() {
	if w.Heartbeat != nil {
		w.Heartbeat()
	}
}

// errCountry refuses a destination outside the brand's countries.
var errCountry = sms.Permanent(errors.New("destination country is not allowed for this brand"))

func (w *Worker) send(ctx context.Context, m *store.Message) {
	route, err := w.router.Route(ctx, m.TenantID, m.BrandID)
	if err != nil {
		w.retry(ctx, m, err, false)
		return
	}
	if !route.Allows(m.Recipient) {
		w.finish(ctx, m, route, sms.Result{}, errCountry)
		return
	}
	now := w.now()
	if ok, until := w.breaker.allow(route.Key, now); !ok {
		// The provider is failing: wait for the circuit without using an
		// attempt, so a long outage fails no message.
		m.Attempts--
		m.NextAttemptAt, m.LastError = until.UTC(), "waiting: "+route.Name+" is failing"
		w.store0(ctx, m)
		return
	}
	if m.FirstAttemptAt == nil {
		t := now.UTC()
		m.FirstAttemptAt = &t
	}
	msg := sms.Message{ID: m.ID, Sender: m.Sender, Recipient: m.Recipient, Body: m.Body}
	if route.Sender != "" {
		msg.Sender = route.Sender
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.Lease/2)
	res, err := w.attempt(sendCtx, m, route, msg)
	cancel()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // shutting down: the lease runs out and another run retries
	}
	w.breaker.done(route.Key, err == nil || sms.IsPermanent(err), w.now())
	w.finish(ctx, m, route, res, err)
}

// attempt sends m, or, after a send of unknown outcome, first asks the
// provider whether it has m: a message is not sent twice if the provider
// can tell.
func (w *Worker) attempt(ctx context.Context, m *store.Message, route *smsconfig.Route, msg sms.Message) (sms.Result, error) {
	if m.OutcomeUnknown {
		if rep, ok := route.Provider.(sms.Reporter); ok {
			// Messages sent to the number since (a day before) this one's
			// first attempt are known; a lookup by number must skip them.
			known, err := w.store.ProviderMessageIDs(ctx, m.TenantID, m.Recipient, m.FirstAttemptAt.Add(-24*time.Hour))
			if err != nil {
				return sms.Result{}, sms.Unknown(fmt.Errorf("list known messages: %w", err))
			}
			r, found, err := rep.Lookup(ctx, sms.Sent{Message: msg, ProviderMessageID: m.ProviderMessageID,
				FirstAttempt: *m.FirstAttemptAt, Known: known})
			if err != nil {
				return sms.Result{}, sms.Unknown(fmt.Errorf("look up a send of unknown outcome: %w", err))
			}
			if found {
				applyReport(m, r, w.now())
				return sms.Result{ProviderMessageID: r.ProviderMessageID}, nil
			}
		}
	}
	return route.Provider.Send(ctx, msg)
}

func (w *Worker) finish(ctx context.Context, m *store.Message, route *smsconfig.Route, res sms.Result, err error) {
	now := w.now().UTC()
	m.Provider = route.Name
	switch {
	case err == nil:
		if m.Status == store.MessageQueued { // a lookup may have found it delivered already
			m.Status = store.MessageSent
		}
		m.ProviderMessageID, m.SentAt, m.LastError, m.OutcomeUnknown = res.ProviderMessageID, &now, "", false
		if _, ok := route.Provider.(sms.Reporter); ok && m.Status == store.MessageSent {
			due := now.Add(w.ReportAfter)
			m.ReportDueAt = &due
		}
		if route.Name != smsconfig.Sandbox {
			m.Body = m.RedactedBody // the code is no longer needed once it left
		}
		w.noteSuccess(ctx, m.BrandID, route, now)
	case sms.IsPermanent(err) || m.Attempts >= w.MaxAttempts:
		m.Status, m.LastError, m.OutcomeUnknown = store.MessageFailed, err.Error(), false
		m.Body = m.RedactedBody
		w.log.Warn("outbox: message failed for good", "message_id", m.ID, "attempts", m.Attempts, "err", err)
		w.noteError(ctx, m.BrandID, route, now, err)
	default:
		w.retry(ctx, m, err, sms.IsUnknown(err))
		w.noteError(ctx, m.BrandID, route, now, err)
		return
	}
	w.store0(ctx, m) // a failure is announced (message.failed) with it
}

func (w *Worker) retry(ctx context.Context, m *store.Message, err error, unknown bool) {
	m.LastError = err.Error()
	m.OutcomeUnknown = m.OutcomeUnknown || unknown
	m.NextAttemptAt = w.now().UTC().Add(w.retryDelay(m.Attempts))
	w.log.Info("outbox: send failed, will retry", "message_id", m.ID, "attempts", m.Attempts, "unknown", unknown, "err", err)
	w.store0(ctx, m)
}

func (w *Worker) store0(ctx context.Context, m *store.Message) {
	if ferr := w.store.FinishMessage(context.WithoutCancel(ctx), m); ferr != nil {
		// The lease expires and the message is sent again with the same
		// id; a provider that deduplicates on it, or a lookup, saves it.
		w.log.Error("outbox: record send result", "message_id", m.ID, "err", ferr)
	}
}

// noteSuccess records a brand's last success at most every few seconds:
// status needs the time, not a write per message.
func (w *Worker) noteSuccess(ctx context.Context, brandID string, route *smsconfig.Route, now time.Time) {
	if route.Name == smsconfig.Sandbox {
		return
	}
	w.outcomeMu.Lock()
	last := w.outcomeAt[brandID]
	if now.Sub(last) < 5*time.Second {
		w.outcomeMu.Unlock()
		return
	}
	w.outcomeAt[brandID] = now
	w.outcomeMu.Unlock()
	if err := w.store.RecordSMSOutcome(context.WithoutCancel(ctx), brandID, now, ""); err != nil {
		w.log.Error("outbox: record SMS success", "brand_id", brandID, "err", err)
	}
}

func (w *Worker) noteError(ctx context.Context, brandID string, route *smsconfig.Route, now time.Time, err error) {
	if route.Name == smsconfig.Sandbox {
		return
	}
	w.outcomeMu.Lock()
	delete(w.outcomeAt, brandID) // the next success is news
	w.outcomeMu.Unlock()
	if rerr := w.store.RecordSMSOutcome(context.WithoutCancel(ctx), brandID, now, truncate(err.Error(), 300)); rerr != nil {
		w.log.Error("outbox: record SMS error", "brand_id", brandID, "err", rerr)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// sendRetry spaces the retries of a failed send: after the first failed
// attempt about 4 s, then twice as long each time, at most 10 minutes.
var sendRetry = backoff.Policy{Base: 2 * time.Second, Max: 10 * time.Minute}

// retryDelay is the wait after a message's attempts-th failed send.
func (w *Worker) retryDelay(attempts int) time.Duration { return w.Retry.Delay(attempts + 1) }

// SetBreaker sets when a provider's circuit opens (after threshold
// failures in a row) and how long it stays open.
func (w *Worker) SetBreaker(threshold int, open backoff.Policy) {
	w.breaker = newBreaker(threshold, open)
}
