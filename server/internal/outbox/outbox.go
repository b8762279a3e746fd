// Package outbox writes SMS messages in the transaction of the change that
// causes them and delivers them afterwards. A message is never lost (it is
// committed with its cause) and never delivered twice (its id is the
// provider's idempotency key when a crashed send is retried).
package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/backoff"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/linktoken"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// Queue composes consent SMS and writes them to the outbox.
type Queue struct {
	templates *sms.Templates
	provider  string
	now       func() time.Time
	wake      func()
	publicURL string
}

// DefaultPublicURL is where links point when no public URL is set: the
// development server.
const DefaultPublicURL = "http://localhost:8080"

// NewQueue returns a queue for messages to be sent by the named provider.
// wake, if set, is called after a message is queued, to nudge the worker.
func NewQueue(t *sms.Templates, provider string, now func() time.Time) *Queue {
	return &Queue{templates: t, provider: provider, now: now, wake: func() {}, publicURL: DefaultPublicURL}
}

// SetPublicURL sets the scheme and host of the links in SMS (the consent
// and rejection pages). It fails if the links would not fit one SMS.
func (q *Queue) SetPublicURL(base string) error {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("public URL %q: want scheme and host only, e.g. https://izin.example.com.tr", base)
	}
	if err := sms.ValidateLinkBase(q.templates, base); err != nil {
		return fmt.Errorf("%w (at most %d characters)", err, sms.MaxLinkBaseLen)
	}
	q.publicURL = base
	return nil
}

// PublicURL is the base of the links in SMS.
func (q *Queue) PublicURL() string { return q.publicURL }

// SetWake sets the function that nudges the worker.
func (q *Queue) SetWake(f func()) { q.wake = f }

// Wake nudges the worker; call it after the transaction commits.
func (q *Queue) Wake() { q.wake() }

func typeNames(types []store.ConsentType) []string {
	out := make([]string, 0, len(types))
	for _, t := range types {
		switch t {
		case store.ConsentSMS:
			out = append(out, sms.TypeSMS)
		case store.ConsentCall:
			out = append(out, sms.TypeCall)
		case store.ConsentEmail:
			out = append(out, sms.TypeEmail)
		}
	}
	return out
}

// QueueActivation queues the SMS carrying an activation code.
func (q *Queue) QueueActivation(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
	verificationID string, code string, types []store.ConsentType) (id, textRef string, err error) {
	body, err := q.templates.Activation(sms.ActivationData{Brand: b.Sender, Code: code, Types: typeNames(types),
		RejectRoute: tenancy.RejectRoute(b), Mersis: t.Mersis})
	if err != nil {
		return "", "", errs.Internal(err, "compose activation SMS")
	}
	redacted := sms.RedactCode(body, code)
	id, err = q.insert(ctx, tx, t, b, to, &verificationID, store.KindActivation, body, redacted)
	return id, TextRef("activation_sms", redacted), err
}

// TextRef names a text by its hash, so evidence proves which words the
// customer saw without copying them into every event.
func TextRef(kind, text string) string {
	sum := sha256.Sum256([]byte(text))
	return kind + ":sha256:" + hex.EncodeToString(sum[:])
}

// QueueConfirmation queues the SMS confirming a recorded consent. Its
// rejection route is a link to the rejection page for exactly these types,
// written in the same transaction.
func (q *Queue) QueueConfirmation(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
	rtype store.RecipientType, verificationID *string, types []store.ConsentType, at time.Time) (string, error) {
	id, err := newMessageID()
	if err != nil {
		return "", err
	}
	token, hash, err := linktoken.New()
	if err != nil {
		return "", errs.Internal(err, "rejection link")
	}
	link := sms.LinkRoute(q.publicURL, token)
	body, err := q.templates.Confirmation(sms.ConfirmationData{Brand: b.Sender, Types: typeNames(types), Time: at,
		RejectRoute: link, Mersis: t.Mersis})
	if err != nil {
		return "", errs.Internal(err, "compose confirmation SMS")
	}
	now := q.now().UTC()
	if err := tx.InsertRejectLink(ctx, &store.RejectLink{TokenHash: hash, TenantID: t.ID, BrandID: b.ID, Recipient: to,
		RecipientType: rtype, Types: store.JoinTypes(types), MessageID: id, CreatedAt: now}); err != nil {
		return "", errs.Internal(err, "store rejection link")
	}
	// The copy kept for non-sandbox providers hides the token: the link is
	// the customer's, not the operators'.
	redacted := strings.Replace(body, link, sms.LinkRoute(q.publicURL, strings.Repeat("*", linktoken.Len)), 1)
	return q.insertID(ctx, tx, id, t, b, to, verificationID, store.KindConfirmation, body, redacted)
}

