// Package store defines what izin keeps and the interfaces of its storage.
// The records here are plain structs; the gorm implementation lives in
// store/sqlstore and serves both SQLite and PostgreSQL.
package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrNotFound is returned when a record does not exist for the tenant
	// that asked, so another tenant's records are indistinguishable from
	// missing ones.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a unique key already exists.
	ErrConflict = errors.New("store: already exists")
)

// The enums below use the numbers of their izin.v1 proto counterparts, so
// conversion at the API edge is a cast.

// ConsentType is MESAJ, ARAMA or EPOSTA.
type ConsentType int16

const (
	ConsentSMS   ConsentType = 1
	ConsentCall  ConsentType = 2
	ConsentEmail ConsentType = 3
)

// AllConsentTypes is the order results are given in when no type is asked.
var AllConsentTypes = []ConsentType{ConsentSMS, ConsentCall, ConsentEmail}

// ConsentKVKK is not an ETK type: it is the pseudo type under which a
// recipient's KVKK explicit consent is kept, as a consent_states row (its
// KVKK column holds the status) and as consent events in the same hash
// chain. Keeping it beside the ETK rows lets the check path read both in
// its one indexed query; no İYS upload is ever made for it. The API shows
// it as CONSENT_TYPE_UNSPECIFIED with the kvkk field set.
const ConsentKVKK ConsentType = 100

// ConsentStatus is ONAY, RET or no record.
type ConsentStatus int16

const (
	StatusGranted  ConsentStatus = 1
	StatusRejected ConsentStatus = 2
	StatusNone     ConsentStatus = 3
)

// RecipientType is BIREYSEL or TACIR.
type RecipientType int16

const (
	Individual RecipientType = 1
	Merchant   RecipientType = 2
)

// VerificationMethod is SMS code or landing page.
type VerificationMethod int16

const (
	MethodNone        VerificationMethod = 0
	MethodSMSCode     VerificationMethod = 1
	MethodLandingPage VerificationMethod = 2
)

// VerificationStatus is the life cycle of a verification.
type VerificationStatus int16

const (
	VerificationPending   VerificationStatus = 1
	VerificationVerified  VerificationStatus = 2
	VerificationExpired   VerificationStatus = 3
	VerificationFailed    VerificationStatus = 4
	VerificationCancelled VerificationStatus = 5
)

// SourceType is the kind of channel.
type SourceType int16

const (
	SourceEcommerce  SourceType = 1
	SourceKiosk      SourceType = 2
	SourceMobileApp  SourceType = 3
	SourceCRM        SourceType = 4
	SourceERP        SourceType = 5
	SourceCallCenter SourceType = 6
	SourceStore      SourceType = 7
	SourceOther      SourceType = 8
)

// Scope is what an API key may do; a higher scope includes the lower ones.
type Scope int16

const (
	ScopeCheck Scope = 1
	ScopeWrite Scope = 2
	ScopeAdmin Scope = 3
)

// MessageStatus is the delivery state of an outbox message.
type MessageStatus int16

const (
	MessageQueued MessageStatus = 1
	MessageSent   MessageStatus = 2
	MessageFailed MessageStatus = 3
)

// MessageKind says why a message was sent.
type MessageKind int16

const (
	KindActivation   MessageKind = 1
	KindConfirmation MessageKind = 2
	KindLandingLink  MessageKind = 3
)

// KVKKStatus is the customer's KVKK explicit consent (açık rıza), asked on
// the consent page separately from the ETK consent.
type KVKKStatus int16

const (
	KVKKUnspecified KVKKStatus = 0 // not asked
	KVKKGranted     KVKKStatus = 1
	KVKKDeclined    KVKKStatus = 2
	KVKKWithdrawn   KVKKStatus = 3 // granted before, then withdrawn
)

// TextKind is which legal text a ConsentText holds.
type TextKind int16

const (
	TextETK      TextKind = 1 // ETK consent statement
	TextPrivacy  TextKind = 2 // KVKK privacy notice (aydınlatma metni)
	TextExplicit TextKind = 3 // KVKK explicit consent (açık rıza)
)

