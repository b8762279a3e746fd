// Package verify runs the SMS-code flow: it sends an activation code, checks
// the code the source submits, and on success records the consent and
// queues the confirmation SMS, all in one transaction.
package verify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/idempotency"
	"github.com/izinhq/izin/server/internal/linktoken"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// Store is what verifications read and write.
type Store interface {
	store.Transactor
	GetVerification(ctx context.Context, tenantID, id string) (*store.Verification, error)
	MessagesOfVerification(ctx context.Context, tenantID, verificationID string) ([]store.Message, error)
	ListConsentTexts(ctx context.Context, f store.ConsentTextFilter) ([]store.ConsentText, error)
	ConsentTexts(ctx context.Context, tenantID string, ids []string) ([]store.ConsentText, error)
	VerificationByLandingToken(ctx context.Context, tokenHash string) (*store.Verification, error)
	GetSource(ctx context.Context, tenantID, id string) (*store.Source, error)
	idempotency.Reader
}

// Directory resolves tenants and brands.
type Directory interface {
	consent.Directory
}

// Messenger queues SMS inside a transaction.
type Messenger interface {
	QueueActivation(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
		verificationID string, code string, types []store.ConsentType) (id, textRef string, err error)
	QueueLandingLink(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
		verificationID, token string, types []store.ConsentType) (id string, err error)
	LandingURL(token string) string
	consent.Confirmer
	Wake()
}

// Service runs verifications.
type Service struct {
	store  Store
	dir    Directory
	msg    Messenger
	secret []byte
	now    func() time.Time

	// LandingTTL is how long a consent-page link works until the page is
	// sent.
	LandingTTL time.Duration
}

// DefaultLandingTTL is how long a consent-page link works by default.
const DefaultLandingTTL = time.Hour

// New returns a verification service. secret keys the code hashes, so a
// copy of the database alone does not reveal codes.
func New(s Store, d Directory, m Messenger, secret []byte, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: notifying{s}, dir: d, msg: m, secret: secret, now: now, LandingTTL: DefaultLandingTTL}
}

// View is a verification as clients see it.
type View struct {
	store.Verification
	Types        []store.ConsentType
	AttemptsLeft int
	MessageIDs   []string
	BrandCode    string
	// LandingURL is the consent-page link; only the answer that created the
	// link has it, since izin keeps the link's token only as a hash.
	LandingURL string
	// SMSStatus and SMSError are the delivery of the newest SMS that asks
	// the customer (code or page link): when it failed, the channel
	// resends or turns to the other method. Zero when not read.
	SMSStatus store.MessageStatus
	SMSError  string
}

// StartRequest starts a verification.
type StartRequest struct {
	Recipient      string
	RecipientType  store.RecipientType
	Types          []store.ConsentType
	Method         store.VerificationMethod
	Brand          string
	FirstName      string
	LastName       string
	OperatorID     string
	IdempotencyKey string
}

const opStart = "StartVerification"

// Start checks the send limits, then writes the verification and its
// activation SMS in one transaction.
func (s *Service) Start(ctx context.Context, p auth.Principal, req StartRequest) (*View, error) {
	k := idempotency.NewKey(p.TenantID, opStart, req.IdempotencyKey, req)
	out, err := idempotency.Do(ctx, s.store, k, func(ctx context.Context) (idempotency.Work[*View], error) {
		return s.prepareStart(ctx, p, req)
	})
	if err != nil {
		return nil, err
	}
	s.msg.Wake()
	return out, nil
}

