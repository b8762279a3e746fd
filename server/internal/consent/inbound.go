package consent

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

// InboundSource is the İYS consent source of a consent or rejection the
// customer sent by SMS.
const InboundSource = "HS_MESAJ"

// DefaultInboundTypes is what a keyword reply changes when the brand names
// no types: the consents an SMS reply is about, messages and calls.
var DefaultInboundTypes = []store.ConsentType{store.ConsentSMS, store.ConsentCall}

// Replier queues the SMS that answer a keyword reply, in its transaction.
type Replier interface {
	Confirmer
	QueueRejection(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
		types []store.ConsentType, at time.Time) (string, error)
}

// InboundSMS is an SMS a customer sent to a brand, with the brand's
// settings for keyword replies.
type InboundSMS struct {
	TenantID, BrandID, Provider string
	Message                     sms.Inbound
	// Types is what RET rejects and the opt-in grants; empty means
	// DefaultInboundTypes. OptinKeyword is the brand's own opt-in word
	// (in sms.NormalizeKeyword form), besides EVET.
	Types        []store.ConsentType
	OptinKeyword string
}

// ReceiveSMS keeps an inbound SMS and acts on its keyword, in one
// transaction: RET or IPTAL rejects the sender's consents for the brand
// (or for the brand its second word names), EVET or the brand's keyword
// records a consent, and anything else is kept as unknown for a person to
// read. The message is the evidence of what it caused: its id is the
// events' reference and the hash of its text is in their chain. A
// provider's repeat of a message changes nothing and returns it as stored.
func (s *Service) ReceiveSMS(ctx context.Context, replier Replier, in InboundSMS) (*store.InboundMessage, error) {
	// The change takes effect when izin hears it: providers stamp replies
	// to the second or coarser, which can fall before a consent recorded
	// a moment earlier. The provider's time is kept on the message.
	now := s.now().UTC().Truncate(evidence.Precision)
	at := now
	received := in.Message.At.UTC()
	if received.IsZero() || received.After(now) {
		received = now
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, errs.Internal(err, "inbound message id")
	}
	msg := &store.InboundMessage{ID: id.String(), TenantID: in.TenantID, BrandID: in.BrandID, Provider: in.Provider,
		ProviderMessageID: in.Message.ProviderMessageID, Sender: in.Message.From, Recipient: in.Message.To,
		Body: in.Message.Body, ReceivedAt: received, CreatedAt: now}
	if msg.ProviderMessageID == "" {
		// Without the provider's id a repeat cannot be told from a new
		// message; the content and time stand in for it.
		msg.ProviderMessageID = evidence.TextRef("content", in.Message.From+"\n"+received.Format(time.RFC3339)+"\n"+in.Message.Body)
	}
	keyword, rest := sms.ParseKeyword(in.Message.Body)
	msg.Keyword = keyword
	types := in.Types
	if len(types) == 0 {
		types = DefaultInboundTypes
	}
	err = s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertInboundMessage(ctx, msg); err != nil {
			return err
		}
		if err := s.actOnKeyword(ctx, tx, replier, in, msg, keyword, rest, types, at); err != nil {
			return err
		}
		return tx.UpdateInboundMessage(ctx, msg)
	})
	if errors.Is(err, store.ErrConflict) {
		return msg, nil // a repeat: the first delivery acted
	}
	if err != nil {
		return nil, errs.Wrap(err, "receive SMS")
	}
	return msg, nil
}

func (s *Service) actOnKeyword(ctx context.Context, tx store.Tx, replier Replier, in InboundSMS, msg *store.InboundMessage,
	keyword string, rest []string, types []store.ConsentType, at time.Time) error {
	var status store.ConsentStatus
	switch {
	case keyword == sms.KeywordRET || keyword == sms.KeywordIPTAL:
		status = store.StatusRejected
	case keyword == sms.KeywordEVET || (in.OptinKeyword != "" && keyword == in.OptinKeyword):
		status = store.StatusGranted
	default:
		msg.Action, msg.Detail = store.InboundUnknown, "not a keyword izin acts on"
		return nil
	}
	r, err := recipient.Parse(in.Message.From)
	if err != nil || !r.IsMobile() {
		msg.Action, msg.Detail = store.InboundIgnored, "the sender is not a Turkish mobile number"
		return nil
	}
	msg.Sender = r.Value
	t, err := s.dir.Tenant(ctx, in.TenantID)
	if err != nil {
		return err
	}
	b, err := s.brandNamed(ctx, in, rest)
	if err != nil {
		return err
	}
	ev := Evidence{IYSSource: InboundSource, Reference: "inbound_sms:" + msg.ID, Texts: []string{evidence.TextRef("inbound_sms", msg.Body)}}
	var events []store.ConsentEvent
	for _, rtype := range []store.RecipientType{store.Individual, store.Merchant} {
		if rtype == store.Merchant {
			// An opt-in is the person's, recorded as individual. A RET
			// reaches a merchant's (TACIR) consents only where the number
			// has some: for merchants a first RET is a record of its own,
			// and who sent it is not known to be one.
			if status == store.StatusGranted {
				break
			}
			states, err := tx.ConsentStates(ctx, in.TenantID, b.ID, r.Value, store.Merchant)
			if err != nil {
				return errs.Internal(err, "read merchant consents")
			}
			if len(states) == 0 {
				break
			}
		}
		applied, err := Apply(ctx, tx, Change{TenantID: in.TenantID, Brand: b, Recipient: r.Value, RecipientType: rtype,
			Types: types, Status: status, ConsentTime: at, Evidence: ev}, s.now())
		var de *errs.Error
		if errors.As(err, &de) && de.Reason == errs.ReasonFirstRecordRejected {
			continue // nothing of this recipient type to reject
		}
		if err != nil {
			return err
		}
		events = append(events, applied.Events...)
	}
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	msg.EventIDs = strings.Join(ids, ",")
	if len(events) == 0 {
		msg.Action, msg.Detail = store.InboundIgnored, "nothing changed: no consent to reject, or already so"
		return nil
	}
	// The reply's answer names what changed, and an opt-in's carries the
	// route to reject again.
	changed := changedTypes(events)
	if status == store.StatusRejected {
		msg.Action = store.InboundRejected
		_, err = replier.QueueRejection(ctx, tx, t, b, r.Value, changed, at)
	} else {
		msg.Action = store.InboundOptedIn
		_, err = replier.QueueConfirmation(ctx, tx, t, b, r.Value, store.Individual, nil, changed, at)
	}
	return err
}

// brandNamed is the brand a reply names after its keyword ("RET ACME"),
// by code or sender title; a reply naming none, or a word that is no
// brand of the tenant, is for the brand whose number it was sent to.
func (s *Service) brandNamed(ctx context.Context, in InboundSMS, rest []string) (*store.Brand, error) {
	own, err := s.dir.BrandByID(ctx, in.TenantID, in.BrandID)
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 || sms.NormalizeKeyword(own.Code) == rest[0] || sms.NormalizeKeyword(own.Sender) == rest[0] {
		return own, nil
	}
	if b, err := s.dir.Brand(ctx, in.TenantID, rest[0]); err == nil {
		return b, nil
	}
	return own, nil
}

func changedTypes(events []store.ConsentEvent) []store.ConsentType {
	var out []store.ConsentType
	for _, e := range events {
		if e.Type != 0 && !slices.Contains(out, e.Type) {
			out = append(out, e.Type)
		}
	}
	slices.Sort(out)
	return out
}
