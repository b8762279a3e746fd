package smsconfig

import (
	"context"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// Tester queues a brand's test message in a transaction.
type Tester interface {
	QueueTest(ctx context.Context, tx store.OutboxTx, t *store.Tenant, b *store.Brand, to string) (string, error)
	Wake()
}

// SetTester sets how SendTest queues its message.
func (s *Service) SetTester(tx store.Transactor, t Tester) { s.tx, s.tester = tx, t }

// SendTest queues one informational message to a number through the
// brand's provider, and returns its id.
func (s *Service) SendTest(ctx context.Context, tenantID, brand, to string) (string, error) {
	r, err := recipient.Parse(to)
	if err != nil || !r.IsMobile() {
		return "", errs.Invalid("recipient", "must be a Turkish mobile number (+905…)")
	}
	t, err := s.brands.Tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	b, err := s.brands.Brand(ctx, tenantID, brand)
	if err != nil {
		return "", err
	}
	var id string
	err = s.tx.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		id, err = s.tester.QueueTest(ctx, tx, t, b, r.Value)
		return err
	})
	if err != nil {
		return "", errs.Wrap(err, "queue test SMS")
	}
	s.tester.Wake()
	return id, nil
}
