package store

import (
	"context"
	"time"
)

// The store is described by role interfaces, one per domain. A consumer
// names the roles it uses (or declares a smaller interface of its own);
// Tx and Store compose them all and are what every backend implements and
// the store test suite runs against.

// ChainTx writes consent: the tenant's hash chain, the states it
// leads to and the İYS uploads they queue.
type ChainTx interface {
	// LockChain locks the tenant's event chain for the rest of the
	// transaction and returns its head. Every consent write takes it first,
	// so the consent state of a tenant changes one writer at a time.
	LockChain(ctx context.Context, tenantID string) (ChainHead, error)
	SetChainHead(ctx context.Context, head ChainHead) error
	ConsentStates(ctx context.Context, tenantID, brandID, recipient string, rtype RecipientType) ([]ConsentState, error)

	// ConsentStatesOf reads the current states of many recipients of a
	// brand in one query (every recipient type and consent type), for
	// writers that apply changes in bulk.
	ConsentStatesOf(ctx context.Context, tenantID, brandID string, recipients []string) ([]ConsentState, error)

	// PutConsentStates upserts many states in bulk; no two may share a key.
	PutConsentStates(ctx context.Context, states []*ConsentState) error
	InsertConsentEvents(ctx context.Context, events []*ConsentEvent) error

	// InsertIYSUploads queues uploads and marks each consent's oldest open
	// upload as its head. The caller holds the tenant's chain lock, which
	// orders it with the worker handing heads on.
	InsertIYSUploads(ctx context.Context, uploads []*IYSUpload) error
}

// ImportTx remembers which rows of historic files were imported.
type ImportTx interface {
	// ImportedRows tells which of the row hashes were imported before.
	ImportedRows(ctx context.Context, tenantID string, hashes []string) (map[string]bool, error)

	// InsertImportRows marks rows as imported; ErrConflict if one already is.
	InsertImportRows(ctx context.Context, rows []*ImportRow) error
}

// VerificationTx writes verifications, locking the one it changes.
type VerificationTx interface {
	InsertVerification(ctx context.Context, v *Verification) error

	// LockVerification reads a verification of the tenant and locks it for
	// the rest of the transaction.
	LockVerification(ctx context.Context, tenantID, id string) (*Verification, error)
	UpdateVerification(ctx context.Context, v *Verification) error

	// CountRecentStarts counts the verifications started since a time by
	// a source (sourceID set) or else by an API key.
	CountRecentStarts(ctx context.Context, tenantID string, sourceID *string, keyID string, since time.Time) (int64, error)

	// LockLandingVerification reads the verification of a consent-page token
	// and locks it for the rest of the transaction.
	LockLandingVerification(ctx context.Context, tokenHash string) (*Verification, error)
	VerificationSweepTx
}

// MessageTx queues outbox messages in the transaction that causes them.
type MessageTx interface {
	InsertMessage(ctx context.Context, m *Message) error
	// SMSProviderOf names the provider that sends a brand's SMS now:
	// its enabled configuration's, else "sandbox".
	SMSProviderOf(ctx context.Context, tenantID, brandID string) (string, error)
	MessagesOfVerification(ctx context.Context, tenantID, verificationID string) ([]Message, error)

	// LockSendLimits locks the tenant's limit rows named by keys (made on
	// first use) for the rest of the transaction, in key order, so that a
	// limit counted after it counts every send committed before and none
	// committed meanwhile.
	LockSendLimits(ctx context.Context, tenantID string, keys []string) error
	// CountSends counts the tenant's messages created since a time (to a
	// recipient, a number block, or all), for the send limits.
	CountSends(ctx context.Context, c SendCount) (int64, error)
}

// IdempotencyTx stores an answer with the write it answers for.
type IdempotencyTx interface {
	// PutIdempotency stores an answer; ErrConflict if the key exists.
	PutIdempotency(ctx context.Context, rec *Idempotency) error
}

// IYSCursorTx moves a brand's İYS pull cursor.
type IYSCursorTx interface {
	// LockIYSCursor reads a brand's İYS pull cursor and locks it for the
	// rest of the transaction, creating an empty one if there is none.
	LockIYSCursor(ctx context.Context, tenantID, brandID string, now time.Time) (*IYSCursor, error)

	// PutIYSCursor writes a cursor read with LockIYSCursor.
	PutIYSCursor(ctx context.Context, c *IYSCursor) error
}

// RejectLinkTx writes the one-click rejection links of confirmations.
type RejectLinkTx interface {
	InsertRejectLink(ctx context.Context, l *RejectLink) error

	// MarkRejectLinkUsed records the first use of a link; later uses keep it.
	MarkRejectLinkUsed(ctx context.Context, tokenHash string, at time.Time) error
}

// OutboxTx is what queueing a message writes: the message and, for a
// confirmation, its rejection link.
type OutboxTx interface {
	MessageTx
	RejectLinkTx
}

// Tx is the part of the store used inside a transaction: every Tx role.
type Tx interface {
	ChainTx
	ImportTx
	VerificationTx
	MessageTx
	IdempotencyTx
	IYSCursorTx
	RejectLinkTx
	DeliveryTx
	NotificationTx
	WebhookTx
}

