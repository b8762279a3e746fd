package outbox

import (
	"context"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// sendRetryAfter is what a refused sender is told to wait.
const sendRetryAfter = 15 * time.Minute

// limitSends guards against SMS pumping, for every SMS izin sends (codes,
// links, confirmations, answers to replies): per recipient, per number
// block and per tenant, each over the last hour. It runs in the
// transaction that queues the message, after locking the limits' rows, so
// concurrent senders (on any replica) count one after the other and a
// limit holds exactly.
func limitSends(ctx context.Context, tx store.MessageTx, t *store.Tenant, r recipient.Recipient, now time.Time) error {
	since := now.Add(-time.Hour)
	limits := []struct {
		key   string
		count store.SendCount
		max   int
		what  string
	}{
		{"sends:tenant", store.SendCount{TenantID: t.ID, Since: since}, t.MaxSendsPerTenantHour, "by this tenant"},
		{"sends:prefix:" + r.Prefix(), store.SendCount{TenantID: t.ID, Prefix: r.Prefix(), Since: since},
			t.MaxSendsPerPrefixHour, "to numbers starting " + r.Prefix()},
		{"sends:to:" + r.Value, store.SendCount{TenantID: t.ID, Recipient: r.Value, Since: since},
			t.MaxSendsPerRecipientHour, "to this number"},
	}
	var keys []string
	for _, l := range limits {
		if l.max > 0 {
			keys = append(keys, l.key)
		}
	}
	if err := tx.LockSendLimits(ctx, t.ID, keys); err != nil {
		return errs.Internal(err, "lock send limits")
	}
	for _, l := range limits {
		if l.max <= 0 {
			continue
		}
		n, err := tx.CountSends(ctx, l.count)
		if err != nil {
			return errs.Internal(err, "count sent messages")
		}
		if n >= int64(l.max) {
			return errs.RateLimited(sendRetryAfter, "%d SMS were sent %s in the last hour (limit %d); try again later", n, l.what, l.max)
		}
	}
	return nil
}
