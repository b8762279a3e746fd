package consent

import (
	"context"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/paging"
	"github.com/izinhq/izin/server/internal/store"
)

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
