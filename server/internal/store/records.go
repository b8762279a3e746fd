package store

import "time"

// ConsentText is one published version of a brand's legal text in one
// language. Rows are never changed: the database refuses updates.
type ConsentText struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	BrandID   string
	Kind      TextKind
	Language  string
	Version   int
	Title     string
	Body      string
	SHA256    string `gorm:"column:sha256"`
	CreatedAt time.Time
}

// RejectLink is the capability behind the link in a confirmation SMS: whoever
// holds the token may reject the consents the SMS confirmed.
type RejectLink struct {
	TokenHash     string `gorm:"primaryKey"`
	TenantID      string
	BrandID       string
	Recipient     string
	RecipientType RecipientType
	Types         string // comma-separated ConsentType numbers
	MessageID     string // the confirmation SMS that carried the link
	CreatedAt     time.Time
	UsedAt        *time.Time
}

// Tenant is a service provider (hizmet sağlayıcı).
type Tenant struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Mersis    string
	IYSCode   string `gorm:"column:iys_code"`
	CreatedAt time.Time
	TenantSettings
}

// TenantSettings are the per-tenant limits of the verification flow.
type TenantSettings struct {
	CodeLength               int
	CodeTTLSeconds           int `gorm:"column:code_ttl_seconds"`
	MaxAttempts              int
	ResendIntervalSeconds    int
	MaxSendsPerVerification  int
	MaxSendsPerRecipientHour int
	MaxSendsPerTenantHour    int
	MaxSendsPerPrefixHour    int
	MaxStartsPerSourceMinute int
}

// DefaultTenantSettings are the limits a new tenant starts with.
func DefaultTenantSettings() TenantSettings {
	return TenantSettings{
		CodeLength:               6,
		CodeTTLSeconds:           180,
		MaxAttempts:              3,
		ResendIntervalSeconds:    60,
		MaxSendsPerVerification:  3,
		MaxSendsPerRecipientHour: 5,
		MaxSendsPerTenantHour:    10000,
		MaxSendsPerPrefixHour:    500,
		MaxStartsPerSourceMinute: 120,
	}
}

// Brand is a brand (marka) of a tenant with its İYS brand code.
type Brand struct {
	ID          string `gorm:"primaryKey"`
	TenantID    string
	Code        string
	Name        string
	Sender      string
	RejectRoute string
	IsDefault   bool
	CreatedAt   time.Time
}

// Source is a channel (kaynak) of a tenant.
type Source struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	Name      string
	Type      SourceType
	CreatedAt time.Time
}

// APIKey is stored by the SHA-256 of its secret; the secret is shown once.
type APIKey struct {
	ID        string `gorm:"primaryKey"`
	TenantID  string
	SourceID  *string
	Name      string
	Prefix    string
	Hash      string
	Scope     Scope
	CreatedAt time.Time
	RevokedAt *time.Time
}

// ConsentState is the current status per (tenant, brand, recipient,
// recipient type, type); a missing row means NONE. The row of type
// ConsentKVKK holds the KVKK explicit consent in KVKK, with Status GRANTED
// when it is granted and REJECTED otherwise; ETK rows leave KVKK unset.
type ConsentState struct {
	TenantID      string        `gorm:"primaryKey"`
	BrandID       string        `gorm:"primaryKey"`
	Recipient     string        `gorm:"primaryKey"`
	RecipientType RecipientType `gorm:"primaryKey"`
	Type          ConsentType   `gorm:"primaryKey"`
	Status        ConsentStatus
	ConsentTime   time.Time
	SourceID      *string
	IYSSource     string `gorm:"column:iys_source"`
	EventID       string
	KVKK          KVKKStatus `gorm:"column:kvkk"`
	UpdatedAt     time.Time
}

// ConsentEvent is one append-only entry of a tenant's hash chain.
type ConsentEvent struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	Seq            int64
	BrandID        string
	BrandCode      string
	Recipient      string
	RecipientType  RecipientType
	Type           ConsentType
	Status         ConsentStatus
	ConsentTime    time.Time
	CreatedAt      time.Time
	SourceID       *string
	APIKeyID       *string `gorm:"column:api_key_id"`
	OperatorID     string
	VerificationID *string
	Method         VerificationMethod
	MessageIDs     string `gorm:"column:message_ids"` // comma-separated
	IYSSource      string `gorm:"column:iys_source"`
	Reference      string
	IPAddress      string `gorm:"column:ip_address"`
	UserAgent      string
	// Texts references the exact texts the customer saw, as
	// "kind:sha256:hex" or, for versioned texts, "kind/id:sha256:hex",
	// comma-separated.
	Texts string
	// The consent page (landing-page method only).
	PageViewAt   *time.Time
	PageSubmitAt *time.Time
	TickedBoxes  string     // comma-separated: "etk", "kvkk"
	KVKK         KVKKStatus `gorm:"column:kvkk"`
	PrevHash     string
	Hash         string
}

// ChainHead is the last sequence number and hash of a tenant's event chain.
type ChainHead struct {
	TenantID string `gorm:"primaryKey"`
	Seq      int64
	Hash     string
}