// prepareStart checks a start request and returns its transaction.
func (s *Service) prepareStart(ctx context.Context, p auth.Principal, req StartRequest) (idempotency.Work[*View], error) {
	var none idempotency.Work[*View]
	if req.Method != store.MethodSMSCode && req.Method != store.MethodLandingPage {
		return none, errs.Invalid("method", "must be VERIFICATION_METHOD_SMS_CODE or VERIFICATION_METHOD_LANDING_PAGE")
	}
	r, err := recipient.Parse(req.Recipient)
	if err != nil {
		return none, errs.Invalid("recipient", "%v", err)
	}
	if !r.IsMobile() {
		return none, errs.Invalid("recipient", "verification by SMS needs a Turkish mobile number (+905…), got %s", r.Value).
			WithReason(errs.ReasonRecipientMismatch)
	}
	types, err := consent.TypesFor(r, req.Types)
	if err != nil {
		return none, err
	}
	t, b, err := consent.TenantAndBrand(ctx, s.dir, p.TenantID, req.Brand)
	if err != nil {
		return none, err
	}
	now := s.now().UTC().Truncate(evidence.Precision)
	key := p.KeyID
	v := &store.Verification{ID: uuid.NewString(), TenantID: t.ID, BrandID: b.ID, SourceID: p.SourceID, APIKeyID: &key,
		OperatorID: req.OperatorID, Recipient: r.Value, RecipientType: consent.RecipientType(req.RecipientType),
		Types: store.JoinTypes(types), Method: req.Method, Status: store.VerificationPending,
		MaxAttempts: t.MaxAttempts, LastSentAt: now, FirstName: req.FirstName, LastName: req.LastName,
		CreatedAt: now, UpdatedAt: now}
	// The SMS-code method sends the code now; the landing-page method sends
	// a link, and the code once the customer has sent the page.
	var code, token string
	if req.Method == store.MethodSMSCode {
		if code, err = newCode(t.CodeLength); err != nil {
			return none, errs.Internal(err, "generate code")
		}
		v.CodeHash, v.Sends = s.hashCode(v.ID, code), 1
		v.ExpireAt = now.Add(time.Duration(t.CodeTTLSeconds) * time.Second)
	} else {
		if v.LandingTexts, err = s.landingTexts(ctx, t.ID, b); err != nil {
			return none, err
		}
		if token, v.LandingTokenHash, err = linktoken.New(); err != nil {
			return none, errs.Internal(err, "generate link token")
		}
		v.ExpireAt, v.Sends = now.Add(s.LandingTTL), 1
	}
	run := func(ctx context.Context, tx store.Tx) (*View, error) {
		if err := limitStarts(ctx, tx, t, p, now); err != nil {
			return nil, err
		}
		var id string
		var err error
		if code != "" {
			id, v.TextRef, err = s.msg.QueueActivation(ctx, tx, t, b, r.Value, v.ID, code, types)
		} else {
			id, err = s.msg.QueueLandingLink(ctx, tx, t, b, r.Value, v.ID, token, types)
		}
		if err != nil {
			return nil, err
		}
		if err := tx.InsertVerification(ctx, v); err != nil {
			return nil, errs.Internal(err, "store verification")
		}
		out := s.view(v, b.Code, []string{id}, now)
		if token != "" {
			out.LandingURL = s.msg.LandingURL(token)
		}
		return out, nil
	}
	return idempotency.Work[*View]{Run: run, At: now, What: "start verification"}, nil
}

// limitStarts bounds the verifications a source (or a key without one:
// an admin key, a backend's) starts a minute, in the transaction that
// starts one, after locking the limit's row, so that parallel starts count
// one after the other.
func limitStarts(ctx context.Context, tx store.Tx, t *store.Tenant, p auth.Principal, now time.Time) error {
	if t.MaxStartsPerSourceMinute <= 0 {
		return nil
	}
	who, what := "starts:key:"+p.KeyID, "this API key"
	if p.SourceID != nil {
		who, what = "starts:source:"+*p.SourceID, "this source"
	}
	if err := tx.LockSendLimits(ctx, t.ID, []string{who}); err != nil {
		return errs.Internal(err, "lock start limit")
	}
	n, err := tx.CountRecentStarts(ctx, t.ID, p.SourceID, p.KeyID, now.Add(-time.Minute))
	if err != nil {
		return errs.Internal(err, "count verifications")
	}
	if n >= int64(t.MaxStartsPerSourceMinute) {
		return errs.RateLimited(time.Minute, "%s started %d verifications in the last minute (limit %d)", what, n, t.MaxStartsPerSourceMinute)
	}
	return nil
}

// Get returns a verification of the principal's tenant.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (*View, error) {
	v, err := s.store.GetVerification(ctx, p.TenantID, id)
	if err != nil {
		return nil, notFound(err, id)
	}
	return s.load(ctx, v)
}

