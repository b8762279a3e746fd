package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/paging"
	"github.com/izinhq/izin/server/internal/seal"
	"github.com/izinhq/izin/server/internal/store"
)

// secretsPurpose labels the key that seals webhook secrets, apart from
// every other key derived from the server secret.
const secretsPurpose = "izin webhook-secrets v1"

// NewSealer derives the sealer of webhook secrets from the server secret.
func NewSealer(serverSecret []byte) (*seal.Sealer, error) {
	return seal.New(serverSecret, secretsPurpose)
}

// DefaultGrace is how long a rotated-out secret keeps signing.
const DefaultGrace = 24 * time.Hour

// Service administers a tenant's webhooks: the AdminService calls and the
// izin webhook commands.
type Service struct {
	store        store.WebhookStore
	sealer       *seal.Sealer
	allowPrivate bool
	now          func() time.Time
	// Grace is how long the previous secret signs after a rotation.
	Grace time.Duration
	// Wake, if set, makes the dispatcher look now (after a replay).
	Wake func()
}

// NewService returns the service; allowPrivate lets targets in private
// networks and over http through (tests, development).
func NewService(s store.WebhookStore, sealer *seal.Sealer, allowPrivate bool, now func() time.Time) *Service {
	return &Service{store: s, sealer: sealer, allowPrivate: allowPrivate, now: now, Grace: DefaultGrace}
}

// Create subscribes url to events and returns the webhook and its secret,
// which is shown only this once.
func (s *Service) Create(ctx context.Context, tenantID, url string, events []string) (*store.Webhook, string, error) {
	url = strings.TrimSpace(url)
	if err := CheckURL(url, s.allowPrivate); err != nil {
		return nil, "", err
	}
	evs, err := parseEvents(events)
	if err != nil {
		return nil, "", err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, "", errs.Internal(err, "webhook id")
	}
	secret, sealed, err := s.newSecret(id.String())
	if err != nil {
		return nil, "", err
	}
	w := &store.Webhook{ID: id.String(), TenantID: tenantID, URL: url, Events: strings.Join(evs, ","),
		Secret: sealed, CreatedAt: s.now().UTC()}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return nil, "", errs.Internal(err, "create webhook")
	}
	return w, secret, nil
}

func (s *Service) newSecret(webhookID string) (string, []byte, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", nil, errs.Internal(err, "webhook secret")
	}
	sealed, err := s.sealer.Seal(secret, webhookID)
	if err != nil {
		return "", nil, errs.Internal(err, "seal webhook secret")
	}
	return secret, sealed, nil
}

// List lists a tenant's webhooks, oldest first.
func (s *Service) List(ctx context.Context, tenantID string) ([]store.Webhook, error) {
	ws, err := s.store.ListWebhooks(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list webhooks")
	}
	return ws, nil
}

func (s *Service) get(ctx context.Context, tenantID, id string) (*store.Webhook, error) {
	w, err := s.store.GetWebhook(ctx, tenantID, id)
	if err != nil {
		return nil, notFound(err, id)
	}
	return w, nil
}

func notFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errs.NotFound("webhook %q not found", id).With("id", id)
	}
	return errs.Internal(err, "webhook")
}

// Delete stops a webhook; its deliveries stay listed.
func (s *Service) Delete(ctx context.Context, tenantID, id string) error {
	if err := s.store.DeleteWebhook(ctx, tenantID, id, s.now()); err != nil {
		return notFound(err, id)
	}
	return nil
}

// Rotate gives a webhook a new secret, returned this once; the old one
// signs too until the grace period ends.
func (s *Service) Rotate(ctx context.Context, tenantID, id string) (*store.Webhook, string, error) {
	if _, err := s.get(ctx, tenantID, id); err != nil {
		return nil, "", err
	}
	secret, sealed, err := s.newSecret(id)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.RotateWebhookSecret(ctx, tenantID, id, sealed, s.now().Add(s.Grace)); err != nil {
		return nil, "", notFound(err, id)
	}
	w, err := s.get(ctx, tenantID, id)
	return w, secret, err
}