// TextKinds are the kinds the consent page shows, in page order.
var TextKinds = []TextKind{TextETK, TextPrivacy, TextExplicit}

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

// ConsentTextFilter selects consent texts.
type ConsentTextFilter struct {
	TenantID string
	BrandID  string // optional
	// AllVersions lists every version; otherwise only the newest of each
	// brand, kind and language.
	AllVersions bool
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
}

// IYSUploadState is where an event stands on its way to İYS.
type IYSUploadState int16

const (
	IYSPending   IYSUploadState = 1 // waiting to be sent
	IYSSubmitted IYSUploadState = 2 // in a bulk request whose result is awaited
	IYSAccepted  IYSUploadState = 3 // İYS stored it
	IYSRefused   IYSUploadState = 4 // İYS refused it for a rule; ErrorCode says which
	// IYSSkipped is never sent: İYS holds it already, or its upload window
	// had closed when it was imported. ErrorCode is IYSSkipRegistered or
	// IYSSkipOutsideWindow.
	IYSSkipped IYSUploadState = 5
)

// Why an upload was skipped.
const (
	IYSSkipRegistered    = "ALREADY_REGISTERED"
	IYSSkipOutsideWindow = "OUTSIDE_WINDOW"
)

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

// EventFilter selects consent events, newest first.
type EventFilter struct {
	TenantID  string
	BrandID   string // optional
	Recipient string // optional, normalised
	BeforeSeq int64  // optional, for paging: only events with Seq < BeforeSeq
	Limit     int
}

// MessageFilter selects messages, newest first.
type MessageFilter struct {
	TenantID  string
	Recipient string // optional, normalised
	BeforeID  string // optional, for paging (ids are time-ordered)
	Limit     int
}

// SendCount counts messages created since a time, for send limits. Exactly
// one of Recipient, Prefix or neither (the whole tenant) is set.
type SendCount struct {
	TenantID  string
	Recipient string
	Prefix    string
	Since     time.Time
}

// IYSUploadFilter selects İYS uploads of a tenant, oldest consent first
// (nearest deadline first), then by event id.
type IYSUploadFilter struct {
	TenantID string
	BrandID  string         // optional
	State    IYSUploadState // optional; 0 means every state
	// After, for paging: only uploads after this (consent time, event id).
	AfterTime    time.Time
	AfterEventID string
	Limit        int
}

// IYSBrandSummary counts a brand's uploads for the İYS status.
type IYSBrandSummary struct {
	BrandID string
	// Counts per state.
	Pending, Submitted, Accepted, Refused, Skipped int64
	// OldestOpen is the consent time of the oldest upload still on its way
	// (pending or submitted), if any.
	OldestOpen *time.Time
	// Near counts open uploads given at or after OverdueBefore and before
	// NearBefore; Overdue those given before OverdueBefore.
	Near, Overdue int64
}

// IYSSummaryQuery asks for the per-brand upload counts of a tenant. The
// deadline thresholds are consent times: the caller derives them from the
// business-day calendar.
type IYSSummaryQuery struct {
	TenantID      string
	NearBefore    time.Time
	OverdueBefore time.Time
}

