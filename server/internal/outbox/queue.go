// Package outbox writes SMS messages in the transaction of the change that
// causes them and delivers them afterwards. A message is never lost (it is
// committed with its cause) and never delivered twice (its id is the
// provider's idempotency key when a crashed send is retried).
package outbox

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/linktoken"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// Queue composes consent SMS and writes them to the outbox.
type Queue struct {
	templates *sms.Templates
	now       func() time.Time
	wake      func()
	publicURL string
}

// DefaultPublicURL is where links point when no public URL is set: the
// development server.
const DefaultPublicURL = "http://localhost:8080"

// NewQueue returns a queue of messages composed with t.
func NewQueue(t *sms.Templates, now func() time.Time) *Queue {
	return &Queue{templates: t, now: now, wake: func() {}, publicURL: DefaultPublicURL}
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
	return id, evidence.TextRef("activation_sms", redacted), err
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
	if err := limitSends(ctx, tx, t, r, now); err != nil {
		return "", err
	}
	// The provider is the brand's now; the worker notes the one that
	// actually sent it, should the configuration change in between.
	provider, err := tx.SMSProviderOf(ctx, t.ID, b.ID)
	if err != nil {
		return "", errs.Internal(err, "read the brand's SMS provider")
	}
	m := &store.Message{ID: id, TenantID: t.ID, BrandID: b.ID, VerificationID: verificationID, Kind: kind,
		Recipient: r.Value, RecipientPrefix: r.Prefix(), Sender: b.Sender, Body: body, RedactedBody: redacted,
		Status: store.MessageQueued, Provider: provider, NextAttemptAt: now, CreatedAt: now}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return "", errs.Internal(err, "queue SMS")
	}
	return m.ID, nil
}
