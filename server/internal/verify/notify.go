package verify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

// notifying is the verifications' store: each transaction it runs writes a
// notification (for webhooks) when a verification it locked ends, verified,
// failed or expired, whichever path ended it (a submit, a resend, the
// consent page, the sweeper).
type notifying struct{ Store }

func (n notifying) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return n.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return fn(ctx, &notifyingTx{Tx: tx, locked: map[string]store.VerificationStatus{}})
	})
}

// notifyingTx remembers the status of each verification as it was locked.
type notifyingTx struct {
	store.Tx
	locked map[string]store.VerificationStatus
}

func (t *notifyingTx) LockVerification(ctx context.Context, tenantID, id string) (*store.Verification, error) {
	v, err := t.Tx.LockVerification(ctx, tenantID, id)
	if err == nil {
		t.locked[v.ID] = v.Status
	}
	return v, err
}

func (t *notifyingTx) LockLandingVerification(ctx context.Context, tokenHash string) (*store.Verification, error) {
	v, err := t.Tx.LockLandingVerification(ctx, tokenHash)
	if err == nil {
		t.locked[v.ID] = v.Status
	}
	return v, err
}

func (t *notifyingTx) LockExpiredVerifications(ctx context.Context, now time.Time, limit int) ([]store.Verification, error) {
	vs, err := t.Tx.LockExpiredVerifications(ctx, now, limit)
	for i := range vs {
		t.locked[vs[i].ID] = vs[i].Status
	}
	return vs, err
}

// endings names the notification of each status a verification ends in.
var endings = map[store.VerificationStatus]string{
	store.VerificationVerified: store.NotifyVerificationVerified,
	store.VerificationFailed:   store.NotifyVerificationFailed,
	store.VerificationExpired:  store.NotifyVerificationExpired,
}

func (t *notifyingTx) UpdateVerification(ctx context.Context, v *store.Verification) error {
	if err := t.Tx.UpdateVerification(ctx, v); err != nil {
		return err
	}
	was, ok := t.locked[v.ID]
	t.locked[v.ID] = v.Status
	typ := endings[v.Status]
	if !ok || was == v.Status || typ == "" {
		return nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("notification id: %w", err)
	}
	return t.InsertNotifications(ctx, []*store.Notification{{ID: id.String(), TenantID: v.TenantID, Type: typ,
		RefID: v.ID, CreatedAt: v.UpdatedAt}})
}

// sweepBatch bounds one sweep transaction.
const sweepBatch = 250

// SweepExpired marks pending verifications past their expiry EXPIRED, a
// batch at a time, and returns how many. Expiry is otherwise noticed only
// when a verification is touched; the sweep makes verification.expired
// reach webhooks for those never touched again.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			now := s.now().UTC()
			vs, err := tx.LockExpiredVerifications(ctx, now, sweepBatch)
			if err != nil {
				return err
			}
			for i := range vs {
				vs[i].Status, vs[i].UpdatedAt = store.VerificationExpired, now
				if err := tx.UpdateVerification(ctx, &vs[i]); err != nil {
					return err
				}
			}
			n = len(vs)
			return nil
		})
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

// Sweeper runs SweepExpired every Every until its context ends.
type Sweeper struct {
	svc   *Service
	log   *slog.Logger
	Every time.Duration
}

// NewSweeper returns a sweeper of s's verifications, once a minute.
func NewSweeper(s *Service, log *slog.Logger) *Sweeper {
	return &Sweeper{svc: s, log: log, Every: time.Minute}
}

// Run sweeps until ctx ends.
func (w *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(w.Every)
	defer t.Stop()
	for {
		if n, err := w.svc.SweepExpired(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("verify: sweep expired verifications", "err", err)
		} else if n > 0 {
			w.log.Info("verify: expired verifications", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
