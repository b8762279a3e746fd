package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/izinhq/izin/server/internal/store"
)

// --- webhooks ---

func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The head's seq covers every committed event: seq and head are
		// written together under the chain lock.
		var head store.ChainHead
		err := tx.Where("tenant_id = ?", w.TenantID).Take(&head).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		w.ConsentCursor = head.Seq
		return tx.Create(w).Error
	}))
}

func (s *Store) GetWebhook(ctx context.Context, tenantID, id string) (*store.Webhook, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND id = ? AND deleted_at IS NULL", tenantID, id), &store.Webhook{})
}

func (s *Store) ListWebhooks(ctx context.Context, tenantID string) ([]store.Webhook, error) {
	q := s.db.WithContext(ctx).Where("deleted_at IS NULL")
	if tenantID != "" {
		q = q.Where("tenant_id = ?", tenantID)
	} else {
		q = q.Where("disabled_at IS NULL")
	}
	var out []store.Webhook
	return out, translate(q.Order("created_at, id").Find(&out).Error)
}

// updateWebhook changes one live webhook of a tenant, ErrNotFound if none.
func (s *Store) updateWebhook(ctx context.Context, tenantID, id string, set map[string]any) error {
	res := s.w.WithContext(ctx).Model(&store.Webhook{}).
		Where("tenant_id = ? AND id = ? AND deleted_at IS NULL", tenantID, id).Updates(set)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: webhook %s", store.ErrNotFound, id)
	}
	return nil
}

func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id string, at time.Time) error {
	return s.updateWebhook(ctx, tenantID, id, map[string]any{"deleted_at": at.UTC()})
}

func (s *Store) RotateWebhookSecret(ctx context.Context, tenantID, id string, secret []byte, previousUntil time.Time) error {
	return s.updateWebhook(ctx, tenantID, id, map[string]any{
		"previous_secret":       gorm.Expr("secret"),
		"previous_secret_until": previousUntil.UTC(),
		"secret":                secret,
	})
}

func (s *Store) DisableWebhook(ctx context.Context, id string, at time.Time, reason string) error {
	return translate(s.w.WithContext(ctx).Model(&store.Webhook{}).Where("id = ? AND disabled_at IS NULL", id).
		Updates(map[string]any{"disabled_at": at.UTC(), "disabled_reason": reason}).Error)
}

// unfannedNotifications is notifications_unfanned's predicate.
const unfannedNotifications = "fanned_at IS NULL"

func (s *Store) UnfannedNotifications(ctx context.Context, limit int) ([]store.Notification, error) {
	var out []store.Notification
	return out, translate(s.db.WithContext(ctx).Where(unfannedNotifications).Order("created_at, id").Limit(limit).Find(&out).Error)
}

func (s *Store) MessageByID(ctx context.Context, tenantID, id string) (*store.Message, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND id = ?", tenantID, id), &store.Message{})
}

func (s *Store) IYSUploadByEvent(ctx context.Context, tenantID, eventID string) (*store.IYSUpload, error) {
	return first(s.db.WithContext(ctx).Where("tenant_id = ? AND event_id = ?", tenantID, eventID), &store.IYSUpload{})
}

// --- deliveries ---

// pendingDeliveries is webhook_deliveries_due's predicate, literal so that
// SQLite uses the partial index.
var pendingDeliveries = fmt.Sprintf("state = %d", store.DeliveryPending)

