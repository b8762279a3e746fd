// Package consent holds the consent rules: checking, recording and
// rejecting per (tenant, brand, recipient, recipient type, consent type),
// with every change written as a hash-chained event.
package consent

import (
	"context"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/idempotency"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// Store is what the consent service reads and writes.
type Store interface {
	store.Transactor
	ConsentStates(ctx context.Context, tenantID, brandID, recipient string, rtype store.RecipientType) ([]store.ConsentState, error)
	ListConsentEvents(ctx context.Context, f store.EventFilter) ([]store.ConsentEvent, error)
	ConsentTexts(ctx context.Context, tenantID string, ids []string) ([]store.ConsentText, error)
	RejectLinkByToken(ctx context.Context, tokenHash string) (*store.RejectLink, error)
	idempotency.Reader
}

// Directory resolves tenants and brands (cached).
type Directory interface {
	Tenant(ctx context.Context, tenantID string) (*store.Tenant, error)
	Brand(ctx context.Context, tenantID, code string) (*store.Brand, error)
	BrandByID(ctx context.Context, tenantID, id string) (*store.Brand, error)
}

// TenantAndBrand resolves a request's tenant and brand (by code; "" for
// the tenant's default brand).
func TenantAndBrand(ctx context.Context, d Directory, tenantID, brand string) (*store.Tenant, *store.Brand, error) {
	t, err := d.Tenant(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	b, err := d.Brand(ctx, tenantID, brand)
	if err != nil {
		return nil, nil, err
	}
	return t, b, nil
}

// Confirmer queues the confirmation SMS inside the consent's transaction.
type Confirmer interface {
	QueueConfirmation(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
		rtype store.RecipientType, verificationID *string, types []store.ConsentType, at time.Time) (messageID string, err error)
}

// Service implements the consent flows.
type Service struct {
	store   Store
	dir     Directory
	confirm Confirmer
	now     func() time.Time
}

// New returns a consent service.
func New(s Store, d Directory, c Confirmer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: s, dir: d, confirm: c, now: now}
}

// Earliest is the first consent date İYS accepts.
var Earliest = time.Date(2015, 5, 1, 0, 0, 0, 0, time.FixedZone("TRT", 3*3600))

// clockSkew is how far in the future a client's consent time may be, for
// clients whose clocks run a little ahead.
const clockSkew = time.Minute

// Result is the state of one consent type.
type Result struct {
	Type        store.ConsentType
	Status      store.ConsentStatus
	Allowed     bool
	ConsentTime *time.Time
	SourceID    *string
	IYSSource   string
	EventID     string
	// KVKK is the recipient's KVKK explicit consent, the same in every
	// result: a state of its own, not of this type.
	KVKK store.KVKKStatus
}

func parseRecipient(raw string) (recipient.Recipient, error) {
	r, err := recipient.Parse(raw)
	if err != nil {
		return r, errs.Invalid("recipient", "%v", err)
	}
	return r, nil
}

// RecipientType defaults an unset recipient type to BIREYSEL.
func RecipientType(t store.RecipientType) store.RecipientType {
	if t == store.Merchant {
		return store.Merchant
	}
	return store.Individual
}

// TypesFor checks that types fit the recipient: SMS and calls go to phone
// numbers, e-mail to addresses. Empty types mean all that fit.
func TypesFor(r recipient.Recipient, types []store.ConsentType) ([]store.ConsentType, error) {
	if len(types) == 0 {
		if r.Kind == recipient.Email {
			return []store.ConsentType{store.ConsentEmail}, nil
		}
		return []store.ConsentType{store.ConsentSMS, store.ConsentCall}, nil
	}
	for _, t := range types {
		if (t == store.ConsentEmail) != (r.Kind == recipient.Email) {
			e := errs.Invalid("types", "%s consent does not apply to %s", t, kindName(r))
			return nil, e.WithReason(errs.ReasonRecipientMismatch)
		}
	}
	return types, nil
}

func kindName(r recipient.Recipient) string {
	if r.Kind == recipient.Email {
		return "an e-mail address"
	}
	return "a phone number"
}
