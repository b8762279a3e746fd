package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/izinhq/izin/server/internal/store"
)

// The İYS queue. Each consent (tenant, brand, recipient, recipient type,
// type) has at most one head: its oldest open upload. Claims read only
// heads through the partial index iys_uploads_ready, so their cost is the
// batch's, whatever waits behind. Heads change in two places, both under
// the tenant's chain lock: InsertIYSUploads (a consent with no open upload
// gets its new one as head) and FinishIYSUploads (closing a head hands it
// on). The lock is what keeps a request queueing a change and the worker
// closing the previous one from both believing the other will set it.

// The literal predicates of the partial indexes: SQLite uses a partial
// index only when the query repeats its WHERE terms, so they are written
// into the SQL, never bound.
var (
	openStates = fmt.Sprintf("state IN (%d, %d)", store.IYSPending, store.IYSSubmitted)
	readyHeads = fmt.Sprintf("state = %d AND head", store.IYSPending)
)

// uploadKey is one consent of the queue.
type uploadKey struct {
	tenantID, brandID, recipient string
	rtype                        store.RecipientType
	typ                          store.ConsentType
}

func keyOf(u *store.IYSUpload) uploadKey {
	return uploadKey{u.TenantID, u.BrandID, u.Recipient, u.RecipientType, u.Type}
}

// uploadOrder is the order of one consent's uploads: by consent time, then
// by when they were queued.
func uploadOrder(a, b *store.IYSUpload) int {
	return cmp.Or(a.ConsentTime.Compare(b.ConsentTime), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.EventID, b.EventID))
}

// openKeyChunk bounds the recipients of one look-up of open uploads.
const openKeyChunk = 500

func (t *txStore) InsertIYSUploads(ctx context.Context, uploads []*store.IYSUpload) error {
	if len(uploads) == 0 {
		return nil
	}
	db := t.db.WithContext(ctx)
	open, err := openKeys(db, uploads)
	if err != nil {
		return err
	}
	// The first of each consent's new uploads, in consent order, is its
	// head when nothing of it is open yet.
	sorted := slices.Clone(uploads)
	slices.SortStableFunc(sorted, uploadOrder)
	for _, u := range sorted {
		if u.Head = false; closed(u.State) {
			continue
		}
		k := keyOf(u)
		u.Head = !open[k]
		open[k] = true
	}
	return createChunked(db, uploads)
}

// openKeys tells which consents of uploads have an open upload already.
func openKeys(db *gorm.DB, uploads []*store.IYSUpload) (map[uploadKey]bool, error) {
	type group struct{ tenantID, brandID string }
	recipients := map[group][]string{}
	seen := map[uploadKey]bool{}
	for _, u := range uploads {
		k := keyOf(u)
		if !seen[k] {
			seen[k] = true
			g := group{u.TenantID, u.BrandID}
			recipients[g] = append(recipients[g], u.Recipient)
		}
	}
	open := map[uploadKey]bool{}
	for g, rs := range recipients {
		rs = slices.Compact(slices.Sorted(slices.Values(rs)))
		for c := range slices.Chunk(rs, openKeyChunk) {
			var rows []store.IYSUpload
			err := db.Select("tenant_id, brand_id, recipient, recipient_type, type").
				Where("tenant_id = ? AND brand_id = ? AND recipient IN ? AND "+openStates, g.tenantID, g.brandID, c).
				Find(&rows).Error
			if err != nil {
				return nil, translate(err)
			}
			for i := range rows {
				open[keyOf(&rows[i])] = true
			}
		}
	}
	return open, nil
}

func (s *Store) ClaimIYSUploads(ctx context.Context, tenantID, brandID string, now, leaseUntil time.Time, limit int) ([]store.IYSUpload, error) {
	var out []store.IYSUpload
	now = now.UTC()
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []string
		if err := s.claimQuery(tx, tenantID, brandID, now, limit).Pluck("event_id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if err := tx.Model(&store.IYSUpload{}).Where("event_id IN ?", ids).Updates(map[string]any{
			"lease_until": leaseUntil.UTC(),
			"attempts":    gorm.Expr("attempts + 1"),
			"updated_at":  now,
		}).Error; err != nil {
			return err
		}
		return tx.Where("event_id IN ?", ids).Order("consent_time, event_id").Find(&out).Error
	})
	return out, translate(err)
}

