// Package consent holds the consent rules: checking, recording and
// rejecting per (tenant, brand, recipient, recipient type, consent type),
// with every change written as a hash-chained event.
package consent

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/idempotency"
	"github.com/izinhq/izin/server/internal/paging"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// Store is what the consent service reads and writes.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error
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

// Confirmer queues the confirmation SMS inside the consent's transaction.
type Confirmer interface {
	QueueConfirmation(ctx context.Context, tx store.Tx, t *store.Tenant, b *store.Brand, to string,
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

// CheckRequest asks for a recipient's consent state.
type CheckRequest struct {
	Recipient     string
	RecipientType store.RecipientType
	Types         []store.ConsentType
	Brand         string
}

// CheckResponse is the answer to a check.
type CheckResponse struct {
	Recipient     string
	RecipientType store.RecipientType
	Brand         string
	Results       []Result
	KVKK          KVKKState
}

// Check answers, per type, GRANTED, REJECTED or NONE: one indexed query.
// On any store error it returns the error; it never guesses.
func (s *Service) Check(ctx context.Context, p auth.Principal, req CheckRequest) (*CheckResponse, error) {
	r, err := parseRecipient(req.Recipient)
	if err != nil {
		return nil, err
	}
	rtype := RecipientType(req.RecipientType)
	types := req.Types
	if len(types) == 0 {
		types = store.AllConsentTypes
	}
	b, err := s.dir.Brand(ctx, p.TenantID, req.Brand)
	if err != nil {
		return nil, err
	}
	states, err := s.store.ConsentStates(ctx, p.TenantID, b.ID, r.Value, rtype)
	if err != nil {
		return nil, errs.Internal(err, "read consent state")
	}
	return &CheckResponse{Recipient: r.Value, RecipientType: rtype, Brand: b.Code,
		Results: results(types, states, rtype), KVKK: kvkkOf(states)}, nil
}

func results(types []store.ConsentType, states []store.ConsentState, rtype store.RecipientType) []Result {
	out := make([]Result, 0, len(types))
	kvkk := kvkkOf(states).Status
	for _, t := range types {
		res := Result{Type: t, Status: store.StatusNone}
		for i := range states {
			if st := &states[i]; st.Type == t {
				ct := st.ConsentTime
				res = Result{Type: t, Status: st.Status, ConsentTime: &ct, SourceID: st.SourceID,
					IYSSource: st.IYSSource, EventID: st.EventID}
			}
		}
		res.KVKK = kvkk
		// TACIR recipients may be messaged until they reject; BIREYSEL
		// recipients only with ONAY.
		res.Allowed = res.Status == store.StatusGranted ||
			(rtype == store.Merchant && res.Status == store.StatusNone)
		out = append(out, res)
	}
	return out
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
			e := errs.Invalid("types", "%s consent does not apply to %s", typeName(t), kindName(r))
			return nil, e.WithReason(errs.ReasonRecipientMismatch)
		}
	}
	return types, nil
}

func typeName(t store.ConsentType) string {
	switch t {
	case store.ConsentSMS:
		return "SMS"
	case store.ConsentCall:
		return "CALL"
	case store.ConsentEmail:
		return "EMAIL"
	case store.ConsentKVKK:
		return "KVKK"
	}
	return strconv.Itoa(int(t))
}

func kindName(r recipient.Recipient) string {
	if r.Kind == recipient.Email {
		return "an e-mail address"
	}
	return "a phone number"
}

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

// Change is one consent decision over several types of one recipient.
type Change struct {
	TenantID      string
	Brand         *store.Brand
	Recipient     string // normalised
	RecipientType store.RecipientType
	Types         []store.ConsentType
	Status        store.ConsentStatus // GRANTED or REJECTED
	ConsentTime   time.Time
	Evidence      Evidence
	// KVKK, when set, also sets the KVKK explicit consent, as an event of
	// its own (see kvkk.go); Types may then be empty.
	KVKK store.KVKKStatus
	// IYS says what İYS is told of the change; the zero value queues it.
	IYS IYSMode
}

// IYSMode is what İYS is told of a change.
type IYSMode int