func (s *Service) load(ctx context.Context, v *store.Verification) (*View, error) {
	msgs, err := s.store.MessagesOfVerification(ctx, v.TenantID, v.ID)
	if err != nil {
		return nil, errs.Internal(err, "list verification messages")
	}
	ids := make([]string, len(msgs))
	for i := range msgs {
		ids[i] = msgs[i].ID
	}
	code := ""
	if b, err := s.dir.BrandByID(ctx, v.TenantID, v.BrandID); err == nil {
		code = b.Code
	}
	out := s.view(v, code, ids, s.now())
	for i := len(msgs) - 1; i >= 0; i-- {
		if k := msgs[i].Kind; k == store.KindActivation || k == store.KindLandingLink {
			out.SMSStatus = msgs[i].Status
			if msgs[i].Status == store.MessageFailed || msgs[i].Status == store.MessageExpired {
				out.SMSError = msgs[i].LastError
			}
			break
		}
	}
	return out, nil
}

// SubmitResult is a verified verification and the consent it recorded.
type SubmitResult struct {
	View    *View
	Results []consent.Result
	Events  []store.ConsentEvent
	KVKK    consent.KVKKState
}

// outcome carries a state change that must be committed even though the
// call then fails (a wrong code still uses up an attempt).
type outcome struct{ err error }

// Submit checks code. A wrong code uses up an attempt atomically (the row is
// locked); the right one records the consent and queues the confirmation.
func (s *Service) Submit(ctx context.Context, p auth.Principal, id, code string) (*SubmitResult, error) {
	var res *SubmitResult
	var failed outcome
	now := s.now().UTC().Truncate(evidence.Precision)
	pre, t, b, err := s.owner(ctx, p, id)
	if err != nil {
		return nil, err
	}
	// Published texts never change, so they are read before the
	// transaction.
	shown, err := s.shownTexts(ctx, pre)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		v, err := tx.LockVerification(ctx, p.TenantID, id)
		if err != nil {
			return notFound(err, id)
		}
		if err := s.pending(v, now); err != nil {
			if v.Status == store.VerificationExpired {
				failed.err = err
				return tx.UpdateVerification(ctx, v)
			}
			return err
		}
		if v.Method == store.MethodLandingPage && v.PageSubmittedAt == nil {
			return errs.FailedPrecondition(errs.ReasonPageNotSubmitted,
				"the customer has not sent the consent page yet, so no code was sent")
		}
		if !hmac.Equal([]byte(s.hashCode(v.ID, code)), []byte(v.CodeHash)) {
			v.Attempts++
			v.UpdatedAt = now
			left := v.MaxAttempts - v.Attempts
			if left <= 0 {
				v.Status = store.VerificationFailed
				failed.err = errs.FailedPrecondition(errs.ReasonTooManyAttempts,
					"wrong code; %d wrong codes used up the verification, start a new one", v.Attempts)
			} else {
				e := errs.Invalid("code", "wrong code; %d attempt(s) left", left).WithReason(errs.ReasonInvalidCode)
				failed.err = e.With("attempts_left", strconv.Itoa(left))
			}
			return tx.UpdateVerification(ctx, v)
		}
		r, err := s.verified(ctx, tx, p, v, t, b, shown, now)
		res = r
		return err
	})
	if err != nil {
		return nil, errs.Wrap(err, "submit code")
	}
	if failed.err != nil {
		return nil, failed.err
	}
	s.msg.Wake()
	return res, nil
}

