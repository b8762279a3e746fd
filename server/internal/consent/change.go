package consent

import (
	"context"
	"regexp"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/idempotency"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// Evidence is who, how and with what a change was made.
type Evidence struct {
	SourceID       *string
	APIKeyID       *string
	OperatorID     string
	VerificationID *string
	Method         store.VerificationMethod
	MessageIDs     []string
	IYSSource      string
	Reference      string
	IPAddress      string
	UserAgent      string
	Texts          []string
	// The consent page (landing-page method only).
	PageViewAt   *time.Time
	PageSubmitAt *time.Time
	TickedBoxes  []string
}

// EvidenceOf is the evidence a principal's call carries by itself.
func EvidenceOf(p auth.Principal) Evidence {
	key := p.KeyID
	return Evidence{SourceID: p.SourceID, APIKeyID: &key, IYSSource: IYSSourceFor(p.SourceType)}
}

// IYSSourceFor is the İYS consent source code for a kind of channel.
func IYSSourceFor(t store.SourceType) string {
	switch t {
	case store.SourceEcommerce:
		return "HS_WEB"
	case store.SourceMobileApp:
		return "HS_MOBIL"
	case store.SourceCallCenter:
		return "HS_CAGRI_MERKEZI"
	case store.SourceKiosk, store.SourceStore:
		return "HS_FIZIKSEL_ORTAM"
	default:
		return "HS_EORTAM"
	}
}

// ValidateConsentTime applies İYS's date rules; zero means now.
func ValidateConsentTime(t *time.Time, now time.Time) (time.Time, error) {
	if t == nil { // unset means now; an explicit zero time is refused below
		return now, nil
	}
	switch {
	case t.Before(Earliest):
		e := errs.Invalid("consent_time", "must not be before 2015-05-01 (İYS keeps no earlier consents)")
		return time.Time{}, e.WithReason(errs.ReasonInvalidConsentTime)
	case t.After(now.Add(clockSkew)):
		e := errs.Invalid("consent_time", "must not be in the future")
		return time.Time{}, e.WithReason(errs.ReasonInvalidConsentTime)
	}
	return *t, nil
}

// iysSourceRE is the form of İYS's own sources (IYS_MOBIL, IYS_WEB, …).
var iysSourceRE = regexp.MustCompile(`^IYS_[A-Z0-9_]+$`)

// KnownSource tells a company's İYS source (HS_*), or one of İYS's own
// (IYS_*: a change the citizen made at İYS, recorded and not sent back).
func KnownSource(code string) bool {
	return iys.Source(code).Uploadable() || iysSourceRE.MatchString(code)
}

// ChangeRequest is a RecordConsent or RejectConsent call.
type ChangeRequest struct {
	Recipient        string
	RecipientType    store.RecipientType
	Types            []store.ConsentType
	Brand            string
	ConsentTime      *time.Time
	IYSSource        string
	OperatorID       string
	Reference        string
	IdempotencyKey   string
	SendConfirmation bool
	// Record: the KVKK choice to record and the explicit-consent text shown
	// (kvkk.go). Reject: WithdrawKVKK. Empty, they leave the request hash of
	// calls without them as it was.
	KVKK         store.KVKKStatus `json:",omitempty"`
	KVKKTextID   string           `json:",omitempty"`
	WithdrawKVKK bool             `json:",omitempty"`
}

// ChangeResponse is the outcome of a record or reject call.
type ChangeResponse struct {
	Recipient string
	Events    []store.ConsentEvent
	Results   []Result
	KVKK      KVKKState
}

// Record records a consent (ONAY) reported by a source.
func (s *Service) Record(ctx context.Context, p auth.Principal, req ChangeRequest) (*ChangeResponse, error) {
	return s.change(ctx, p, req, store.StatusGranted, "RecordConsent")
}

// Reject records a rejection (RET); the next check sees it.
func (s *Service) Reject(ctx context.Context, p auth.Principal, req ChangeRequest) (*ChangeResponse, error) {
	req.SendConfirmation = false
	return s.change(ctx, p, req, store.StatusRejected, "RejectConsent")
}

func (s *Service) change(ctx context.Context, p auth.Principal, req ChangeRequest, status store.ConsentStatus, op string) (*ChangeResponse, error) {
	k := idempotency.NewKey(p.TenantID, op, req.IdempotencyKey, req)
	return idempotency.Do(ctx, s.store, k, func(ctx context.Context) (idempotency.Work[*ChangeResponse], error) {
		return s.prepareChange(ctx, p, req, status)
	})
}

// prepareChange checks a change request and returns its transaction.
func (s *Service) prepareChange(ctx context.Context, p auth.Principal, req ChangeRequest, status store.ConsentStatus) (idempotency.Work[*ChangeResponse], error) {
	var none idempotency.Work[*ChangeResponse]
	r, err := parseRecipient(req.Recipient)
	if err != nil {
		return none, err
	}
	kvkk, noTypes, err := kvkkRequest(req, status)
	if err != nil {
		return none, err
	}
	var types []store.ConsentType
	if !noTypes {
		if types, err = TypesFor(r, req.Types); err != nil {
			return none, err
		}
	}
	now := s.now()
	at, err := ValidateConsentTime(req.ConsentTime, now)
	if err != nil {
		return none, err
	}
	t, b, err := TenantAndBrand(ctx, s.dir, p.TenantID, req.Brand)
	if err != nil {
		return none, err
	}
	if req.SendConfirmation && !r.IsMobile() {
		return none, errs.Invalid("send_confirmation", "a confirmation SMS needs a mobile number")
	}
	ev := EvidenceOf(p)
	ev.OperatorID, ev.Reference = req.OperatorID, req.Reference
	if req.IYSSource != "" {
		if !KnownSource(req.IYSSource) {
			return none, errs.Invalid("iys_source", "%q is not an İYS consent source (HS_WEB, HS_ISLAK_IMZA, HS_CAGRI_MERKEZI, …, or IYS_*)", req.IYSSource)
		}
		ev.IYSSource = req.IYSSource
	}
	if req.KVKKTextID != "" {
		ref, err := s.explicitTextRef(ctx, p.TenantID, b, req.KVKKTextID)
		if err != nil {
			return none, err
		}
		ev.Texts = append(ev.Texts, ref)
	}
	c := Change{TenantID: p.TenantID, Brand: b, Recipient: r.Value, RecipientType: RecipientType(req.RecipientType),
		Types: types, Status: status, ConsentTime: at, Evidence: ev, KVKK: kvkk}
	run := func(ctx context.Context, tx store.Tx) (*ChangeResponse, error) {
		if req.SendConfirmation && s.confirm != nil {
			id, err := s.confirm.QueueConfirmation(ctx, tx, t, b, r.Value, c.RecipientType, nil, types, at)
			if err != nil {
				return nil, err
			}
			c.Evidence.MessageIDs = []string{id}
		}
		applied, err := Apply(ctx, tx, c, now)
		if err != nil {
			return nil, err
		}
		return &ChangeResponse{Recipient: r.Value, Events: applied.Events, Results: applied.Results, KVKK: applied.KVKK}, nil
	}
	return idempotency.Work[*ChangeResponse]{Run: run, At: now, What: "record consent change"}, nil
}
