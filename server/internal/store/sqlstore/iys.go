package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/izinhq/izin/server/internal/store"
)

// --- İYS configuration ---

func (s *Store) PutIYSConfig(ctx context.Context, c *store.IYSConfig) error {
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur store.IYSConfig
		err := tx.Where("brand_id = ?", c.BrandID).Take(&cur).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return tx.Create(c).Error
		case err != nil:
			return err
		case cur.TenantID != c.TenantID:
			return fmt.Errorf("%w: İYS configuration of brand %s", store.ErrNotFound, c.BrandID)
		}
		c.CreatedAt = cur.CreatedAt
		return tx.Model(&store.IYSConfig{}).Where("brand_id = ? AND tenant_id = ?", c.BrandID, c.TenantID).
			Updates(map[string]any{
				"iys_code": c.IYSCode, "brand_code": c.BrandCode, "username": c.Username,
				"password_enc": c.PasswordEnc, "base_url": c.BaseURL, "enabled": c.Enabled,
				"updated_at": c.UpdatedAt,
			}).Error
	}))
}

func (s *Store) GetIYSConfig(ctx context.Context, tenantID, brandID string) (*store.IYSConfig, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND brand_id = ?", tenantID, brandID), &store.IYSConfig{})
}

func (s *Store) ListIYSConfigs(ctx context.Context, tenantID string) ([]store.IYSConfig, error) {
	q := s.db.WithContext(ctx)
	if tenantID != "" {
		q = q.Where("tenant_id = ?", tenantID)
	}
	var out []store.IYSConfig
	return out, translate(q.Order("tenant_id, brand_code, brand_id").Find(&out).Error)
}

func (s *Store) ListIYSCursors(ctx context.Context, tenantID string) ([]store.IYSCursor, error) {
	var out []store.IYSCursor
	return out, translate(s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("brand_id").Find(&out).Error)
}

// --- İYS uploads ---

func (s *Store) SubmittedIYSRequests(ctx context.Context, tenantID, brandID string, before time.Time, limit int) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&store.IYSUpload{}).
		Where("tenant_id = ? AND brand_id = ? AND state = ? AND updated_at <= ?", tenantID, brandID, store.IYSSubmitted, before.UTC()).
		Group("request_id").Order("MIN(updated_at), request_id").Limit(limit).Pluck("request_id", &out).Error
	return out, translate(err)
}

func (s *Store) IYSUploadsOfRequest(ctx context.Context, tenantID, requestID string) ([]store.IYSUpload, error) {
	var out []store.IYSUpload
	err := s.db.WithContext(ctx).Where("tenant_id = ? AND request_id = ?", tenantID, requestID).
		Order("consent_time, event_id").Find(&out).Error
	return out, translate(err)
}

func (s *Store) ListIYSUploads(ctx context.Context, f store.IYSUploadFilter) ([]store.IYSUpload, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", f.TenantID)
	if f.BrandID != "" {
		q = q.Where("brand_id = ?", f.BrandID)
	}
	if f.State != 0 {
		q = q.Where("state = ?", f.State)
	}
	if f.AfterEventID != "" {
		at := f.AfterTime.UTC()
		q = q.Where("(consent_time > ? OR (consent_time = ? AND event_id > ?))", at, at, f.AfterEventID)
	}
	var out []store.IYSUpload
	return out, translate(q.Order("consent_time, event_id").Limit(f.Limit).Find(&out).Error)
}

func (s *Store) IYSUploadSummary(ctx context.Context, q store.IYSSummaryQuery) ([]store.IYSBrandSummary, error) {
	var rows []struct {
		BrandID string
		State   store.IYSUploadState
		N       int64
		Near    int64
		Overdue int64
	}
	near, overdue := q.NearBefore.UTC(), q.OverdueBefore.UTC()
	err := s.db.WithContext(ctx).Model(&store.IYSUpload{}).
		Select(`brand_id, state, COUNT(*) AS n,
			SUM(CASE WHEN consent_time >= ? AND consent_time < ? THEN 1 ELSE 0 END) AS near,
			SUM(CASE WHEN consent_time < ? THEN 1 ELSE 0 END) AS overdue`, overdue, near, overdue).
		Where("tenant_id = ?", q.TenantID).Group("brand_id, state").Order("brand_id, state").Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	var out []store.IYSBrandSummary
	idx := map[string]int{}
	for _, r := range rows {
		i, ok := idx[r.BrandID]
		if !ok {
			i = len(out)
			idx[r.BrandID] = i
			out = append(out, store.IYSBrandSummary{BrandID: r.BrandID})
		}
		b := &out[i]
		switch r.State {
		case store.IYSPending:
			b.Pending = r.N
		case store.IYSSubmitted:
			b.Submitted = r.N
		case store.IYSAccepted:
			b.Accepted = r.N
		case store.IYSRefused:
			b.Refused = r.N
		case store.IYSSkipped:
			b.Skipped = r.N
		}
		if r.State == store.IYSPending || r.State == store.IYSSubmitted {
			b.Near += r.Near
			b.Overdue += r.Overdue
		}
	}
	// The oldest open consent per brand, read as a row so that both engines
	// give a time.Time.
	for i := range out {
		var u store.IYSUpload
		err := s.db.WithContext(ctx).Where("tenant_id = ? AND brand_id = ? AND state IN ?", q.TenantID, out[i].BrandID,
			[]store.IYSUploadState{store.IYSPending, store.IYSSubmitted}).Order("consent_time, event_id").Limit(1).Find(&u).Error
		if err != nil {
			return nil, translate(err)
		}
		if u.EventID != "" {
			t := u.ConsentTime
			out[i].OldestOpen = &t
		}
	}
	return out, nil
}