// Verification is one run of a consent verification flow.
type Verification struct {
	ID            string `gorm:"primaryKey"`
	TenantID      string
	BrandID       string
	SourceID      *string
	APIKeyID      *string `gorm:"column:api_key_id"`
	OperatorID    string
	Recipient     string
	RecipientType RecipientType
	Types         string // comma-separated ConsentType numbers, in the order asked
	Method        VerificationMethod
	Status        VerificationStatus
	CodeHash      string
	ExpireAt      time.Time
	Attempts      int // wrong codes so far
	MaxAttempts   int
	Sends         int
	LastSentAt    time.Time
	FirstName     string
	LastName      string
	TextRef       string // the activation SMS text, as in ConsentEvent.Texts
	CreatedAt     time.Time
	UpdatedAt     time.Time
	VerifiedAt    *time.Time

	// Landing-page method. Until the page is sent, ExpireAt is when the link
	// stops working; from then on, when the code does.
	LandingTokenHash string
	// LandingTexts are the consent text versions fixed at start, every
	// language, comma-separated ids: a version published mid-flow does not
	// change what this customer reads.
	LandingTexts    string
	PageViewedAt    *time.Time
	PageSubmittedAt *time.Time
	IPAddress       string `gorm:"column:ip_address"`
	UserAgent       string
	TickedBoxes     string
	PageLanguage    string
	KVKK            KVKKStatus `gorm:"column:kvkk"`
}

// Message is an outgoing SMS; its row is also the outbox entry, written in
// the transaction of the change that causes it.
type Message struct {
	ID                string `gorm:"primaryKey"`
	TenantID          string
	BrandID           string
	VerificationID    *string
	Kind              MessageKind
	Recipient         string
	RecipientPrefix   string
	Sender            string
	Body              string
	RedactedBody      string
	Status            MessageStatus
	Provider          string
	ProviderMessageID string
	Attempts          int
	NextAttemptAt     time.Time
	LeaseUntil        *time.Time
	LastError         string
	CreatedAt         time.Time
	SentAt            *time.Time
	// The provider's delivery report: its code and when it came.
	StatusCode string
	StatusAt   *time.Time
	// OutcomeUnknown marks a send whose answer was lost; the next attempt
	// asks the provider before sending again.
	OutcomeUnknown bool
	FirstAttemptAt *time.Time
	// ReportDueAt is when to poll the provider for the report of a sent
	// message (providers that are asked); ReportPolls counts the polls.
	ReportDueAt *time.Time
	ReportPolls int
}

// IYSUpload is a consent event that İYS must receive. It is written in the
// transaction of the event, so no change can miss İYS.
type IYSUpload struct {
	EventID       string `gorm:"primaryKey"`
	TenantID      string
	BrandID       string
	Recipient     string
	RecipientType RecipientType
	Type          ConsentType
	Status        ConsentStatus
	Source        string // İYS consent source, HS_*
	ConsentTime   time.Time
	State         IYSUploadState
	RequestID     string
	TransactionID string
	ErrorCode     string
	ErrorMessage  string
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	// Head marks the oldest open (pending or submitted) upload of its
	// consent: the only one that may be claimed. The store keeps it.
	Head      bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IYSConfig is a brand's İYS connection; the password is stored encrypted.
type IYSConfig struct {
	BrandID     string `gorm:"primaryKey"`
	TenantID    string
	IYSCode     string `gorm:"column:iys_code"`
	BrandCode   string
	Username    string
	PasswordEnc []byte
	BaseURL     string
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// IYSCursor is how far the pull of İYS's changes has come for a brand.
type IYSCursor struct {
	BrandID      string `gorm:"primaryKey"`
	TenantID     string
	Cursor       string
	LastPullAt   *time.Time
	LastError    string
	ReconciledTo string // the last daily change file applied, YYYY-MM-DD
	UpdatedAt    time.Time
}

// ImportRow marks an imported row by the hash of its content.
type ImportRow struct {
	TenantID  string `gorm:"primaryKey"`
	RowHash   string `gorm:"primaryKey"`
	EventID   string
	CreatedAt time.Time
}

// Idempotency remembers the answer to a request sent with an idempotency key.
type Idempotency struct {
	TenantID    string `gorm:"primaryKey"`
	Operation   string `gorm:"primaryKey"`
	Key         string `gorm:"primaryKey"`
	RequestHash string
	Response    []byte
	CreatedAt   time.Time
}

// Table names are fixed by the migrations, not derived by the ORM.

func (Tenant) TableName() string       { return "tenants" }
func (Brand) TableName() string        { return "brands" }
func (Source) TableName() string       { return "sources" }
func (APIKey) TableName() string       { return "api_keys" }
func (ConsentState) TableName() string { return "consent_states" }
func (ConsentEvent) TableName() string { return "consent_events" }
func (ChainHead) TableName() string    { return "chain_heads" }
func (Verification) TableName() string { return "verifications" }
func (Message) TableName() string      { return "messages" }
func (Idempotency) TableName() string  { return "idempotency_keys" }
func (IYSUpload) TableName() string    { return "iys_uploads" }
func (IYSConfig) TableName() string    { return "iys_configs" }
func (IYSCursor) TableName() string    { return "iys_cursors" }
func (ImportRow) TableName() string    { return "import_rows" }
func (ConsentText) TableName() string  { return "consent_texts" }
func (RejectLink) TableName() string   { return "reject_links" }
