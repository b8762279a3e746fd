package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// MigrateTo applies the migrations up to and including version last.
func (s *Store) MigrateTo(ctx context.Context, last int) ([]string, error) {
	return s.migrateTo(ctx, last)
}

// ClaimSQL is the statement ClaimIYSUploads reads with, values inlined, for
// tests that explain its plan.
func (s *Store) ClaimSQL(tenantID, brandID string, now time.Time, limit int) string {
	return s.w.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var ids []string
		return s.claimQuery(tx, tenantID, brandID, now, limit).Pluck("event_id", &ids)
	})
}

// ClaimUpdateSQL is the whole claim: the UPDATE that leases what ClaimSQL
// selects.
func (s *Store) ClaimUpdateSQL(tenantID, brandID string, now time.Time, limit int) string {
	return s.w.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var out []map[string]any
		return s.claimUpdate(tx, tenantID, brandID, now, now.Add(time.Minute), limit).Scan(&out)
	})
}

// OpenOfSQL is the statement that reads the open uploads of recipients, to
// queue behind them or to find their next head.
func (s *Store) OpenOfSQL(tenantID, brandID string, recipients ...string) string {
	return s.w.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var out []map[string]any
		return openOf(tx, tenantID, brandID, recipients).Find(&out)
	})
}

// ClaimMessagesSQL is the statement ClaimMessages reads with.
func (s *Store) ClaimMessagesSQL(now time.Time, limit int) string {
	return s.w.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var ids []string
		return s.claimMessagesQuery(tx, now, limit).Pluck("id", &ids)
	})
}
