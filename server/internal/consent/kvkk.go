package consent

import (
	"context"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/texts"
)

// The KVKK explicit consent (açık rıza) is a state of its own per tenant,
// brand, recipient and recipient type, kept as the consent_states row of
// pseudo type store.ConsentKVKK beside the ETK rows, so that a check reads
// both in its one query, and changed by events of that type in the same
// hash chain, never sent to İYS. An ETK change never touches it: a RET of
// SMS leaves the explicit consent as it was. Its rules:
//   - GRANTED or DECLINED is the customer's newest answer and replaces any
//     other (a customer who leaves the box empty on a later page no longer
//     gives explicit consent); the same answer again changes nothing.
//   - WITHDRAWN applies to GRANTED only; any other state stays.
//   - As for ETK, a change must not be older than the state it replaces.

// KVKKState is a recipient's KVKK explicit consent for a brand; the zero
// value means no choice was ever recorded.
type KVKKState struct {
	Status      store.KVKKStatus
	ConsentTime *time.Time
	EventID     string
	SourceID    *string
}

// stateTypes are the consent_states rows of one recipient and recipient
// type: the ETK types and the KVKK state.
var stateTypes = []store.ConsentType{store.ConsentSMS, store.ConsentCall, store.ConsentEmail, store.ConsentKVKK}

// kvkkOf finds the KVKK state among a recipient's states.
func kvkkOf(states []store.ConsentState) KVKKState {
	for i := range states {
		if st := &states[i]; st.Type == store.ConsentKVKK {
			ct := st.ConsentTime
			return KVKKState{Status: st.KVKK, ConsentTime: &ct, EventID: st.EventID, SourceID: st.SourceID}
		}
	}
	return KVKKState{}
}

// kvkkConsentStatus is the status a KVKK row and event carry: GRANTED
// while explicit consent is given, REJECTED otherwise.
func kvkkConsentStatus(k store.KVKKStatus) store.ConsentStatus {
	if k == store.KVKKGranted {
		return store.StatusGranted
	}
	return store.StatusRejected
}

// kvkkChanges tells whether setting the KVKK state cur to k at time at
// writes an event, by the rules above.
func kvkkChanges(cur *store.ConsentState, k store.KVKKStatus, at time.Time) (bool, error) {
	switch {
	case k == store.KVKKWithdrawn && (cur == nil || cur.KVKK != store.KVKKGranted):
		return false, nil // nothing given, nothing to withdraw
	case cur != nil && cur.KVKK == k:
		return false, nil
	case cur != nil && at.Before(cur.ConsentTime):
		e := errs.FailedPrecondition(errs.ReasonInvalidConsentTime,
			"consent_time %s is older than the current KVKK explicit consent record of %s",
			at.Format(time.RFC3339), cur.ConsentTime.Format(time.RFC3339))
		e.Field = "consent_time"
		return false, e
	}
	return true, nil
}

// newEvent is the event of one part of c: an ETK type with c's status, or
// (typ store.ConsentKVKK) the KVKK state kvkk. Every part carries the whole
// evidence of the change.
func newEvent(c Change, typ store.ConsentType, status store.ConsentStatus, kvkk store.KVKKStatus, at, now time.Time) *store.ConsentEvent {
	ev := c.Evidence
	return &store.ConsentEvent{
		ID: eventID(), BrandID: c.Brand.ID, BrandCode: c.Brand.Code, Recipient: c.Recipient,
		RecipientType: c.RecipientType, Type: typ, Status: status, ConsentTime: at, CreatedAt: now,
		SourceID: ev.SourceID, APIKeyID: ev.APIKeyID, OperatorID: ev.OperatorID,
		VerificationID: ev.VerificationID, Method: ev.Method, MessageIDs: strings.Join(ev.MessageIDs, ","),
		IYSSource: ev.IYSSource, Reference: ev.Reference, IPAddress: ev.IPAddress, UserAgent: ev.UserAgent,
		Texts: strings.Join(ev.Texts, ","), PageViewAt: ev.PageViewAt, PageSubmitAt: ev.PageSubmitAt,
		TickedBoxes: strings.Join(ev.TickedBoxes, ","), KVKK: kvkk,
	}
}

// kvkkRequest checks the KVKK part of a record (status GRANTED) or reject
// call and returns the KVKK state it sets (KVKKUnspecified: none), and
// whether it names no ETK type, so that empty types mean none rather than
// all.
func kvkkRequest(req ChangeRequest, status store.ConsentStatus) (store.KVKKStatus, bool, error) {
	if status != store.StatusGranted {
		if req.WithdrawKVKK {
			return store.KVKKWithdrawn, len(req.Types) == 0, nil
		}
		return store.KVKKUnspecified, false, nil
	}
	switch req.KVKK {
	case store.KVKKUnspecified, store.KVKKGranted, store.KVKKDeclined:
	default:
		return 0, false, errs.Invalid("kvkk", "must be KVKK_STATUS_GRANTED or KVKK_STATUS_DECLINED; withdraw with RejectConsent withdraw_kvkk")
	}
	switch {
	case req.KVKKTextID != "" && req.KVKK == store.KVKKUnspecified:
		return 0, false, errs.Invalid("kvkk_text_id", "names the explicit-consent text of a KVKK choice: give kvkk too")
	case len(req.Types) == 0 && req.KVKK == store.KVKKUnspecified:
		return 0, false, errs.Invalid("types", "give the consent types granted, or kvkk, or both")
	case len(req.Types) == 0 && req.SendConfirmation:
		return 0, false, errs.Invalid("send_confirmation", "the confirmation SMS confirms ETK consent types; none are given")
	}
	return req.KVKK, len(req.Types) == 0, nil
}

// explicitTextRef is the evidence reference of the explicit-consent text
// id of brand b.
func (s *Service) explicitTextRef(ctx context.Context, tenantID string, b *store.Brand, id string) (string, error) {
	ts, err := s.store.ConsentTexts(ctx, tenantID, []string{id})
	if err != nil {
		return "", errs.Internal(err, "read consent text")
	}
	if len(ts) != 1 || ts[0].BrandID != b.ID || ts[0].Kind != store.TextExplicit {
		return "", errs.Invalid("kvkk_text_id", "%s is not an explicit-consent text of brand %s", id, b.Code)
	}
	return texts.Ref(&ts[0]), nil
}
