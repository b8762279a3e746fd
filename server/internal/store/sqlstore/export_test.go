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

// OldestOpenSQL is the statement that finds the next head of a consent.
func (s *Store) OldestOpenSQL(tenantID, brandID, recipient string) string {
	return s.w.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var out []map[string]any
		return oldestOpen(tx, uploadKey{tenantID: tenantID, brandID: brandID, recipient: recipient, rtype: 1, typ: 1}).Find(&out)
	})
}
