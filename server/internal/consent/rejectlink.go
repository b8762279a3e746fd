package consent

import (
	"context"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
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

// OpenRejectLink shows what a rejection link would reject. errs NotFound
// for an unknown or malformed token.
func (s *Service) OpenRejectLink(ctx context.Context, token string) (*RejectPage, error) {
	return nil, errs.Unimplemented("rejection link")
}

// RejectByLink rejects (RET) the consents the link's confirmation SMS
// confirmed, with the client as evidence. Using a link again is not an
// error: the page says it was done.
func (s *Service) RejectByLink(ctx context.Context, token string, c evidence.Client) (*RejectPage, error) {
	return nil, errs.Unimplemented("rejection link")
}
