package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// bulkLookup is the number of keys past which a look-up by a list of keys
// is planned for its values: see customPlans.
const bulkLookup = 16

// customPlans makes PostgreSQL plan the rest of the transaction's
// statements for their parameters. pgx prepares statements, and after five
// runs PostgreSQL may keep a generic plan made while the table was still
// empty: for a list of 500 recipients that plan is a sequential scan,
// which made a first import three times slower as the queue grew. Single
// look-ups keep their cheap cached plans.
func customPlans(tx *gorm.DB, d Dialect) error {
	if d != Postgres {
		return nil
	}
	return tx.Exec("SET LOCAL plan_cache_mode = force_custom_plan").Error
}

func (t *txStore) InsertIYSUploads(ctx context.Context, uploads []*store.IYSUpload) error {
	if len(uploads) == 0 {
		return nil
	}
	db := t.db.WithContext(ctx)
	if len(uploads) > bulkLookup {
		if err := customPlans(db, t.dialect); err != nil {
			return err
		}
	}
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
			if err := openOf(db, g.tenantID, g.brandID, c).Find(&rows).Error; err != nil {
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
	// One statement: the claim's SELECT as a subquery of the UPDATE that
	// takes the lease, RETURNING the rows. Passing the ids back and forth
	// as lists of a thousand parameters cost PostgreSQL fifty times the
	// claim's own query.
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.claimUpdate(tx, tenantID, brandID, now, leaseUntil, limit).Scan(&out).Error
	})
	slices.SortFunc(out, func(a, b store.IYSUpload) int {
		return cmp.Or(a.ConsentTime.Compare(b.ConsentTime), cmp.Compare(a.EventID, b.EventID))
	})
	return out, translate(err)
}