// Tx is the part of the store used inside a transaction.
type Tx interface {
	// LockChain locks the tenant's event chain for the rest of the
	// transaction and returns its head. Every consent write takes it first,
	// so the consent state of a tenant changes one writer at a time.
	LockChain(ctx context.Context, tenantID string) (ChainHead, error)
	SetChainHead(ctx context.Context, head ChainHead) error
	ConsentStates(ctx context.Context, tenantID, brandID, recipient string, rtype RecipientType) ([]ConsentState, error)
	PutConsentState(ctx context.Context, s *ConsentState) error
	InsertConsentEvents(ctx context.Context, events []*ConsentEvent) error
	// InsertIYSUploads queues uploads and marks each consent's oldest open
	// upload as its head. The caller holds the tenant's chain lock, which
	// orders it with the worker handing heads on.
	InsertIYSUploads(ctx context.Context, uploads []*IYSUpload) error
	// ConsentStatesOf reads the current states of many recipients of a
	// brand in one query (every recipient type and consent type), for
	// writers that apply changes in bulk.
	ConsentStatesOf(ctx context.Context, tenantID, brandID string, recipients []string) ([]ConsentState, error)
	// PutConsentStates upserts many states in bulk; no two may share a key.
	PutConsentStates(ctx context.Context, states []*ConsentState) error

	// ImportedRows tells which of the row hashes were imported before.
	ImportedRows(ctx context.Context, tenantID string, hashes []string) (map[string]bool, error)
	// InsertImportRows marks rows as imported; ErrConflict if one already is.
	InsertImportRows(ctx context.Context, rows []*ImportRow) error

	InsertVerification(ctx context.Context, v *Verification) error
	// LockVerification reads a verification of the tenant and locks it for
	// the rest of the transaction.
	LockVerification(ctx context.Context, tenantID, id string) (*Verification, error)
	UpdateVerification(ctx context.Context, v *Verification) error

	InsertMessage(ctx context.Context, m *Message) error
	MessagesOfVerification(ctx context.Context, tenantID, verificationID string) ([]Message, error)

	// PutIdempotency stores an answer; ErrConflict if the key exists.
	PutIdempotency(ctx context.Context, rec *Idempotency) error

	// LockIYSCursor reads a brand's İYS pull cursor and locks it for the
	// rest of the transaction, creating an empty one if there is none.
	LockIYSCursor(ctx context.Context, tenantID, brandID string, now time.Time) (*IYSCursor, error)
	// PutIYSCursor writes a cursor read with LockIYSCursor.
	PutIYSCursor(ctx context.Context, c *IYSCursor) error

	InsertRejectLink(ctx context.Context, l *RejectLink) error
	// MarkRejectLinkUsed records the first use of a link; later uses keep it.
	MarkRejectLinkUsed(ctx context.Context, tokenHash string, at time.Time) error
	// LockLandingVerification reads the verification of a consent-page token
	// and locks it for the rest of the transaction.
	LockLandingVerification(ctx context.Context, tokenHash string) (*Verification, error)
}