// claimQuery selects the due heads of a brand, oldest consent first: a
// range of the ready index read in its order, so no sort and no look at
// what waits behind the heads.
func (s *Store) claimQuery(tx *gorm.DB, tenantID, brandID string, now time.Time, limit int) *gorm.DB {
	q := tx.Model(&store.IYSUpload{}).
		Where("tenant_id = ? AND brand_id = ? AND "+readyHeads, tenantID, brandID).
		Where("next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", now, now).
		Order("consent_time, event_id").Limit(limit)
	if s.dialect == Postgres {
		// Replicas claim disjoint batches; SQLite's IMMEDIATE transaction
		// already excludes other writers.
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	return q
}

// finishChunk bounds the rows one transaction of FinishIYSUploads writes,
// so that on SQLite the worker never holds the write lock for long: request
// writes interleave between chunks. Each chunk is atomic; an interrupted
// call leaves the remaining rows as they were, which the guards on state
// and request id make safe to redo.
const finishChunk = 250

func (s *Store) FinishIYSUploads(ctx context.Context, ups []store.IYSUpload, from store.IYSUploadState, requestID string) (int64, error) {
	var n int64
	for c := range slices.Chunk(ups, finishChunk) {
		m, err := s.finishUploads(ctx, c, from, requestID)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Store) finishUploads(ctx context.Context, ups []store.IYSUpload, from store.IYSUploadState, requestID string) (int64, error) {
	var n int64
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		n = 0
		closing := map[string]bool{} // tenants whose heads may move
		for i := range ups {
			if closed(ups[i].State) {
				closing[ups[i].TenantID] = true
			}
		}
		for _, id := range slices.Sorted(maps.Keys(closing)) {
			if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("tenant_id = ?", id).
				Take(&store.ChainHead{}).Error; err != nil {
				return fmt.Errorf("lock chain of tenant %s: %w", id, err)
			}
		}
		var handOn []uploadKey
		for i := range ups {
			u := &ups[i]
			q := tx.Model(&store.IYSUpload{}).Where("event_id = ? AND tenant_id = ? AND state = ?", u.EventID, u.TenantID, from)
			if from == store.IYSSubmitted {
				q = q.Where("request_id = ?", requestID)
			}
			upd := map[string]any{
				"state":           u.State,
				"request_id":      u.RequestID,
				"transaction_id":  u.TransactionID,
				"error_code":      u.ErrorCode,
				"error_message":   u.ErrorMessage,
				"next_attempt_at": u.NextAttemptAt.UTC(),
				"lease_until":     nil,
				"updated_at":      u.UpdatedAt.UTC(),
			}
			if closed(u.State) {
				upd["head"] = false
			}
			res := q.Updates(upd)
			if res.Error != nil {
				return res.Error
			}
			n += res.RowsAffected
			if res.RowsAffected > 0 && closed(u.State) && !closed(from) {
				handOn = append(handOn, keyOf(u))
			}
		}
		for _, k := range handOn {
			if err := promote(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, translate(err)
}

// promote makes the oldest open upload of a consent its head, if it has
// one that is not head yet.
func promote(tx *gorm.DB, k uploadKey) error {
	var next store.IYSUpload
	err := oldestOpen(tx, k).Find(&next).Error
	if err != nil || next.EventID == "" || next.Head {
		return err
	}
	return tx.Model(&store.IYSUpload{}).Where("event_id = ?", next.EventID).Update("head", true).Error
}

// oldestOpen selects a consent's oldest open upload, from the open-key
// index.
func oldestOpen(tx *gorm.DB, k uploadKey) *gorm.DB {
	return tx.Model(&store.IYSUpload{}).Select("event_id, head").
		Where("tenant_id = ? AND brand_id = ? AND recipient = ? AND recipient_type = ? AND type = ? AND "+openStates,
			k.tenantID, k.brandID, k.recipient, k.rtype, k.typ).
		Order("consent_time, created_at, event_id").Limit(1)
}

// closed reports whether an upload in state st has left the queue (or
// never joined it).
func closed(st store.IYSUploadState) bool {
	return st != store.IYSPending && st != store.IYSSubmitted
}