func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.WebhookDelivery, error) {
	const due = " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)"
	if found, err := s.anyDue(ctx, "webhook_deliveries", pendingDeliveries+due, now.UTC(), now.UTC()); !found {
		return nil, err
	}
	var out []store.WebhookDelivery
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sub := tx.Session(&gorm.Session{NewDB: true}).Model(&store.WebhookDelivery{}).Select("id").
			Where(pendingDeliveries+due, now.UTC(), now.UTC()).Order("next_attempt_at").Limit(limit)
		ids := "id IN (?)"
		if s.dialect == Postgres {
			// Replicas claim disjoint batches; SQLite has one writer.
			sub = sub.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
			ids = "id = ANY(ARRAY(?))"
		}
		return tx.Raw("UPDATE webhook_deliveries SET lease_until = ?, attempts = attempts + 1 WHERE "+ids+" RETURNING *",
			leaseUntil.UTC(), sub).Scan(&out).Error
	})
	slices.SortFunc(out, func(a, b store.WebhookDelivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return out, translate(err)
}

func (s *Store) FinishWebhookDelivery(ctx context.Context, d *store.WebhookDelivery, a *store.WebhookAttempt) error {
	return translate(s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(a).Error; err != nil {
			return err
		}
		// Only while the claim is still ours: a replay (attempts back to
		// 0) or another replica's claim after the lease ran out (one more
		// attempt) since then is not overwritten.
		return tx.Model(&store.WebhookDelivery{}).Where("id = ? AND attempts = ? AND lease_until IS NOT NULL", d.ID, d.Attempts).Updates(map[string]any{
			"state":           d.State,
			"next_attempt_at": d.NextAttemptAt.UTC(),
			"lease_until":     nil,
			"last_status":     d.LastStatus,
			"last_error":      d.LastError,
			"delivered_at":    d.DeliveredAt,
		}).Error
	}))
}

func (s *Store) ListWebhookDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.WebhookDelivery, error) {
	q := s.db.WithContext(ctx).Where("tenant_id = ? AND webhook_id = ?", f.TenantID, f.WebhookID)
	if f.BeforeID != "" {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []store.WebhookDelivery
	return out, translate(q.Order("id DESC").Limit(f.Limit).Find(&out).Error)
}

func (s *Store) WebhookAttempts(ctx context.Context, deliveryIDs []string) ([]store.WebhookAttempt, error) {
	var out []store.WebhookAttempt
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	return out, translate(s.db.WithContext(ctx).Where("delivery_id IN ?", deliveryIDs).Order("delivery_id, at, id").Find(&out).Error)
}

func (s *Store) ReplayWebhookDeliveries(ctx context.Context, q store.ReplayQuery) (int64, error) {
	db := s.w.WithContext(ctx).Model(&store.WebhookDelivery{}).Where("tenant_id = ? AND webhook_id = ?", q.TenantID, q.WebhookID)
	if len(q.IDs) > 0 {
		db = db.Where("id IN ?", q.IDs)
	} else {
		db = db.Where("created_at >= ? AND created_at < ?", q.Since.UTC(), q.Until.UTC())
	}
	// A replay starts the schedule over: attempts counts this round.
	res := db.Updates(map[string]any{
		"state": store.DeliveryPending, "next_attempt_at": q.Now.UTC(), "lease_until": nil, "attempts": 0,
	})
	return res.RowsAffected, translate(res.Error)
}

// notifyRefused writes, in the transaction that finishes uploads, an
// iys.refused notification for each upload this statement refused
// (changed lists the rows it changed, so a repeated finish writes none).
func notifyRefused(tx *gorm.DB, tenantID string, ups []store.IYSUpload, changed []string) error {
	done := make(map[string]bool, len(changed))
	for _, id := range changed {
		done[id] = true
	}
	var ns []*store.Notification
	for i := range ups {
		u := &ups[i]
		if u.State != store.IYSRefused || !done[u.EventID] {
			continue
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		ns = append(ns, &store.Notification{ID: id.String(), TenantID: tenantID, Type: store.NotifyIYSRefused,
			RefID: u.EventID, CreatedAt: u.UpdatedAt.UTC()})
	}
	if len(ns) == 0 {
		return nil
	}
	return tx.Create(ns).Error
}

// --- fan-out (in a transaction) ---

func (t *txStore) InsertNotifications(ctx context.Context, ns []*store.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	return translate(t.db.WithContext(ctx).Create(ns).Error)
}

func (t *txStore) InsertWebhookDeliveries(ctx context.Context, ds []*store.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	return translate(t.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "webhook_id"}, {Name: "event_key"}}, DoNothing: true,
	}).Create(ds).Error)
}

func (t *txStore) AdvanceWebhookCursor(ctx context.Context, webhookID string, seq int64) error {
	return translate(t.db.WithContext(ctx).Model(&store.Webhook{}).
		Where("id = ? AND consent_cursor < ?", webhookID, seq).Update("consent_cursor", seq).Error)
}

func (t *txStore) MarkNotificationsFanned(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return translate(t.db.WithContext(ctx).Model(&store.Notification{}).Where("id IN ? AND "+unfannedNotifications, ids).
		Update("fanned_at", at.UTC()).Error)
}
