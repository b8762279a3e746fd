// Package evidence hash-chains consent events per tenant, so that a changed,
// removed or reordered event shows when the chain is verified.
package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

// Precision is the resolution at which times are stored and hashed:
// PostgreSQL keeps microseconds, so hashing finer would not survive a reload.
const Precision = time.Microsecond

// Hash returns the hex SHA-256 of e's canonical form, which includes its
// sequence number and the previous hash.
func Hash(e *store.ConsentEvent) string {
	sum := sha256.Sum256([]byte(canonical(e)))
	return hex.EncodeToString(sum[:])
}

// canonical is a line-per-field rendering; field order and names are part
// of the chain format and never change. Version 2 adds the consent-page
// fields after those of version 1; an event without them keeps the
// version 1 form, so chains written before version 2 still verify.
func canonical(e *store.ConsentEvent) string {
	var b strings.Builder
	field := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(v))
		b.WriteByte('\n')
	}
	ptr := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	ts := func(t time.Time) string { return t.UTC().Truncate(Precision).Format(time.RFC3339Nano) }
	pageFields := e.PageViewAt != nil || e.PageSubmitAt != nil || e.TickedBoxes != "" || e.KVKK != store.KVKKUnspecified
	if pageFields {
		field("v", "2")
	} else {
		field("v", "1")
	}
	field("id", e.ID)
	field("tenant", e.TenantID)
	field("seq", strconv.FormatInt(e.Seq, 10))
	field("prev", e.PrevHash)
	field("brand", e.BrandID)
	field("brand_code", e.BrandCode)
	field("recipient", e.Recipient)
	field("recipient_type", strconv.Itoa(int(e.RecipientType)))
	field("type", strconv.Itoa(int(e.Type)))
	field("status", strconv.Itoa(int(e.Status)))
	field("consent_time", ts(e.ConsentTime))
	field("create_time", ts(e.CreatedAt))
	field("source", ptr(e.SourceID))
	field("api_key", ptr(e.APIKeyID))
	field("operator", e.OperatorID)
	field("verification", ptr(e.VerificationID))
	field("method", strconv.Itoa(int(e.Method)))
	field("messages", e.MessageIDs)
	field("iys_source", e.IYSSource)
	field("reference", e.Reference)
	field("ip", e.IPAddress)
	field("user_agent", e.UserAgent)
	field("texts", e.Texts)
	if pageFields {
		optTS := func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return ts(*t)
		}
		field("page_view", optTS(e.PageViewAt))
		field("page_submit", optTS(e.PageSubmitAt))
		field("boxes", e.TickedBoxes)
		field("kvkk", strconv.Itoa(int(e.KVKK)))
	}
	return b.String()
}

// Link appends events to the chain whose head is h: it sets each event's
// sequence, previous hash and hash, and returns the new head.
func Link(h store.ChainHead, events []*store.ConsentEvent) store.ChainHead {
	for _, e := range events {
		h.Seq++
		e.Seq = h.Seq
		e.TenantID = h.TenantID
		e.PrevHash = h.Hash
		e.Hash = Hash(e)
		h.Hash = e.Hash
	}
	return h
}

// Break describes the first place where a chain does not verify.
type Break struct {
	Seq     int64
	EventID string
	Problem string
}

func (b *Break) Error() string {
	return fmt.Sprintf("chain broken at sequence %d (event %s): %s", b.Seq, b.EventID, b.Problem)
}

// Verifier checks events fed in chain order.
type Verifier struct {
	prevSeq  int64
	prevHash string
	Count    int64
}

// Next checks one event; it returns a *Break at the first problem.
func (v *Verifier) Next(e *store.ConsentEvent) error {
	switch {
	case e.Seq != v.prevSeq+1:
		return &Break{Seq: e.Seq, EventID: e.ID, Problem: fmt.Sprintf("expected sequence %d: an event is missing", v.prevSeq+1)}
	case e.PrevHash != v.prevHash:
		return &Break{Seq: e.Seq, EventID: e.ID, Problem: "previous hash does not match the event before it"}
	case Hash(e) != e.Hash:
		return &Break{Seq: e.Seq, EventID: e.ID, Problem: "content does not match its hash: the event was changed"}
	}
	v.prevSeq, v.prevHash = e.Seq, e.Hash
	v.Count++
	return nil
}

// End checks that the chain ends where its head says.
func (v *Verifier) End(h store.ChainHead) error {
	if h.Seq != v.prevSeq || h.Hash != v.prevHash {
		return &Break{Seq: v.prevSeq + 1, Problem: fmt.Sprintf("chain head says %d events, found %d: events were removed", h.Seq, v.prevSeq)}
	}
	return nil
}
