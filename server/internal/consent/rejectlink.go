package consent

import (
	"context"
	"errors"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/linktoken"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// RejectPage is what the rejection page shows.
type RejectPage struct {
	Company         string // tenant name
	Mersis          string
	BrandName       string
	MaskedRecipient string
	Types           []store.ConsentType
	// Rejected is set once the link was used (by this request or before).
	Rejected   bool
	RejectedAt *time.Time
}

// RejectLinkSource is the İYS consent source of a rejection made on izin's
// rejection page: the company's own web page.
const RejectLinkSource = "HS_WEB"

// OpenRejectLink shows what a rejection link would reject. errs NotFound
// for an unknown or malformed token.
func (s *Service) OpenRejectLink(ctx context.Context, token string) (*RejectPage, error) {
	l, err := s.rejectLink(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.rejectPage(ctx, l)
}

// RejectByLink rejects (RET) the consents the link's confirmation SMS
// confirmed, with the client as evidence. Using a link again is not an
// error: the page says it was done.
func (s *Service) RejectByLink(ctx context.Context, token string, c evidence.Client) (*RejectPage, error) {
	l, err := s.rejectLink(ctx, token)
	if err != nil {
		return nil, err
	}
	if l.UsedAt != nil {
		return s.rejectPage(ctx, l)
	}
	b, err := s.dir.BrandByID(ctx, l.TenantID, l.BrandID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(evidence.Precision)
	c = c.Clean()
	ev := Evidence{MessageIDs: []string{l.MessageID}, IYSSource: RejectLinkSource, Reference: "reject_link",
		IPAddress: c.IP, UserAgent: c.UserAgent}
	err = s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := Apply(ctx, tx, Change{TenantID: l.TenantID, Brand: b, Recipient: l.Recipient, RecipientType: l.RecipientType,
			Types: store.SplitTypes(l.Types), Status: store.StatusRejected, ConsentTime: now, Evidence: ev}, now)
		// Nothing to reject (no consent was ever recorded for these types,
		// or İYS already removed it) still leaves the customer where they
		// asked to be.
		var de *errs.Error
		if errors.As(err, &de) && de.Reason == errs.ReasonFirstRecordRejected {
			err = nil
		}
		if err != nil {
			return err
		}
		return tx.MarkRejectLinkUsed(ctx, l.TokenHash, now)
	})
	if err != nil {
		return nil, errs.Wrap(err, "reject by link")
	}
	if l.UsedAt == nil {
		l.UsedAt = &now
	}
	return s.rejectPage(ctx, l)
}

func (s *Service) rejectLink(ctx context.Context, token string) (*store.RejectLink, error) {
	if !linktoken.Valid(token) {
		return nil, errs.NotFound("no such rejection link")
	}
	l, err := s.store.RejectLinkByToken(ctx, linktoken.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errs.NotFound("no such rejection link")
	}
	if err != nil {
		return nil, errs.Internal(err, "load rejection link")
	}
	return l, nil
}

func (s *Service) rejectPage(ctx context.Context, l *store.RejectLink) (*RejectPage, error) {
	t, err := s.dir.Tenant(ctx, l.TenantID)
	if err != nil {
		return nil, err
	}
	b, err := s.dir.BrandByID(ctx, l.TenantID, l.BrandID)
	if err != nil {
		return nil, err
	}
	p := &RejectPage{Company: t.Name, Mersis: t.Mersis, BrandName: b.Name, Types: store.SplitTypes(l.Types),
		Rejected: l.UsedAt != nil, RejectedAt: l.UsedAt}
	if r, err := recipient.Parse(l.Recipient); err == nil {
		p.MaskedRecipient = r.Masked()
	}
	return p, nil
}