func (s *Service) verified(ctx context.Context, tx store.Tx, p auth.Principal, v *store.Verification,
	t *store.Tenant, b *store.Brand, shown []string, now time.Time) (*SubmitResult, error) {
	types := store.SplitTypes(v.Types)
	// The messages so far (activation, resends) are read before the
	// confirmation is queued: this transaction sees its own insert, so a
	// later read would list the confirmation twice.
	msgIDs, err := messageIDs(ctx, tx, v)
	if err != nil {
		return nil, err
	}
	confID, err := s.msg.QueueConfirmation(ctx, tx, t, b, v.Recipient, v.RecipientType, &v.ID, types, now)
	if err != nil {
		return nil, err
	}
	msgIDs = append(msgIDs, confID)
	ev := consent.EvidenceOf(p)
	if v.SourceID != nil {
		ev.SourceID = v.SourceID
	}
	ev.OperatorID, ev.VerificationID, ev.Method, ev.MessageIDs = v.OperatorID, &v.ID, v.Method, msgIDs
	if v.TextRef != "" {
		ev.Texts = []string{v.TextRef}
	}
	var kvkk store.KVKKStatus
	if v.Method == store.MethodLandingPage {
		// The KVKK choice made on the page (GRANTED or DECLINED) becomes
		// the recipient's KVKK state, by an event with the same evidence.
		kvkk = v.KVKK
		ev.Texts = append(ev.Texts, shown...)
		ev.IPAddress, ev.UserAgent = v.IPAddress, v.UserAgent
		ev.PageViewAt, ev.PageSubmitAt = v.PageViewedAt, v.PageSubmittedAt
		if v.TickedBoxes != "" {
			ev.TickedBoxes = strings.Split(v.TickedBoxes, ",")
		}
	}
	applied, err := consent.Apply(ctx, tx, consent.Change{TenantID: v.TenantID, Brand: b, Recipient: v.Recipient,
		RecipientType: v.RecipientType, Types: types, Status: store.StatusGranted, ConsentTime: now, Evidence: ev, KVKK: kvkk}, now)
	if err != nil {
		return nil, err
	}
	v.Status, v.VerifiedAt, v.UpdatedAt = store.VerificationVerified, &now, now
	if err := tx.UpdateVerification(ctx, v); err != nil {
		return nil, errs.Internal(err, "update verification")
	}
	return &SubmitResult{View: s.view(v, b.Code, msgIDs, now), Results: applied.Results, Events: applied.Events,
		KVKK: applied.KVKK}, nil
}

// owner resolves the tenant and brand of a verification before its
// transaction starts: inside it only the transaction's own connection is
// used, so a transaction never waits for a second pooled connection.
func (s *Service) owner(ctx context.Context, p auth.Principal, id string) (*store.Verification, *store.Tenant, *store.Brand, error) {
	v, err := s.store.GetVerification(ctx, p.TenantID, id)
	if err != nil {
		return nil, nil, nil, notFound(err, id)
	}
	t, err := s.dir.Tenant(ctx, v.TenantID)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := s.dir.BrandByID(ctx, v.TenantID, v.BrandID)
	if err != nil {
		return nil, nil, nil, err
	}
	return v, t, b, nil
}

func messageIDs(ctx context.Context, tx store.MessageTx, v *store.Verification) ([]string, error) {
	msgs, err := tx.MessagesOfVerification(ctx, v.TenantID, v.ID)
	if err != nil {
		return nil, errs.Internal(err, "list verification messages")
	}
	ids := make([]string, 0, len(msgs)+1)
	for i := range msgs {
		ids = append(ids, msgs[i].ID)
	}
	return ids, nil
}