// Transactor opens transactions.
type Transactor interface {
	// InTx runs fn in one transaction; fn's error rolls it back.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// TenantStore keeps tenants.
type TenantStore interface {
	CreateTenant(ctx context.Context, t *Tenant, b *Brand) error
	GetTenant(ctx context.Context, id string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
}

// BrandStore keeps a tenant's brands.
type BrandStore interface {
	CreateBrand(ctx context.Context, b *Brand) error
	ListBrands(ctx context.Context, tenantID string) ([]Brand, error)

	// UpdateBrand writes b's name, sender and reject route over the brand
	// of b.TenantID with b.ID; its code, default flag and creation time
	// never change. A brand of another tenant is ErrNotFound.
	UpdateBrand(ctx context.Context, b *Brand) error
}

// KeyStore keeps sources (channels) and their API keys.
type KeyStore interface {
	CreateSource(ctx context.Context, s *Source, k *APIKey) error
	GetSource(ctx context.Context, tenantID, id string) (*Source, error)
	ListSources(ctx context.Context, tenantID string) ([]Source, error)
	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) (*APIKey, error)
}

// ConsentReader reads consent states and the event chain.
type ConsentReader interface {
	// ConsentStates is the check path: one indexed query for all types.
	ConsentStates(ctx context.Context, tenantID, brandID, recipient string, rtype RecipientType) ([]ConsentState, error)
	ListConsentEvents(ctx context.Context, f EventFilter) ([]ConsentEvent, error)

	// WalkConsentEvents calls fn for every event of the tenant in chain order.
	WalkConsentEvents(ctx context.Context, tenantID string, fn func(*ConsentEvent) error) error

	// ConsentEventsAfter lists up to limit events of the tenant with Seq >
	// afterSeq, in chain order. A tenant's events commit in Seq order (the
	// chain lock is held to the commit), so a reader that pages from the
	// last Seq it saw never misses a committed event.
	ConsentEventsAfter(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]ConsentEvent, error)
}

// ConsentCommits tells this process's watchers that consent events were
// committed.
type ConsentCommits interface {
	// OnConsentCommit sets fn, called after each transaction that appended
	// consent events has committed, once per tenant it appended to. fn runs
	// on the committing goroutine and must not block. Transactions of
	// other processes are not seen.
	OnConsentCommit(fn func(tenantID string))
}

// VerificationReader reads verifications outside a transaction.
type VerificationReader interface {
	GetVerification(ctx context.Context, tenantID, id string) (*Verification, error)

	// VerificationByLandingToken finds the verification of a consent-page
	// token, whatever its tenant: the token itself is the authorisation.
	VerificationByLandingToken(ctx context.Context, tokenHash string) (*Verification, error)
}

// MessageStore reads the outbox and leases it to the sender.
type MessageStore interface {
	ListMessages(ctx context.Context, f MessageFilter) ([]Message, error)
	MessagesOfVerification(ctx context.Context, tenantID, verificationID string) ([]Message, error)
	// ClaimMessages leases up to limit due messages to the caller until
	// leaseUntil; a crashed worker's lease runs out and another takes over.
	ClaimMessages(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Message, error)

	// FinishMessage stores the outcome of a send attempt; a message that
	// failed for good is announced (NotifyMessageFailed) in its transaction.
	FinishMessage(ctx context.Context, m *Message) error

	// ProviderMessageIDs lists the provider ids of the tenant's messages
	// to a recipient created since a time (for lookups by number).
	ProviderMessageIDs(ctx context.Context, tenantID, recipient string, since time.Time) ([]string, error)
}

// IdempotencyReader finds a stored answer to replay.
type IdempotencyReader interface {
	GetIdempotency(ctx context.Context, tenantID, op, key string) (*Idempotency, error)
}

// IYSConfigStore keeps brands' İYS configurations and pull cursors.
type IYSConfigStore interface {
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
}

// IYSQueue is the upload queue to İYS: leased, finished, reported.
type IYSQueue interface {
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
	// open upload, and each it refuses writes an iys.refused notification.
	// It returns how many rows changed.
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
}

// TextStore keeps versioned consent texts.
type TextStore interface {
	// CreateConsentText publishes t as the next version of its brand, kind
	// and language, setting t.Version. Two concurrent publishers may meet
	// ErrConflict; one of them wins.
	CreateConsentText(ctx context.Context, t *ConsentText) error
	ListConsentTexts(ctx context.Context, f ConsentTextFilter) ([]ConsentText, error)

	// ConsentTexts returns the texts of the tenant with these ids; unknown
	// ids are left out.
	ConsentTexts(ctx context.Context, tenantID string, ids []string) ([]ConsentText, error)
}

// RejectLinkReader finds a rejection link by its token.
type RejectLinkReader interface {
	// RejectLinkByToken finds a rejection link, whatever its tenant.
	RejectLinkByToken(ctx context.Context, tokenHash string) (*RejectLink, error)
}

// Store is everything izin keeps: every role, and Close.
type Store interface {
	Transactor
	TenantStore
	BrandStore
	KeyStore
	ConsentReader
	ConsentCommits
	VerificationReader
	MessageStore
	IdempotencyReader
	IYSConfigStore
	IYSQueue
	TextStore
	RejectLinkReader
	SMSConfigStore
	DeliveryStore
	WebhookStore

	Close() error
}