// QueueLandingLink queues the SMS carrying the consent-page link of a
// verification; token is the page's link token.
func (q *Queue) QueueLandingLink(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
	verificationID, token string, types []store.ConsentType) (string, error) {
	link := q.publicURL + "/l/" + token
	body, err := q.templates.LandingLink(sms.LandingData{Brand: b.Sender, Types: typeNames(types), Link: link, Mersis: t.Mersis})
	if err != nil {
		return "", errs.Internal(err, "compose consent-page SMS")
	}
	redacted := strings.Replace(body, link, q.publicURL+"/l/"+strings.Repeat("*", linktoken.Len), 1)
	return q.insert(ctx, tx, t, b, to, &verificationID, store.KindLandingLink, body, redacted)
}

// LandingURL is the consent-page link of a token.
func (q *Queue) LandingURL(token string) string { return q.publicURL + "/l/" + token }

func newMessageID() (string, error) {
	id, err := uuid.NewV7() // time-ordered, so listing by id is listing by time
	if err != nil {
		return "", errs.Internal(err, "message id")
	}
	return id.String(), nil
}

func (q *Queue) insert(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
	verificationID *string, kind store.MessageKind, body, redacted string) (string, error) {
	id, err := newMessageID()
	if err != nil {
		return "", err
	}
	return q.insertID(ctx, tx, id, t, b, to, verificationID, kind, body, redacted)
}

func (q *Queue) insertID(ctx context.Context, tx store.OutboxTx, id string, t *store.Tenant, b *store.Brand, to string,
	verificationID *string, kind store.MessageKind, body, redacted string) (string, error) {
	r, err := recipient.Parse(to)
	if err != nil || !r.IsMobile() {
		return "", errs.Invalid("recipient", "SMS can only be sent to a Turkish mobile number (+905…)")
	}
	now := q.now().UTC()
	m := &store.Message{ID: id, TenantID: t.ID, BrandID: b.ID, VerificationID: verificationID, Kind: kind,
		Recipient: r.Value, RecipientPrefix: r.Prefix(), Sender: b.Sender, Body: body, RedactedBody: redacted,
		Status: store.MessageQueued, Provider: q.provider, NextAttemptAt: now, CreatedAt: now}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return "", errs.Internal(err, "queue SMS")
	}
	return m.ID, nil
}

// Store is what the worker needs.
type Store interface {
	ClaimMessages(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Message, error)
	FinishMessage(ctx context.Context, m *store.Message) error
}

// Worker delivers queued messages through a provider.
type Worker struct {
	store    Store
	provider sms.Provider
	log      *slog.Logger
	now      func() time.Time

	Lease       time.Duration // how long a claimed message is ours
	Poll        time.Duration // how often to look when not woken
	MaxAttempts int
	Batch       int
	// Heartbeat, if set, is called whenever the worker has made progress
	// (a claim, a send), so that readiness can tell a stuck worker.
	Heartbeat func()

	wake chan struct{}
}

// NewWorker returns a worker with sensible defaults.
func NewWorker(s Store, p sms.Provider, log *slog.Logger) *Worker {
	return &Worker{store: s, provider: p, log: log, now: time.Now, Lease: 30 * time.Second,
		Poll: time.Second, MaxAttempts: 10, Batch: 50, wake: make(chan struct{}, 1)}
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

func (w *Worker) send(ctx context.Context, m *store.Message) {
	sendCtx, cancel := context.WithTimeout(ctx, w.Lease/2)
	res, err := w.provider.Send(sendCtx, sms.Message{ID: m.ID, Sender: m.Sender, Recipient: m.Recipient, Body: m.Body})
	cancel()
	now := w.now().UTC()
	switch {
	case err == nil:
		m.Status, m.ProviderMessageID, m.SentAt, m.LastError = store.MessageSent, res.ProviderMessageID, &now, ""
		if w.provider.Name() != "sandbox" {
			m.Body = m.RedactedBody // the code is no longer needed once it left
		}
	case sms.IsPermanent(err) || m.Attempts >= w.MaxAttempts:
		m.Status, m.LastError = store.MessageFailed, err.Error()
		m.Body = m.RedactedBody
		w.log.Warn("outbox: message failed for good", "message_id", m.ID, "attempts", m.Attempts, "err", err)
	default:
		m.LastError = err.Error()
		m.NextAttemptAt = now.Add(retryDelay(m.Attempts))
		w.log.Info("outbox: send failed, will retry", "message_id", m.ID, "attempts", m.Attempts, "err", err)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // shutting down: the lease runs out and another run retries
	}
	if ferr := w.store.FinishMessage(context.WithoutCancel(ctx), m); ferr != nil {
		// The lease expires and the message is sent again with the same id,
		// which the provider deduplicates.
		w.log.Error("outbox: record send result", "message_id", m.ID, "err", ferr)
	}
}

// sendRetry spaces the retries of a failed send.
var sendRetry = backoff.Policy{Base: 2 * time.Second, Max: 10 * time.Minute}

// retryDelay is the wait after a message's attempts-th failed send: the
// first retry waits about 4 s.
func retryDelay(attempts int) time.Duration {
	return sendRetry.Delay(attempts + 1)
}
