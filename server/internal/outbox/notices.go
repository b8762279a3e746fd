package outbox

import (
	"context"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

// QueueRejection queues the SMS confirming a rejection the customer sent by
// SMS (RET).
func (q *Queue) QueueRejection(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string,
	types []store.ConsentType, at time.Time) (string, error) {
	body, err := q.templates.Rejection(sms.RejectionData{Brand: b.Sender, Types: typeNames(types), Time: at, Mersis: t.Mersis})
	if err != nil {
		return "", errs.Internal(err, "compose rejection SMS")
	}
	return q.insert(ctx, tx, t, b, to, nil, store.KindRejection, body, body)
}

// QueueTest queues the informational test message of a brand's provider.
func (q *Queue) QueueTest(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string) (string, error) {
	body, err := q.templates.Test(b.Sender)
	if err != nil {
		return "", errs.Internal(err, "compose test SMS")
	}
	return q.insert(ctx, tx, t, b, to, nil, store.KindTest, body, body)
}