const (
	// IYSQueue queues the change for upload (changes from İYS itself, with
	// an IYS_* source, are never queued: İYS made them).
	IYSQueue IYSMode = iota
	// IYSRegistered records that İYS already holds the change: it is kept
	// as a skipped upload and never sent.
	IYSRegistered
	// IYSOutsideWindow records that İYS's upload window had closed when the
	// change reached izin (a historic import): skipped, never sent.
	IYSOutsideWindow
	// IYSFromIYS marks a change read from İYS (its export or change
	// files): İYS holds it, so nothing is queued, whatever its source.
	IYSFromIYS
)

// Applied is the outcome of a change.
type Applied struct {
	Events  []store.ConsentEvent
	Results []Result
	KVKK    KVKKState
}

// Apply writes c inside tx: it locks the tenant's chain, applies the state
// machine, appends hash-chained events and updates the current state.
// Granting what is granted, or rejecting what is rejected, writes nothing.
// It is a Batch of one change.
func Apply(ctx context.Context, tx store.Tx, c Change, now time.Time) (*Applied, error) {
	b, err := NewBatch(ctx, tx, c.TenantID, now)
	if err != nil {
		return nil, err
	}
	out, err := b.Apply(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := b.Flush(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// Batch applies many changes of one tenant inside one transaction with the
// rules of Apply: it takes the chain lock once, keeps the current state of
// the recipients it has seen in memory, and writes every event, İYS upload
// and state at Flush in bulk statements. Changes see the ones applied
// before them, in order. A change the rules refuse leaves the batch as it
// was, so the caller can report it and go on with the next one: bulk
// imports need no savepoint per row.
type Batch struct {
	tx       store.Tx
	tenantID string
	now      time.Time
	head     store.ChainHead
	loaded   map[recipientKey]bool
	states   map[stateKey]*store.ConsentState
	events   []*store.ConsentEvent
	dirty    map[stateKey]bool
	// iys holds the IYSMode of events that are not simply queued.
	iys map[string]IYSMode
}

// recipientKey is one recipient of a brand; stateKey one of its consents.
type recipientKey struct {
	brandID   string
	recipient string
}

type stateKey struct {
	recipientKey
	rtype store.RecipientType
	typ   store.ConsentType
}

// NewBatch locks the tenant's event chain for the rest of tx.
func NewBatch(ctx context.Context, tx store.Tx, tenantID string, now time.Time) (*Batch, error) {
	head, err := tx.LockChain(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "lock event chain")
	}
	return &Batch{tx: tx, tenantID: tenantID, now: now.UTC().Truncate(evidence.Precision), head: head,
		loaded: map[recipientKey]bool{}, states: map[stateKey]*store.ConsentState{}, dirty: map[stateKey]bool{},
		iys: map[string]IYSMode{}}, nil
}

// Load reads the current state of recipients of a brand in one query, so
// that applying their changes needs no query each. Recipients already
// loaded are skipped.
func (b *Batch) Load(ctx context.Context, brandID string, recipients []string) error {
	var want []string
	for _, r := range recipients {
		k := recipientKey{brandID, r}
		if !b.loaded[k] {
			b.loaded[k] = true // set now: the same recipient may be listed twice
			want = append(want, r)
		}
	}
	if len(want) == 0 {
		return nil
	}
	states, err := b.tx.ConsentStatesOf(ctx, b.tenantID, brandID, want)
	if err != nil {
		return errs.Internal(err, "read consent states")
	}
	for i := range states {
		st := &states[i]
		b.states[stateKey{recipientKey{brandID, st.Recipient}, st.RecipientType, st.Type}] = st
	}
	return nil
}

// Apply applies c in memory; nothing is written before Flush. On a rule's
// refusal it returns the domain error and changes nothing.
func (b *Batch) Apply(ctx context.Context, c Change) (*Applied, error) {
	if c.TenantID != b.tenantID {
		return nil, errs.Internal(fmt.Errorf("change of tenant %s in a batch of %s", c.TenantID, b.tenantID), "apply consent change")
	}
	rk := recipientKey{c.Brand.ID, c.Recipient}
	if !b.loaded[rk] {
		if err := b.Load(ctx, c.Brand.ID, []string{c.Recipient}); err != nil {
			return nil, err
		}
	}
	key := func(t store.ConsentType) stateKey { return stateKey{rk, c.RecipientType, t} }
	at := c.ConsentTime.UTC().Truncate(evidence.Precision)
	var events []*store.ConsentEvent
	none := 0
	fromIYS := c.IYS == IYSFromIYS || strings.HasPrefix(c.Evidence.IYSSource, "IYS_")
	for _, t := range c.Types {
		cur := b.states[key(t)]
		at := at
		if fromIYS && cur != nil && at.Before(cur.ConsentTime) && at.Equal(cur.ConsentTime.Truncate(time.Second)) {
			// İYS keeps dates to the second: a change made there in the
			// second of izin's record is not older than it, only rounded.
			at = cur.ConsentTime
		}
		switch {
		// A RET that İYS holds is recorded even as a first record: izin
		// then answers what İYS does.
		case cur == nil && c.Status == store.StatusRejected && c.RecipientType == store.Individual && c.IYS != IYSFromIYS:
			none++ // nothing to reject: NONE already forbids messages
			continue
		case cur != nil && cur.Status == c.Status:
			continue
		case cur != nil && at.Before(cur.ConsentTime):
			e := errs.FailedPrecondition(errs.ReasonInvalidConsentTime,
				"consent_time %s is older than the current %s record of %s",
				at.Format(time.RFC3339), typeName(t), cur.ConsentTime.Format(time.RFC3339))
			e.Field = "consent_time"
			return nil, e
		}
		events = append(events, newEvent(c, t, c.Status, store.KVKKUnspecified, at, b.now))
	}
	if c.KVKK != store.KVKKUnspecified {
		write, err := kvkkChanges(b.states[key(store.ConsentKVKK)], c.KVKK, at)
		if err != nil {
			return nil, err
		}
		if write {
			events = append(events, newEvent(c, store.ConsentKVKK, kvkkConsentStatus(c.KVKK), c.KVKK, at, b.now))
		}
	}
	// A KVKK change alone, or beside ETK types without a record, is not
	// a first RET.
	if len(c.Types) > 0 && none == len(c.Types) && c.KVKK == store.KVKKUnspecified {
		return nil, errs.FailedPrecondition(errs.ReasonFirstRecordRejected,
			"%s has no consent record to reject: the first record cannot be a rejection (RET), and without a record no commercial message may be sent anyway", c.Recipient)
	}
	// Past every rule: from here the change is part of the batch.
	b.head = evidence.Link(b.head, events)
	b.events = append(b.events, events...)
	if c.IYS != IYSQueue {
		for _, e := range events {
			b.iys[e.ID] = c.IYS
		}
	}
	for _, e := range events {
		k := key(e.Type)
		b.states[k] = &store.ConsentState{TenantID: c.TenantID, BrandID: c.Brand.ID, Recipient: c.Recipient,
			RecipientType: c.RecipientType, Type: e.Type, Status: e.Status, ConsentTime: e.ConsentTime,
			SourceID: e.SourceID, IYSSource: e.IYSSource, EventID: e.ID, KVKK: e.KVKK, UpdatedAt: b.now}
		b.dirty[k] = true
	}
	var after []store.ConsentState
	for _, t := range stateTypes {
		if st := b.states[key(t)]; st != nil {
			after = append(after, *st)
		}
	}
	out := &Applied{Results: results(c.Types, after, c.RecipientType), KVKK: kvkkOf(after)}
	for _, e := range events {
		out.Events = append(out.Events, *e)
	}
	return out, nil
}

// eventID is a time-ordered (version 7) UUID: events and their İYS uploads
// are inserted at the end of their primary-key indexes instead of at
// random places, which keeps bulk writes to few pages (a random key per
// row dirties a page per row, and every dirty page is written again at
// each commit).
func eventID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Flush writes what the applied changes made: events, their İYS uploads,
// the new states and the chain head. The batch stays usable.
func (b *Batch) Flush(ctx context.Context) error {
	if len(b.events) == 0 {
		return nil
	}
	if err := b.tx.InsertConsentEvents(ctx, b.events); err != nil {
		return errs.Internal(err, "append consent events")
	}
	if err := b.tx.InsertIYSUploads(ctx, uploadsFor(b.events, b.iys, b.now)); err != nil {
		return errs.Internal(err, "queue consent changes for İYS")
	}
	states := make([]*store.ConsentState, 0, len(b.dirty))
	for k := range b.dirty {
		states = append(states, b.states[k])
	}
	if err := b.tx.PutConsentStates(ctx, states); err != nil {
		return errs.Internal(err, "update consent state")
	}
	if err := b.tx.SetChainHead(ctx, b.head); err != nil {
		return errs.Internal(err, "advance event chain")
	}
	b.events, b.dirty, b.iys = nil, map[stateKey]bool{}, map[string]IYSMode{}
	return nil
}

// uploadsFor queues the events for İYS. Changes İYS made are not queued;
// those it holds, or can no longer take, are kept as skipped uploads, so
// that the record says why they were not sent.
func uploadsFor(events []*store.ConsentEvent, modes map[string]IYSMode, now time.Time) []*store.IYSUpload {
	var out []*store.IYSUpload
	for _, e := range events {
		if e.Type == store.ConsentKVKK {
			continue // İYS keeps ETK consents only
		}
		mode := modes[e.ID]
		if mode == IYSFromIYS || strings.HasPrefix(e.IYSSource, "IYS_") {
			continue
		}
		u := &store.IYSUpload{EventID: e.ID, TenantID: e.TenantID, BrandID: e.BrandID,
			Recipient: e.Recipient, RecipientType: e.RecipientType, Type: e.Type, Status: e.Status,
			Source: e.IYSSource, ConsentTime: e.ConsentTime, State: store.IYSPending,
			NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		switch mode {
		case IYSRegistered:
			u.State, u.ErrorCode, u.ErrorMessage = store.IYSSkipped, store.IYSSkipRegistered, "imported as already registered at İYS; not sent"
		case IYSOutsideWindow:
			u.State, u.ErrorCode, u.ErrorMessage = store.IYSSkipped, store.IYSSkipOutsideWindow,
				"imported after İYS's upload window (3 business days) had closed; not sent"
		}
		out = append(out, u)
	}
	return out
}

// ValidateConsentTime applies İYS's date rules; zero means now.
func ValidateConsentTime(t *time.Time, now time.Time) (time.Time, error) {
	if t == nil || t.IsZero() {
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
	t, err := s.dir.Tenant(ctx, p.TenantID)
	if err != nil {
		return none, err
	}
	b, err := s.dir.Brand(ctx, p.TenantID, req.Brand)
	if err != nil {
		return none, err
	}
	if req.SendConfirmation && !r.IsMobile() {
		return none, errs.Invalid("send_confirmation", "a confirmation SMS needs a mobile number")
	}
	ev := EvidenceOf(p)
	ev.OperatorID, ev.Reference = req.OperatorID, req.Reference
	if req.IYSSource != "" {
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

// ListRequest selects consent events.
type ListRequest struct {
	Recipient string
	Brand     string
	PageSize  int
	PageToken string
}

// ListEvents lists a tenant's events, newest first.
func (s *Service) ListEvents(ctx context.Context, p auth.Principal, req ListRequest) ([]store.ConsentEvent, string, error) {
	f := store.EventFilter{TenantID: p.TenantID, Limit: paging.Size(req.PageSize)}
	if req.Recipient != "" {
		r, err := parseRecipient(req.Recipient)
		if err != nil {
			return nil, "", err
		}
		f.Recipient = r.Value
	}
	if req.Brand != "" {
		b, err := s.dir.Brand(ctx, p.TenantID, req.Brand)
		if err != nil {
			return nil, "", err
		}
		f.BrandID = b.ID
	}
	if req.PageToken != "" {
		seq, err := paging.ParseSeqToken(req.PageToken)
		if err != nil {
			return nil, "", err
		}
		f.BeforeSeq = seq
	}
	evs, err := s.store.ListConsentEvents(ctx, f)
	if err != nil {
		return nil, "", errs.Internal(err, "list consent events")
	}
	next := ""
	if len(evs) == f.Limit {
		next = paging.SeqToken(evs[len(evs)-1].Seq)
	}
	return evs, next, nil
}
