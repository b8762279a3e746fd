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

// --- SMS configuration ---

func (s *Store) PutSMSConfig(ctx context.Context, c *store.SMSConfig) error {
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur store.SMSConfig
		err := tx.Where("brand_id = ?", c.BrandID).Take(&cur).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return tx.Create(c).Error
		case err != nil:
			return err
		case cur.TenantID != c.TenantID:
			return fmt.Errorf("%w: SMS configuration of brand %s", store.ErrNotFound, c.BrandID)
		}
		c.CreatedAt = cur.CreatedAt
		return tx.Model(&store.SMSConfig{}).Where("brand_id = ? AND tenant_id = ?", c.BrandID, c.TenantID).
			Updates(map[string]any{
				"provider": c.Provider, "base_url": c.BaseURL, "username": c.Username, "password_enc": c.PasswordEnc,
				"sender": c.Sender, "enabled": c.Enabled, "hook_id": c.HookID, "hook_secret_enc": c.HookSecretEnc,
				"reject_types": c.RejectTypes, "optin_keyword": c.OptinKeyword,
				"allowed_countries": c.AllowedCountries, "updated_at": c.UpdatedAt,
			}).Error
	}))
}

func (s *Store) GetSMSConfig(ctx context.Context, tenantID, brandID string) (*store.SMSConfig, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND brand_id = ?", tenantID, brandID), &store.SMSConfig{})
}

func (s *Store) ListSMSConfigs(ctx context.Context, tenantID string) ([]store.SMSConfig, error) {
	var out []store.SMSConfig
	return out, translate(s.db.WithContext(ctx).Where("tenant_id = ?", tenantID).Order("brand_id").Find(&out).Error)
}

func (s *Store) EnabledSMSConfigs(ctx context.Context) ([]store.SMSConfig, error) {
	var out []store.SMSConfig
	return out, translate(s.db.WithContext(ctx).Where("enabled").Order("tenant_id, brand_id").Find(&out).Error)
}

func (s *Store) SetInboundPolled(ctx context.Context, brandID string, at time.Time) error {
	return translate(s.w.WithContext(ctx).Model(&store.SMSConfig{}).Where("brand_id = ?", brandID).
		Update("inbound_polled_at", at.UTC()).Error)
}

func (s *Store) SMSConfigByHook(ctx context.Context, hookID string) (*store.SMSConfig, error) {
	return first(s.db.WithContext(ctx).Where("hook_id = ?", hookID), &store.SMSConfig{})
}

func (s *Store) RecordSMSOutcome(ctx context.Context, brandID string, at time.Time, errText string) error {
	at = at.UTC()
	set := map[string]any{"last_success_at": at}
	if errText != "" {
		set = map[string]any{"last_error": errText, "last_error_at": at}
	}
	return translate(s.w.WithContext(ctx).Model(&store.SMSConfig{}).Where("brand_id = ?", brandID).Updates(set).Error)
}

func (s *Store) SMSQueueDepth(ctx context.Context, tenantID string) ([]store.QueueDepth, error) {
	var out []store.QueueDepth
	err := s.db.WithContext(ctx).Model(&store.Message{}).Select("brand_id, COUNT(*) AS queued").
		Where("tenant_id = ? AND "+queuedMessages, tenantID).Group("brand_id").Order("brand_id").Scan(&out).Error
	if err != nil {
		return nil, translate(err)
	}
	// The oldest per brand, read as a row so that both engines give a
	// time.Time (SQLite answers MIN of a time column as text).
	for i := range out {
		var m store.Message
		err := s.db.WithContext(ctx).Where("tenant_id = ? AND brand_id = ? AND "+queuedMessages, tenantID, out[i].BrandID).
			Order("created_at").Limit(1).Find(&m).Error
		if err != nil {
			return nil, translate(err)
		}
		if m.ID != "" {
			t := m.CreatedAt
			out[i].Oldest = &t
		}
	}
	return out, nil
}

// --- delivery reports ---

func (s *Store) ProviderMessageIDs(ctx context.Context, tenantID, recipient string, since time.Time) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&store.Message{}).
		Where("tenant_id = ? AND recipient = ? AND created_at >= ? AND provider_message_id <> ''", tenantID, recipient, since.UTC()).
		Order("id").Pluck("provider_message_id", &out).Error
	return out, translate(err)
}

// sentMessages is messages_report_due's predicate, written into the SQL so
// that SQLite uses the partial index.
var sentMessages = fmt.Sprintf("status = %d", store.MessageSent)

