package tenancy

import (
	"context"
	"errors"
	"strings"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// BrandUpdate changes a brand: a nil field stays as it is. The code is
// what consent records, İYS and clients know the brand by, so it cannot
// change.
type BrandUpdate struct {
	Name        *string
	Sender      *string
	RejectRoute *string // "" restores the default route
}

// UpdateBrand changes a brand of a tenant, found by its code, under the
// same rules as a new brand. Published consent texts keep the words they
// were published with; messages already queued keep their sender.
func (s *Service) UpdateBrand(ctx context.Context, tenantID, code string, u BrandUpdate) (*store.Brand, error) {
	// Read the brand fresh, not from the cache: the change is written over
	// what is read here.
	brands, err := s.store.ListBrands(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list brands")
	}
	code = strings.TrimSpace(code)
	var b *store.Brand
	for i := range brands {
		if brands[i].Code == code {
			b = &brands[i]
		}
	}
	if b == nil {
		return nil, errs.NotFound("brand %q not found", code)
	}
	if u.Name == nil && u.Sender == nil && u.RejectRoute == nil {
		return b, nil
	}
	for _, f := range []struct{ to, from *string }{{&b.Name, u.Name}, {&b.Sender, u.Sender}, {&b.RejectRoute, u.RejectRoute}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if err := validateBrand(b); err != nil {
		return nil, err
	}
	if err := s.store.UpdateBrand(ctx, b); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errs.NotFound("brand %q not found", code)
		}
		return nil, errs.Internal(err, "update brand")
	}
	// Checks and verifications on this replica see the change at once;
	// other replicas when their cache expires.
	s.forget(tenantID)
	return b, nil
}
