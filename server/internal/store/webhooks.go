package store

import (
	"context"
	"time"
)

// Webhook is a tenant's subscription of a URL to event types.
type Webhook struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	URL      string `gorm:"column:url"`
	Events   string // comma-separated event types, e.g. "consent.granted,consent.rejected"
	// Secret is the sealed signing secret; PreviousSecret the one it
	// replaced, still signed with until PreviousSecretUntil.
	Secret              []byte
	PreviousSecret      []byte
	PreviousSecretUntil *time.Time
	DisabledAt          *time.Time
	DisabledReason      string
	// ConsentCursor is the seq of the last consent event of the tenant
	// fanned out to this webhook.
	ConsentCursor int64
	CreatedAt     time.Time
	DeletedAt     *time.Time
}

// WebhookDeliveryState is where a delivery stands.
type WebhookDeliveryState int16

// The delivery states.
const (
	DeliveryPending   WebhookDeliveryState = 1
	DeliveryDelivered WebhookDeliveryState = 2
	DeliveryFailed    WebhookDeliveryState = 3 // the retry schedule ran out
	DeliveryGone      WebhookDeliveryState = 4 // the receiver answered 410
)

// WebhookDelivery is one event on its way to one webhook. Its ID (msg_…)
// is the webhook-id header, the same on every attempt and replay.
type WebhookDelivery struct {
	ID        string `gorm:"primaryKey"`
	WebhookID string
	TenantID  string
	EventType string
	// EventKey names the event, unique per webhook ("seq:42",
	// "notification:<id>"), so that fanning out twice inserts once.
	EventKey      string
	Payload       []byte // the body, rendered once at fan-out
	State         WebhookDeliveryState
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

// WebhookAttempt is one POST of a delivery.
type WebhookAttempt struct {
	ID         int64 `gorm:"primaryKey"`
	DeliveryID string
	At         time.Time
	StatusCode int
	Error      string // a short, truncated snippet at most
	DurationMS int64  `gorm:"column:duration_ms"`
}

// Notification is an event other than a consent event (a verification
// that ended, a message that failed, an upload İYS refused), written in
// the transaction of its change and fanned out to webhooks once.
type Notification struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Type      string // the event type, e.g. "verification.verified"
	RefID     string // the id of the record the event is about
	CreatedAt time.Time
	FannedAt  *time.Time
}

func (Webhook) TableName() string         { return "webhooks" }
func (WebhookDelivery) TableName() string { return "webhook_deliveries" }
func (WebhookAttempt) TableName() string  { return "webhook_attempts" }
func (Notification) TableName() string    { return "notifications" }

// DeliveryFilter selects a webhook's deliveries, newest first.
type DeliveryFilter struct {
	TenantID  string
	WebhookID string
	BeforeID  string // optional, for paging (ids are time-ordered)
	Limit     int
}

// ReplayQuery names deliveries of a webhook to send again: by id, or every
// delivery created in [Since, Until).
type ReplayQuery struct {
	TenantID  string
	WebhookID string
	IDs       []string
	Since     time.Time
	Until     time.Time
	// Now is when the replayed deliveries become due.
	Now time.Time
}

// The notification types: the event types of webhooks other than consent
// events (consent.granted, consent.rejected), which are read from the
// chain.
const (
	NotifyVerificationVerified = "verification.verified"
	NotifyVerificationExpired  = "verification.expired"
	NotifyVerificationFailed   = "verification.failed"
	NotifyMessageFailed        = "message.failed"
	NotifyIYSRefused           = "iys.refused"
)

// VerificationSweepTx finds the verifications that expired untouched.
type VerificationSweepTx interface {
	// LockExpiredVerifications locks up to limit pending verifications
	// whose expire_at is before now, for the rest of the transaction;
	// other transactions pass over them (SKIP LOCKED on PostgreSQL).
	LockExpiredVerifications(ctx context.Context, now time.Time, limit int) ([]Verification, error)
}

// NotificationTx writes notifications in the transaction of their change.
type NotificationTx interface {
	InsertNotifications(ctx context.Context, ns []*Notification) error
}

// WebhookTx fans events out: deliveries inserted with the cursor moved or
// the notification marked, together.
type WebhookTx interface {
	// InsertWebhookDeliveries inserts deliveries, skipping any whose
	// (webhook, event key) exists, so that fanning out twice is harmless.
	InsertWebhookDeliveries(ctx context.Context, ds []*WebhookDelivery) error

	// AdvanceWebhookCursor moves a webhook's consent cursor forward to seq;
	// a cursor already past it stays.
	AdvanceWebhookCursor(ctx context.Context, webhookID string, seq int64) error
	MarkNotificationsFanned(ctx context.Context, ids []string, at time.Time) error
}

// WebhookStore keeps webhooks and leases their deliveries to the
// dispatcher.
type WebhookStore interface {
	// CreateWebhook stores w with its consent cursor at the tenant's
	// chain head: a webhook receives the changes after its creation.
	CreateWebhook(ctx context.Context, w *Webhook) error
	GetWebhook(ctx context.Context, tenantID, id string) (*Webhook, error)

	// ListWebhooks lists a tenant's webhooks that are not deleted, oldest
	// first; an empty tenantID lists every tenant's live ones (neither
	// deleted nor disabled), for the dispatcher.
	ListWebhooks(ctx context.Context, tenantID string) ([]Webhook, error)
	DeleteWebhook(ctx context.Context, tenantID, id string, at time.Time) error

	// RotateWebhookSecret replaces the secret of a webhook; the old one is
	// kept, and signed with, until previousUntil.
	RotateWebhookSecret(ctx context.Context, tenantID, id string, secret []byte, previousUntil time.Time) error
	DisableWebhook(ctx context.Context, id string, at time.Time, reason string) error

	// UnfannedNotifications lists up to limit notifications not yet
	// fanned out, oldest first. Replicas may read the same ones: the
	// deliveries they insert are idempotent.
	UnfannedNotifications(ctx context.Context, limit int) ([]Notification, error)

	// MessageByID and IYSUploadByEvent read the subjects of notifications.
	MessageByID(ctx context.Context, tenantID, id string) (*Message, error)
	IYSUploadByEvent(ctx context.Context, tenantID, eventID string) (*IYSUpload, error)

	// ClaimWebhookDeliveries leases up to limit due pending deliveries
	// until leaseUntil and counts an attempt for each; replicas claim
	// disjoint batches.
	ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]WebhookDelivery, error)

	// FinishWebhookDelivery records an attempt and, if the delivery is
	// still under the claim that counted d.Attempts (no replay or later
	// claim since), its new state, releasing its lease.
	FinishWebhookDelivery(ctx context.Context, d *WebhookDelivery, a *WebhookAttempt) error
	ListWebhookDeliveries(ctx context.Context, f DeliveryFilter) ([]WebhookDelivery, error)
	WebhookAttempts(ctx context.Context, deliveryIDs []string) ([]WebhookAttempt, error)

	// ReplayWebhookDeliveries makes the deliveries named by q pending and
	// due at q.Now, keeping their ids; it returns how many.
	ReplayWebhookDeliveries(ctx context.Context, q ReplayQuery) (int64, error)
}