// --- İYS pull cursors (in a transaction) ---

func (t *txStore) LockIYSCursor(ctx context.Context, tenantID, brandID string, now time.Time) (*store.IYSCursor, error) {
	db := t.db.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&store.IYSCursor{BrandID: brandID, TenantID: tenantID, UpdatedAt: now.UTC()}).Error; err != nil {
		return nil, translate(err)
	}
	return first(db.Clauses(clause.Locking{Strength: "UPDATE"}).Where("tenant_id = ? AND brand_id = ?", tenantID, brandID), &store.IYSCursor{})
}

func (t *txStore) PutIYSCursor(ctx context.Context, c *store.IYSCursor) error {
	var last any
	if c.LastPullAt != nil {
		last = c.LastPullAt.UTC()
	}
	return translate(t.db.WithContext(ctx).Model(&store.IYSCursor{}).Where("tenant_id = ? AND brand_id = ?", c.TenantID, c.BrandID).
		Updates(map[string]any{
			"cursor": c.Cursor, "last_pull_at": last, "last_error": c.LastError,
			"reconciled_to": c.ReconciledTo, "updated_at": c.UpdatedAt.UTC(),
		}).Error)
}

func (s *Store) PreviousConsentTimes(ctx context.Context, tenantID string, eventIDs []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	db := s.db.WithContext(ctx)
	if s.dialect != Postgres {
		// Not in a transaction: SQLite's begin takes the write lock.
		return out, translate(previousConsentTimes(db, tenantID, eventIDs, out))
	}
	// On PostgreSQL in a transaction of its own, for customPlans: the
	// look-ups are by lists of keys.
	err := db.Transaction(func(db *gorm.DB) error {
		if err := customPlans(db, s.dialect); err != nil {
			return err
		}
		return previousConsentTimes(db, tenantID, eventIDs, out)
	})
	return out, translate(err)
}

func previousConsentTimes(db *gorm.DB, tenantID string, eventIDs []string, out map[string]time.Time) error {
	// Two queries a chunk: the events, then every event of their
	// recipients, from which each event's predecessor is picked.
	for ids := range slices.Chunk(eventIDs, openKeyChunk) {
		var evs []store.ConsentEvent
		if err := db.Select("id, recipient, seq, brand_id, recipient_type, type").
			Where("tenant_id = ? AND id IN ?", tenantID, ids).Find(&evs).Error; err != nil {
			return err
		}
		if len(evs) == 0 {
			continue
		}
		recipients := make([]string, 0, len(evs))
		for i := range evs {
			recipients = append(recipients, evs[i].Recipient)
		}
		recipients = slices.Compact(slices.Sorted(slices.Values(recipients)))
		var all []store.ConsentEvent
		if err := db.Select("recipient, seq, brand_id, recipient_type, type, consent_time").
			Where("tenant_id = ? AND recipient IN ?", tenantID, recipients).Find(&all).Error; err != nil {
			return err
		}
		type key struct {
			recipient, brandID string
			rtype              store.RecipientType
			typ                store.ConsentType
		}
		byKey := map[key][]store.ConsentEvent{}
		for _, e := range all {
			k := key{e.Recipient, e.BrandID, e.RecipientType, e.Type}
			byKey[k] = append(byKey[k], e)
		}
		for _, ev := range evs {
			var prev *store.ConsentEvent
			for i, e := range byKey[key{ev.Recipient, ev.BrandID, ev.RecipientType, ev.Type}] {
				if e.Seq < ev.Seq && (prev == nil || e.Seq > prev.Seq) {
					prev = &byKey[key{ev.Recipient, ev.BrandID, ev.RecipientType, ev.Type}][i]
				}
			}
			if prev != nil {
				out[ev.ID] = prev.ConsentTime
			}
		}
	}
	return nil
}