// Resend sends a new code; the old one stops working.
func (s *Service) Resend(ctx context.Context, p auth.Principal, id string) (*View, error) {
	now := s.now().UTC().Truncate(evidence.Precision)
	_, t, b, err := s.owner(ctx, p, id)
	if err != nil {
		return nil, err
	}
	// The send limits are the outbox's: it counts them in the transaction
	// that queues the SMS.
	var out *View
	var landingURL string
	err = s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		v, err := tx.LockVerification(ctx, p.TenantID, id)
		if err != nil {
			return notFound(err, id)
		}
		if v.Status != store.VerificationPending && v.Status != store.VerificationExpired {
			return closed(v)
		}
		if v.Sends >= t.MaxSendsPerVerification {
			return errs.RateLimited(time.Hour, "this verification already sent %d codes (limit %d); start a new one later", v.Sends, t.MaxSendsPerVerification)
		}
		if wait := v.LastSentAt.Add(time.Duration(t.ResendIntervalSeconds) * time.Second).Sub(now); wait > 0 {
			return errs.RateLimited(wait, "a code was sent %s ago; resend allowed in %s",
				now.Sub(v.LastSentAt).Round(time.Second), wait.Round(time.Second))
		}
		// Wrong codes count per verification, not per code: a resend does
		// not give the guesser new attempts.
		v.Status, v.Sends, v.LastSentAt, v.UpdatedAt = store.VerificationPending, v.Sends+1, now, now
		if v.Method == store.MethodLandingPage && v.PageSubmittedAt == nil {
			// Before the page is sent there is no code: the customer gets a
			// fresh link, and the old one stops working.
			token, hash, err := linktoken.New()
			if err != nil {
				return errs.Internal(err, "generate link token")
			}
			v.LandingTokenHash, v.ExpireAt = hash, now.Add(s.LandingTTL)
			if _, err := s.msg.QueueLandingLink(ctx, tx, t, b, v.Recipient, v.ID, token, store.SplitTypes(v.Types)); err != nil {
				return err
			}
			landingURL = s.msg.LandingURL(token)
		} else {
			code, err := newCode(t.CodeLength)
			if err != nil {
				return errs.Internal(err, "generate code")
			}
			v.CodeHash = s.hashCode(v.ID, code)
			v.ExpireAt = now.Add(time.Duration(t.CodeTTLSeconds) * time.Second)
			if _, v.TextRef, err = s.msg.QueueActivation(ctx, tx, t, b, v.Recipient, v.ID, code, store.SplitTypes(v.Types)); err != nil {
				return err
			}
		}
		if err := tx.UpdateVerification(ctx, v); err != nil {
			return errs.Internal(err, "update verification")
		}
		out = &View{Verification: *v}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(err, "resend code")
	}
	s.msg.Wake()
	view, err := s.load(ctx, &out.Verification)
	if err != nil {
		return nil, err
	}
	view.LandingURL = landingURL
	return view, nil
}

// Cancel stops a pending verification; cancelling twice is not an error.
func (s *Service) Cancel(ctx context.Context, p auth.Principal, id string) (*View, error) {
	now := s.now().UTC().Truncate(evidence.Precision)
	var v *store.Verification
	err := s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if v, err = tx.LockVerification(ctx, p.TenantID, id); err != nil {
			return notFound(err, id)
		}
		switch v.Status {
		case store.VerificationCancelled:
			return nil
		case store.VerificationPending:
			v.Status, v.UpdatedAt = store.VerificationCancelled, now
			return tx.UpdateVerification(ctx, v)
		}
		return closed(v)
	})
	if err != nil {
		return nil, errs.Wrap(err, "cancel verification")
	}
	return s.load(ctx, v)
}

// pending fails unless v can take a code now; it marks v expired when its
// time ran out.
func (s *Service) pending(v *store.Verification, now time.Time) error {
	if v.Status == store.VerificationPending && !now.Before(v.ExpireAt) {
		v.Status, v.UpdatedAt = store.VerificationExpired, now
	}
	if v.Status == store.VerificationExpired {
		return errs.FailedPrecondition(errs.ReasonVerificationExpired,
			"the code expired at %s; ask for a new one with ResendCode or start again", v.ExpireAt.Format(time.RFC3339))
	}
	if v.Status != store.VerificationPending {
		return closed(v)
	}
	return nil
}

func closed(v *store.Verification) error {
	return errs.FailedPrecondition(errs.ReasonVerificationClosed, "the verification is %s, not pending", v.Status).
		With("status", v.Status.String())
}

func notFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errs.NotFound("verification %s not found", id)
	}
	return errs.Internal(err, "load verification")
}

func (s *Service) view(v *store.Verification, brandCode string, msgIDs []string, now time.Time) *View {
	out := &View{Verification: *v, Types: store.SplitTypes(v.Types), MessageIDs: msgIDs, BrandCode: brandCode}
	if out.Status == store.VerificationPending && !now.Before(v.ExpireAt) {
		out.Status = store.VerificationExpired
	}
	if out.Status == store.VerificationPending {
		out.AttemptsLeft = v.MaxAttempts - v.Attempts
	}
	out.CodeHash = ""
	return out
}

// hashCode binds the code to its verification, so equal codes of two
// verifications hash differently.
func (s *Service) hashCode(id, code string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

func newCode(digits int) (string, error) {
	if digits < 4 || digits > 10 {
		digits = 6
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", digits, n), nil
}