// Delivery is a delivery with its attempts, oldest first.
type Delivery struct {
	store.WebhookDelivery
	Attempts []store.WebhookAttempt
}

// Deliveries lists a webhook's deliveries, newest first, a page at a time.
func (s *Service) Deliveries(ctx context.Context, tenantID, webhookID string, pageSize int, pageToken string) ([]Delivery, string, error) {
	if _, err := s.get(ctx, tenantID, webhookID); err != nil {
		return nil, "", err
	}
	f := store.DeliveryFilter{TenantID: tenantID, WebhookID: webhookID, Limit: paging.Size(pageSize)}
	if pageToken != "" {
		id, err := paging.ParseIDToken(pageToken)
		if err != nil {
			return nil, "", err
		}
		f.BeforeID = id
	}
	ds, err := s.store.ListWebhookDeliveries(ctx, f)
	if err != nil {
		return nil, "", errs.Internal(err, "list webhook deliveries")
	}
	ids := make([]string, len(ds))
	for i := range ds {
		ids[i] = ds[i].ID
	}
	atts, err := s.store.WebhookAttempts(ctx, ids)
	if err != nil {
		return nil, "", errs.Internal(err, "list webhook attempts")
	}
	byDelivery := make(map[string][]store.WebhookAttempt)
	for _, a := range atts {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], a)
	}
	out := make([]Delivery, len(ds))
	for i := range ds {
		out[i] = Delivery{WebhookDelivery: ds[i], Attempts: byDelivery[ds[i].ID]}
	}
	next := ""
	if len(ds) == f.Limit {
		next = paging.IDToken(ds[len(ds)-1].ID)
	}
	return out, next, nil
}

// ReplayRequest names deliveries to send again: by id, or those created
// in [Since, Until).
type ReplayRequest struct {
	DeliveryIDs  []string
	Since, Until time.Time
}

// Replay sends deliveries of a webhook again, with their ids and bodies
// unchanged, and returns how many.
func (s *Service) Replay(ctx context.Context, tenantID, webhookID string, req ReplayRequest) (int64, error) {
	if _, err := s.get(ctx, tenantID, webhookID); err != nil {
		return 0, err
	}
	q := store.ReplayQuery{TenantID: tenantID, WebhookID: webhookID, IDs: req.DeliveryIDs, Since: req.Since, Until: req.Until, Now: s.now()}
	switch {
	case len(req.DeliveryIDs) > 0 && !req.Since.IsZero():
		return 0, errs.Invalid("delivery_ids", "name deliveries or a time range, not both")
	case len(req.DeliveryIDs) == 0 && (req.Since.IsZero() || req.Until.IsZero()):
		return 0, errs.Invalid("since", "name deliveries by id or give both ends of a time range (since and until)")
	case len(req.DeliveryIDs) == 0 && !req.Until.After(req.Since):
		return 0, errs.Invalid("until", "must be after since")
	}
	n, err := s.store.ReplayWebhookDeliveries(ctx, q)
	if err != nil {
		return 0, errs.Internal(err, "replay webhook deliveries")
	}
	if n > 0 && s.Wake != nil {
		s.Wake()
	}
	return n, nil
}

// secrets opens the secrets a webhook signs with at now: the current one
// and, within its grace period, the previous.
func secrets(sealer *seal.Sealer, w *store.Webhook, now time.Time) ([]string, error) {
	cur, err := sealer.Open(w.Secret, w.ID)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	out := []string{cur}
	if len(w.PreviousSecret) > 0 && w.PreviousSecretUntil != nil && now.Before(*w.PreviousSecretUntil) {
		prev, err := sealer.Open(w.PreviousSecret, w.ID)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: previous secret: %w", w.ID, err)
		}
		out = append(out, prev)
	}
	return out, nil
}
