package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// MigrateTo applies the migrations up to and including version last.
func (s *Store) MigrateTo(ctx context.Context, last int) ([]string, error) {
	return s.migrateTo(ctx, last)
}

// MigrateLegacy migrates up to and including version last as the runner
// before goose did: each file in one statement batch, its version recorded
// in schema_migrations. Tests build the databases goose takes over with it.
func (s *Store) MigrateLegacy(ctx context.Context, last int) error {
	migs, err := Migrations(s.dialect)
	if err != nil {
		return err
	}
	timeType := "DATETIME"
	if s.dialect == Postgres {
		timeType = "timestamptz"
	}
	db := s.w.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at ` + timeType + ` NOT NULL)`).Error; err != nil {
		return err
	}
	for _, m := range migs {
		if m.Version > last {
			break
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(m.SQL).Error; err != nil {
				return err
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
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
