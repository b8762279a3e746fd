package outbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/backoff"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

// final reports whether a status can change no more.
func final(s store.MessageStatus) bool {
	return s == store.MessageDelivered || s == store.MessageFailed || s == store.MessageExpired
}

// applyReport puts a delivery report on m. A final status is kept: reports
// arrive out of order and more than once, and a late "accepted" must not
// undo "delivered". It reports whether m changed.
func applyReport(m *store.Message, r sms.Report, now time.Time) bool {
	if r.ProviderMessageID != "" && m.ProviderMessageID == "" {
		m.ProviderMessageID = r.ProviderMessageID
	}
	var next store.MessageStatus
	switch r.State {
	case sms.StateAccepted:
		next = store.MessageSent
	case sms.StateDelivered:
		next = store.MessageDelivered
	case sms.StateFailed:
		next = store.MessageFailed
	case sms.StateExpired:
		next = store.MessageExpired
	default:
		return false
	}
	if final(m.Status) || (next == store.MessageSent && m.Status == store.MessageSent) {
		return false
	}
	at := r.At
	if at.IsZero() {
		at = now
	}
	at = at.UTC()
	m.Status, m.StatusCode, m.StatusAt = next, r.Code, &at
	if next == store.MessageFailed || next == store.MessageExpired {
		m.LastError = truncate(r.Detail, 300)
		if m.LastError == "" {
			m.LastError = "provider reported status " + r.Code
		}
	}
	if final(next) {
		m.ReportDueAt = nil
	}
	return true
}

// ReportTx is what applying a report writes.
type ReportTx interface {
	MessageForReport(ctx context.Context, tenantID, id, providerMessageID string) (*store.Message, error)
	UpdateMessageDelivery(ctx context.Context, m *store.Message) error
	store.NotificationTx
}

// announceFailure writes the message.failed notification of a message a
// report said was not delivered, in the report's transaction.
func announceFailure(ctx context.Context, tx store.NotificationTx, m *store.Message, now time.Time) error {
	if m.Status != store.MessageFailed && m.Status != store.MessageExpired {
		return nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	return tx.InsertNotifications(ctx, []*store.Notification{{ID: id.String(), TenantID: m.TenantID,
		Type: store.NotifyMessageFailed, RefID: m.ID, CreatedAt: now.UTC()}})
}

// ApplyReport applies a report to the tenant's message it names, in tx.
// It returns the message when its status changed, nil when the report
// changed nothing or names no message of the tenant (a provider may report
// messages izin did not send, e.g. from the provider's own panel).
func ApplyReport(ctx context.Context, tx ReportTx, tenantID string, r sms.Report, now time.Time) (*store.Message, error) {
	m, err := tx.MessageForReport(ctx, tenantID, r.MessageID, r.ProviderMessageID)
	if errors.Is(err, store.ErrNotFound) && r.MessageID != "" && r.ProviderMessageID != "" {
		m, err = tx.MessageForReport(ctx, tenantID, "", r.ProviderMessageID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !applyReport(m, r, now) {
		return nil, nil
	}
	if err := tx.UpdateMessageDelivery(ctx, m); err != nil {
		return nil, err
	}
	return m, announceFailure(ctx, tx, m, now)
}

// ReportStore is what the report poller needs.
type ReportStore interface {
	ClaimReportPolls(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Message, error)
	InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error
}

// Reports polls the delivery reports of sent messages from providers that
// are asked (sms.Reporter); providers that push reports need no poll, but
// a push can be lost, so both run where both exist.
type Reports struct {
	store  ReportStore
	router Router
	log    *slog.Logger
	now    func() time.Time
	// MaxPolls bounds the asking: after it, a message stays "sent".
	MaxPolls int
	Batch    int
	Poll     time.Duration
	// Spacing spaces the polls of one message.
	Spacing backoff.Policy
}

// reportPoll spaces the polls of one message: a minute, then longer.
var reportPoll = backoff.Policy{Base: time.Minute, Max: 2 * time.Hour}

// NewReports returns a poller.
func NewReports(s ReportStore, r Router, log *slog.Logger) *Reports {
	return &Reports{store: s, router: r, log: log, now: time.Now, MaxPolls: 12, Batch: 100, Poll: 15 * time.Second,
		Spacing: reportPoll}
}

// Run polls until ctx ends.
func (p *Reports) Run(ctx context.Context) {
	t := time.NewTicker(p.Poll)
	defer t.Stop()
	for {
		if _, err := p.RunOnce(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("outbox: poll delivery reports", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce polls one batch of due messages and returns how many it asked.
func (p *Reports) RunOnce(ctx context.Context) (int, error) {
	now := p.now()
	msgs, err := p.store.ClaimReportPolls(ctx, now, now.Add(p.Spacing.Ceiling(1)), p.Batch)
	if err != nil {
		return 0, err
	}
	for i := range msgs {
		p.poll(ctx, &msgs[i])
	}
	return len(msgs), nil
}

func (p *Reports) poll(ctx context.Context, m *store.Message) {
	route, err := p.router.Route(ctx, m.TenantID, m.BrandID)
	if err != nil {
		p.log.Warn("outbox: route for report poll", "message_id", m.ID, "err", err)
		return // the claim's lease brings it back
	}
	rep, ok := route.Provider.(sms.Reporter)
	if !ok || route.Name != m.Provider {
		p.reschedule(ctx, m, nil)
		return
	}
	var first time.Time
	if m.FirstAttemptAt != nil {
		first = *m.FirstAttemptAt
	}
	r, found, err := rep.Lookup(ctx, sms.Sent{Message: sms.Message{ID: m.ID, Sender: m.Sender, Recipient: m.Recipient},
		ProviderMessageID: m.ProviderMessageID, FirstAttempt: first})
	if err != nil || !found {
		p.log.Info("outbox: no delivery report yet", "message_id", m.ID, "found", found, "err", err)
		p.reschedule(ctx, m, nil)
		return
	}
	p.reschedule(ctx, m, &r)
}

// reschedule applies a polled report (if any) and sets the next poll, or
// none once the status is final or the polls are spent.
func (p *Reports) reschedule(ctx context.Context, m *store.Message, r *sms.Report) {
	err := p.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		cur, err := tx.MessageForReport(ctx, m.TenantID, m.ID, "")
		if err != nil {
			return err
		}
		changed := r != nil && applyReport(cur, *r, p.now())
		if !final(cur.Status) {
			if cur.ReportPolls >= p.MaxPolls {
				cur.ReportDueAt = nil
			} else {
				due := p.now().UTC().Add(p.Spacing.Delay(cur.ReportPolls + 1))
				cur.ReportDueAt = &due
			}
		}
		if err := tx.UpdateMessageDelivery(ctx, cur); err != nil {
			return err
		}
		if changed {
			return announceFailure(ctx, tx, cur, p.now())
		}
		return nil
	})
	if err != nil && ctx.Err() == nil { // shutting down: the claim's lease brings it back
		p.log.Error("outbox: store delivery report", "message_id", m.ID, "err", err)
	}
}