func (s *Store) ClaimReportPolls(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Message, error) {
	if due, err := s.anyDue(ctx, "messages", sentMessages+" AND report_due_at <= ?", now.UTC()); !due {
		return nil, err
	}
	var out []store.Message
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Session(&gorm.Session{NewDB: true}).Model(&store.Message{}).
			Where(sentMessages+" AND report_due_at <= ?", now.UTC()).Order("report_due_at").Limit(limit).Select("id")
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		ids := "id IN (?)"
		if s.dialect == Postgres {
			ids = "id = ANY(ARRAY(?))"
		}
		return tx.Raw("UPDATE messages SET report_due_at = ?, report_polls = report_polls + 1 WHERE "+ids+" RETURNING *",
			leaseUntil.UTC(), q).Scan(&out).Error
	})
	return out, translate(err)
}

func (s *Store) ListInboundMessages(ctx context.Context, f store.InboundFilter) ([]store.InboundMessage, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ?", f.TenantID)
	if f.BrandID != "" {
		q = q.Where("brand_id = ?", f.BrandID)
	}
	if f.Action != 0 {
		q = q.Where("action = ?", f.Action)
	}
	if f.BeforeID != "" {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []store.InboundMessage
	return out, translate(q.Order("id DESC").Limit(f.Limit).Find(&out).Error)
}

func (t *txStore) MessageForReport(ctx context.Context, tenantID, id, providerMessageID string) (*store.Message, error) {
	q := t.db.WithContext(ctx).Where("tenant_id = ?", tenantID)
	switch {
	case id != "":
		q = q.Where("id = ?", id)
	case providerMessageID != "":
		q = q.Where("provider_message_id = ?", providerMessageID)
	default:
		return nil, store.ErrNotFound
	}
	if t.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return first(q, &store.Message{})
}

func (t *txStore) UpdateMessageDelivery(ctx context.Context, m *store.Message) error {
	return translate(t.db.WithContext(ctx).Model(&store.Message{}).Where("tenant_id = ? AND id = ?", m.TenantID, m.ID).
		Updates(map[string]any{
			"status": m.Status, "status_code": m.StatusCode, "status_at": m.StatusAt, "last_error": m.LastError,
			"provider_message_id": m.ProviderMessageID, "report_due_at": m.ReportDueAt,
		}).Error)
}

func (t *txStore) InsertInboundMessage(ctx context.Context, m *store.InboundMessage) error {
	m.ReceivedAt, m.CreatedAt = m.ReceivedAt.UTC(), m.CreatedAt.UTC()
	return translate(t.db.WithContext(ctx).Create(m).Error)
}

func (t *txStore) UpdateInboundMessage(ctx context.Context, m *store.InboundMessage) error {
	return translate(t.db.WithContext(ctx).Model(&store.InboundMessage{}).Where("id = ?", m.ID).
		Updates(map[string]any{"keyword": m.Keyword, "action": m.Action, "event_ids": m.EventIDs, "detail": m.Detail}).Error)
}

func (t *txStore) SMSProviderOf(ctx context.Context, tenantID, brandID string) (string, error) {
	var names []string
	err := t.db.WithContext(ctx).Model(&store.SMSConfig{}).
		Where("tenant_id = ? AND brand_id = ? AND enabled", tenantID, brandID).Pluck("provider", &names).Error
	if err != nil {
		return "", translate(err)
	}
	if len(names) == 0 {
		return "sandbox", nil
	}
	return names[0], nil
}

// --- send limits (in a transaction) ---

type sendLock struct {
	TenantID string `gorm:"primaryKey"`
	Key      string `gorm:"primaryKey"`
}

func (sendLock) TableName() string { return "send_locks" }

func (t *txStore) LockSendLimits(ctx context.Context, tenantID string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	keys = slices.Clone(keys)
	slices.Sort(keys) // one order for every locker: no deadlock
	rows := make([]sendLock, len(keys))
	for i, k := range keys {
		rows[i] = sendLock{TenantID: tenantID, Key: k}
	}
	db := t.db.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return translate(err)
	}
	if t.dialect != Postgres {
		return nil // SQLite: the IMMEDIATE transaction holds the only write lock
	}
	var locked []sendLock
	return translate(db.Where("tenant_id = ? AND key IN ?", tenantID, keys).Order("key").
		Clauses(clause.Locking{Strength: "UPDATE"}).Find(&locked).Error)
}

func (t *txStore) CountSends(ctx context.Context, c store.SendCount) (int64, error) {
	return countSends(t.db.WithContext(ctx), c)
}

func (t *txStore) CountRecentStarts(ctx context.Context, tenantID string, sourceID *string, keyID string, since time.Time) (int64, error) {
	q := t.db.WithContext(ctx).Model(&store.Verification{}).Where("tenant_id = ? AND created_at >= ?", tenantID, since.UTC())
	if sourceID != nil {
		q = q.Where("source_id = ?", *sourceID)
	} else {
		q = q.Where("api_key_id = ?", keyID)
	}
	var n int64
	return n, translate(q.Count(&n).Error)
}
