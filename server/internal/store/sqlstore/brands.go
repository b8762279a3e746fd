package sqlstore

import (
	"context"

	"github.com/izinhq/izin/server/internal/store"
)

// --- brands ---

func (s *Store) UpdateBrand(ctx context.Context, b *store.Brand) error {
	// A map, not the struct: gorm would skip a reject route set back to "".
	res := s.w.WithContext(ctx).Model(&store.Brand{}).
		Where("tenant_id = ? AND id = ?", b.TenantID, b.ID).
		Updates(map[string]any{"name": b.Name, "sender": b.Sender, "reject_route": b.RejectRoute})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return store.ErrNotFound
	}
	return nil
}