// Store is everything izin keeps. Consumers declare the smaller interfaces
// they need; this one is what every backend implements and what the store
// test suite runs against.
type Store interface {
	// InTx runs fn in one transaction; fn's error rolls it back.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error

	CreateTenant(ctx context.Context, t *Tenant, b *Brand) error
	GetTenant(ctx context.Context, id string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)

	CreateBrand(ctx context.Context, b *Brand) error
	ListBrands(ctx context.Context, tenantID string) ([]Brand, error)
	// UpdateBrand writes b's name, sender and reject route over the brand
	// of b.TenantID with b.ID; its code, default flag and creation time
	// never change. A brand of another tenant is ErrNotFound.
	UpdateBrand(ctx context.Context, b *Brand) error

	CreateSource(ctx context.Context, s *Source, k *APIKey) error
	GetSource(ctx context.Context, tenantID, id string) (*Source, error)
	ListSources(ctx context.Context, tenantID string) ([]Source, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) (*APIKey, error)

	// ConsentStates is the check path: one indexed query for all types.
	ConsentStates(ctx context.Context, tenantID, brandID, recipient string, rtype RecipientType) ([]ConsentState, error)
	ListConsentEvents(ctx context.Context, f EventFilter) ([]ConsentEvent, error)
	// WalkConsentEvents calls fn for every event of the tenant in chain order.
	WalkConsentEvents(ctx context.Context, tenantID string, fn func(*ConsentEvent) error) error

	GetVerification(ctx context.Context, tenantID, id string) (*Verification, error)
	CountRecentVerifications(ctx context.Context, tenantID, sourceID string, since time.Time) (int64, error)

	ListMessages(ctx context.Context, f MessageFilter) ([]Message, error)
	MessagesOfVerification(ctx context.Context, tenantID, verificationID string) ([]Message, error)
	CountSends(ctx context.Context, c SendCount) (int64, error)
	// ClaimMessages leases up to limit due messages to the caller until
	// leaseUntil; a crashed worker's lease runs out and another takes over.
	ClaimMessages(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Message, error)
	// FinishMessage stores the outcome of a send attempt.
	FinishMessage(ctx context.Context, m *Message) error

	GetIdempotency(ctx context.Context, tenantID, op, key string) (*Idempotency, error)

	// PutIYSConfig creates or replaces a brand's İYS configuration. A
	// configuration of the same brand id under another tenant is
	// ErrNotFound.
	PutIYSConfig(ctx context.Context, c *IYSConfig) error
	GetIYSConfig(ctx context.Context, tenantID, brandID string) (*IYSConfig, error)
	// ListIYSConfigs lists a tenant's configurations; an empty tenantID
	// lists every tenant's (for the workers and operators).
	ListIYSConfigs(ctx context.Context, tenantID string) ([]IYSConfig, error)
	// ListIYSCursors lists a tenant's pull cursors.
	ListIYSCursors(ctx context.Context, tenantID string) ([]IYSCursor, error)

	// ClaimIYSUploads leases up to limit due pending uploads of a brand,
	// oldest consent first, until leaseUntil, and counts an attempt for
	// each. An upload is not due while an earlier upload of the same
	// recipient, recipient type and type is pending or submitted, so İYS
	// receives the changes of one consent in order. Its cost depends on
	// limit, not on the size of the queue: it reads only heads.
	ClaimIYSUploads(ctx context.Context, tenantID, brandID string, now, leaseUntil time.Time, limit int) ([]IYSUpload, error)
	// FinishIYSUploads stores new states of uploads and releases their
	// leases, in one transaction. Only rows still in state from (and, for
	// IYSSubmitted, still in request requestID) change, so a late or
	// repeated writer cannot overwrite a newer outcome. An upload that
	// closes (accepted or refused) hands its consent's head to the next
	// open upload. It returns how many rows changed.
	FinishIYSUploads(ctx context.Context, ups []IYSUpload, from IYSUploadState, requestID string) (int64, error)
	// SubmittedIYSRequests lists the ids of a brand's bulk requests that
	// have uploads submitted at or before before, oldest first.
	SubmittedIYSRequests(ctx context.Context, tenantID, brandID string, before time.Time, limit int) ([]string, error)
	// IYSUploadsOfRequest lists every upload sent in a bulk request, in the
	// order they were sent (consent time, event id).
	IYSUploadsOfRequest(ctx context.Context, tenantID, requestID string) ([]IYSUpload, error)
	ListIYSUploads(ctx context.Context, f IYSUploadFilter) ([]IYSUpload, error)
	// PreviousConsentTimes returns, for each event id, the consent time of
	// the event before it of the same brand, recipient, recipient type and
	// type; events without one are absent.
	PreviousConsentTimes(ctx context.Context, tenantID string, eventIDs []string) (map[string]time.Time, error)
	IYSUploadSummary(ctx context.Context, q IYSSummaryQuery) ([]IYSBrandSummary, error)

	// CreateConsentText publishes t as the next version of its brand, kind
	// and language, setting t.Version. Two concurrent publishers may meet
	// ErrConflict; one of them wins.
	CreateConsentText(ctx context.Context, t *ConsentText) error
	ListConsentTexts(ctx context.Context, f ConsentTextFilter) ([]ConsentText, error)
	// ConsentTexts returns the texts of the tenant with these ids; unknown
	// ids are left out.
	ConsentTexts(ctx context.Context, tenantID string, ids []string) ([]ConsentText, error)

	// VerificationByLandingToken finds the verification of a consent-page
	// token, whatever its tenant: the token itself is the authorisation.
	VerificationByLandingToken(ctx context.Context, tokenHash string) (*Verification, error)
	// RejectLinkByToken finds a rejection link, whatever its tenant.
	RejectLinkByToken(ctx context.Context, tokenHash string) (*RejectLink, error)

	Close() error
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

// JoinTypes is the column form of a list of consent types: their numbers,
// comma-separated, in order.
func JoinTypes(types []ConsentType) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = strconv.Itoa(int(t))
	}
	return strings.Join(parts, ",")
}

// SplitTypes reads the column form written by JoinTypes.
func SplitTypes(s string) []ConsentType {
	var out []ConsentType
	for _, p := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(p); err == nil {
			out = append(out, ConsentType(n))
		}
	}
	return out
}
