package evidence

import (
	"context"
	"errors"

	"github.com/izinhq/izin/server/internal/store"
)

// ChainStore is what an audit reads: the chain head, under its lock, and
// the events in chain order.
type ChainStore interface {
	store.Transactor
	WalkConsentEvents(ctx context.Context, tenantID string, fn func(*store.ConsentEvent) error) error
}

// VerifyTenant re-checks a tenant's whole chain and returns how many events
// it checked. A chain that does not verify is a *Break error; other errors
// are the store's. It walks up to the head read at the start, so events
// appended while it runs are not mistaken for a break.
func VerifyTenant(ctx context.Context, st ChainStore, tenantID string) (int64, error) {
	var head store.ChainHead
	if err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		head, err = tx.LockChain(ctx, tenantID)
		return err
	}); err != nil {
		return 0, err
	}
	var v Verifier
	err := st.WalkConsentEvents(ctx, tenantID, func(e *store.ConsentEvent) error {
		if e.Seq > head.Seq {
			return errPastHead
		}
		return v.Next(e)
	})
	if err != nil && !errors.Is(err, errPastHead) {
		return v.Count, err
	}
	return v.Count, v.End(head)
}

// errPastHead ends the walk at the head read at the start.
var errPastHead = errors.New("past the head")
