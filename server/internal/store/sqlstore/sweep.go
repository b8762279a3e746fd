package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/izinhq/izin/server/internal/store"
)

// pendingVerifications is verifications_pending_expiry's predicate, literal
// so that SQLite uses the partial index.
var pendingVerifications = fmt.Sprintf("status = %d", store.VerificationPending)

func (t *txStore) LockExpiredVerifications(ctx context.Context, now time.Time, limit int) ([]store.Verification, error) {
	q := t.db.WithContext(ctx).Where(pendingVerifications+" AND expire_at < ?", now.UTC()).Order("expire_at, id").Limit(limit)
	if t.dialect == Postgres {
		// Replicas sweep disjoint rows; SQLite has one writer.
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var out []store.Verification
	return out, translate(q.Find(&out).Error)
}
