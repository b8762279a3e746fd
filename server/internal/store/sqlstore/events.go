package sqlstore

import (
	"context"

	"github.com/izinhq/izin/server/internal/store"
)

// ConsentEventsAfter reads through the unique index on (tenant_id, seq).
func (s *Store) ConsentEventsAfter(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]store.ConsentEvent, error) {
	var out []store.ConsentEvent
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND seq > ?", tenantID, afterSeq).
		Order("seq").Limit(limit).Find(&out).Error
	return out, translate(err)
}

func (s *Store) WalkConsentEvents(ctx context.Context, tenantID string, fn func(*store.ConsentEvent) error) error {
	const batch = 1000
	var after int64
	for {
		page, err := s.ConsentEventsAfter(ctx, tenantID, after, batch)
		if err != nil {
			return err
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < batch {
			return nil
		}
		after = page[len(page)-1].Seq
	}
}

func (s *Store) OnConsentCommit(fn func(tenantID string)) { s.onCommit.Store(&fn) }

// consentCommitted tells OnConsentCommit's function of a committed
// transaction's chains.
func (s *Store) consentCommitted(tenants []string) {
	fn := s.onCommit.Load()
	if fn == nil {
		return
	}
	for _, id := range tenants {
		(*fn)(id)
	}
}
