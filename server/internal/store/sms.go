package store

import (
	"context"
	"time"
)

// SMSConfig is a brand's SMS provider. Without one (or disabled) the
// brand's SMS go through the sandbox. Secrets are sealed.
type SMSConfig struct {
	BrandID       string `gorm:"primaryKey"`
	TenantID      string
	Provider      string // sms provider name: netgsm, verimor, twilio, sandbox
	BaseURL       string
	Username      string
	PasswordEnc   []byte
	Sender        string
	Enabled       bool
	HookID        string // names the brand in callback URLs
	HookSecretEnc []byte // authenticates callbacks of unsigned providers
	// RejectTypes is what an inbound RET rejects (JoinTypes); empty means
	// SMS and CALL.
	RejectTypes  string
	OptinKeyword string
	// AllowedCountries: comma-separated calling codes; empty means 90.
	AllowedCountries string
	LastSuccessAt    *time.Time
	LastError        string
	LastErrorAt      *time.Time
	InboundPolledAt  *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// InboundAction is what izin did with an inbound SMS.
type InboundAction int16

const (
	InboundRejected InboundAction = 1
	InboundOptedIn  InboundAction = 2
	InboundUnknown  InboundAction = 3
	InboundIgnored  InboundAction = 4
)

// InboundMessage is an SMS a customer sent to a brand, kept whatever it
// says: it is the evidence of what it caused.
type InboundMessage struct {
	ID                string `gorm:"primaryKey"`
	TenantID          string
	BrandID           string
	Provider          string
	ProviderMessageID string
	Sender            string // E.164 when it parses, else as received
	Recipient         string // the brand's number, when the provider says
	Body              string
	Keyword           string
	Action            InboundAction
	EventIDs          string // comma-separated
	Detail            string
	ReceivedAt        time.Time
	CreatedAt         time.Time
}

func (SMSConfig) TableName() string      { return "sms_configs" }
func (InboundMessage) TableName() string { return "inbound_messages" }

// InboundFilter selects inbound messages, newest first.
type InboundFilter struct {
	TenantID string
	BrandID  string        // optional
	Action   InboundAction // optional
	BeforeID string        // optional, for paging (ids are time-ordered)
	Limit    int
}

// QueueDepth is how many messages of a brand wait, and since when.
type QueueDepth struct {
	BrandID string
	Queued  int64
	Oldest  *time.Time
}

// SMSConfigStore keeps brands' SMS providers.
type SMSConfigStore interface {
	// PutSMSConfig creates or replaces a brand's configuration.
	PutSMSConfig(ctx context.Context, c *SMSConfig) error
	GetSMSConfig(ctx context.Context, tenantID, brandID string) (*SMSConfig, error)
	ListSMSConfigs(ctx context.Context, tenantID string) ([]SMSConfig, error)
	// SMSConfigByHook finds a configuration by its callback hook id,
	// whatever its tenant: the hook (with its secret) is the authorisation.
	SMSConfigByHook(ctx context.Context, hookID string) (*SMSConfig, error)
	// RecordSMSOutcome notes a brand's last successful or failed send.
	RecordSMSOutcome(ctx context.Context, brandID string, at time.Time, errText string) error
	// EnabledSMSConfigs lists the enabled configurations of every tenant.
	EnabledSMSConfigs(ctx context.Context) ([]SMSConfig, error)
	// SetInboundPolled notes how far a brand's inbound SMS were polled.
	SetInboundPolled(ctx context.Context, brandID string, at time.Time) error
	// SMSQueueDepth counts the queued messages of each brand of a tenant.
	SMSQueueDepth(ctx context.Context, tenantID string) ([]QueueDepth, error)
}

// DeliveryStore applies delivery reports and reads inbound messages.
type DeliveryStore interface {
	// ClaimReportPolls leases up to limit sent messages whose report is
	// due, moving their due time to leaseUntil.
	ClaimReportPolls(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Message, error)
	ListInboundMessages(ctx context.Context, f InboundFilter) ([]InboundMessage, error)
}

// DeliveryTx writes a delivery report or an inbound message in the
// transaction of what it causes.
type DeliveryTx interface {
	// MessageForReport finds a message of the tenant by izin's id or, if
	// that is empty, by the provider's id; ErrNotFound if neither matches.
	MessageForReport(ctx context.Context, tenantID, id, providerMessageID string) (*Message, error)
	// UpdateMessageDelivery stores a message's status, code and times.
	UpdateMessageDelivery(ctx context.Context, m *Message) error
	// InsertInboundMessage keeps an inbound SMS; ErrConflict if the
	// provider delivered it before.
	InsertInboundMessage(ctx context.Context, m *InboundMessage) error
	UpdateInboundMessage(ctx context.Context, m *InboundMessage) error
}