// claimUpdate leases the due heads and returns them. On PostgreSQL the ids
// go through = ANY(ARRAY(…)): with IN (subquery) the planner hash-joins the
// subquery with a sequential scan of the whole queue, which made a claim's
// cost grow with the backlog again; ARRAY(…) is computed first and probes
// the primary key. SQLite probes the primary key with IN.
func (s *Store) claimUpdate(tx *gorm.DB, tenantID, brandID string, now, leaseUntil time.Time, limit int) *gorm.DB {
	sub := s.claimQuery(tx.Session(&gorm.Session{NewDB: true}), tenantID, brandID, now, limit).Select("event_id")
	ids := "event_id IN (?)"
	if s.dialect == Postgres {
		ids = "event_id = ANY(ARRAY(?))"
	}
	return tx.Raw("UPDATE iys_uploads SET lease_until = ?, attempts = attempts + 1, updated_at = ? WHERE "+ids+" RETURNING *",
		leaseUntil.UTC(), now, sub)
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
	byTenant := map[string][]store.IYSUpload{}
	for _, u := range ups {
		byTenant[u.TenantID] = append(byTenant[u.TenantID], u)
	}
	var n int64
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		n = 0
		for _, tenantID := range slices.Sorted(maps.Keys(byTenant)) {
			m, err := s.finishTenant(tx, tenantID, byTenant[tenantID], from, requestID)
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	return n, translate(err)
}

// finishTenant writes one tenant's outcomes in one statement and hands on
// the heads that closed. Closing takes the chain lock first: see the top of
// this file.
func (s *Store) finishTenant(tx *gorm.DB, tenantID string, ups []store.IYSUpload, from store.IYSUploadState, requestID string) (int64, error) {
	closing := false
	for i := range ups {
		closing = closing || closed(ups[i].State)
	}
	if closing {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("tenant_id = ?", tenantID).
			Take(&store.ChainHead{}).Error; err != nil {
			return 0, fmt.Errorf("lock chain of tenant %s: %w", tenantID, err)
		}
	}
	// One UPDATE from a VALUES list: the rows' outcomes differ (each has
	// its own İYS transaction id), and a statement per row is what made
	// finishing a bulk request slow. RETURNING tells which rows were still
	// in state from, so that only those hand their head on.
	cast := func(typ string) string {
		if s.dialect == Postgres {
			return "CAST(? AS " + typ + ")"
		}
		return "?"
	}
	row := "(" + strings.Join([]string{cast("text"), cast("smallint"), cast("text"), cast("text"), cast("text"),
		cast("text"), cast("timestamptz"), cast("timestamptz"), cast("boolean")}, ", ") + ")"
	var sql strings.Builder
	args := make([]any, 0, len(ups)*9+3)
	sql.WriteString(`UPDATE iys_uploads SET lease_until = NULL, state = v.column2, request_id = v.column3,
		transaction_id = v.column4, error_code = v.column5, error_message = v.column6, next_attempt_at = v.column7,
		updated_at = v.column8, head = (head AND NOT v.column9) FROM (VALUES `)
	for i := range ups {
		u := &ups[i]
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString(row)
		args = append(args, u.EventID, u.State, u.RequestID, u.TransactionID, u.ErrorCode, u.ErrorMessage,
			u.NextAttemptAt.UTC(), u.UpdatedAt.UTC(), closed(u.State))
	}
	sql.WriteString(") AS v WHERE iys_uploads.event_id = v.column1 AND iys_uploads.tenant_id = ? AND iys_uploads.state = ?")
	args = append(args, tenantID, from)
	if from == store.IYSSubmitted {
		sql.WriteString(" AND iys_uploads.request_id = ?")
		args = append(args, requestID)
	}
	sql.WriteString(" RETURNING iys_uploads.event_id")
	var changed []string
	if err := tx.Raw(sql.String(), args...).Scan(&changed).Error; err != nil {
		return 0, err
	}
	if err := notifyRefused(tx, tenantID, ups, changed); err != nil {
		return 0, err
	}
	if !closing || closed(from) {
		return int64(len(changed)), nil
	}
	done := map[string]bool{}
	for _, id := range changed {
		done[id] = true
	}
	var handOn []uploadKey
	for i := range ups {
		if done[ups[i].EventID] && closed(ups[i].State) {
			handOn = append(handOn, keyOf(&ups[i]))
		}
	}
	if len(handOn) > bulkLookup {
		if err := customPlans(tx, s.dialect); err != nil {
			return 0, err
		}
	}
	return int64(len(changed)), promote(tx, handOn)
}

// promote makes the oldest open upload of each consent its head, where it
// is not yet: two statements for all of them.
func promote(tx *gorm.DB, keys []uploadKey) error {
	if len(keys) == 0 {
		return nil
	}
	type group struct{ tenantID, brandID string }
	want := map[uploadKey]bool{}
	recipients := map[group][]string{}
	for _, k := range keys {
		if !want[k] {
			want[k] = true
			g := group{k.tenantID, k.brandID}
			recipients[g] = append(recipients[g], k.recipient)
		}
	}
	var heads []string
	for g, rs := range recipients {
		var open []store.IYSUpload
		if err := openOf(tx, g.tenantID, g.brandID, rs).Find(&open).Error; err != nil {
			return err
		}
		oldest := map[uploadKey]*store.IYSUpload{}
		for i := range open {
			u := &open[i]
			k := keyOf(u)
			if o := oldest[k]; want[k] && (o == nil || uploadOrder(u, o) < 0) {
				oldest[k] = u
			}
		}
		for _, u := range oldest {
			if !u.Head {
				heads = append(heads, u.EventID)
			}
		}
	}
	if len(heads) == 0 {
		return nil
	}
	return tx.Model(&store.IYSUpload{}).Where("event_id IN ?", heads).Update("head", true).Error
}

// openOf selects the open uploads of recipients of a brand, from the
// open-key index.
func openOf(tx *gorm.DB, tenantID, brandID string, recipients []string) *gorm.DB {
	return tx.Model(&store.IYSUpload{}).
		Select("event_id, tenant_id, brand_id, recipient, recipient_type, type, consent_time, created_at, head").
		Where("tenant_id = ? AND brand_id = ? AND recipient IN ? AND "+openStates, tenantID, brandID, recipients)
}

// closed reports whether an upload in state st has left the queue (or
// never joined it).
func closed(st store.IYSUploadState) bool {
	return st != store.IYSPending && st != store.IYSSubmitted
}
