package consent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/store"
)

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
func Apply(ctx context.Context, tx store.ChainTx, c Change, now time.Time) (*Applied, error) {
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
	tx       store.ChainTx
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
func NewBatch(ctx context.Context, tx store.ChainTx, tenantID string, now time.Time) (*Batch, error) {
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
				at.Format(time.RFC3339), t, cur.ConsentTime.Format(time.RFC3339))
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
