package iyssync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// errCursorMoved aborts a page that another worker applied meanwhile.
var errCursorMoved = errors.New("the cursor moved under this worker")

func (w *Worker) cursor(ctx context.Context, r *brandRun) (*store.IYSCursor, error) {
	cs, err := w.store.ListIYSCursors(ctx, r.cfg.TenantID)
	if err != nil {
		return nil, storeErr(err, "read cursor")
	}
	for i := range cs {
		if cs[i].BrandID == r.cfg.BrandID {
			return &cs[i], nil
		}
	}
	return &store.IYSCursor{TenantID: r.cfg.TenantID, BrandID: r.cfg.BrandID}, nil
}

// pull follows İYS's change feed from the stored cursor.
func (w *Worker) pull(ctx context.Context, r *brandRun) error {
	cur, err := w.cursor(ctx, r)
	if err != nil {
		return err
	}
	after := cur.Cursor
	for pages := 0; pages < 100; pages++ {
		page, err := r.client.Changes(ctx, r.cfg.IYSCode, r.cfg.BrandCode, after, w.opts.ChangesPage)
		if err != nil {
			return fmt.Errorf("changes after %q: %w", after, err)
		}
		if len(page.Changes) == 0 {
			return nil
		}
		applied, err := w.applyChanges(ctx, r, page.Changes, func(c *store.IYSCursor, now time.Time) error {
			if c.Cursor != after {
				return errCursorMoved
			}
			c.Cursor, c.LastPullAt, c.UpdatedAt = page.Next, &now, now
			return nil
		})
		if errors.Is(err, errCursorMoved) {
			return nil // another worker is pulling this brand
		}
		if err != nil {
			return storeErr(err, "apply changes")
		}
		r.rep.Pulled += len(page.Changes)
		r.rep.Applied += applied
		if page.Next == after || len(page.Changes) < w.opts.ChangesPage {
			return nil
		}
		after = page.Next
	}
	return nil
}

// applyChanges applies changes read from İYS in one transaction that holds
// the brand's cursor lock. move, called before the changes are applied,
// checks the cursor and sets its new position, which is written in the
// same transaction. It returns how many changes changed a consent.
func (w *Worker) applyChanges(ctx context.Context, r *brandRun, changes []iys.Consent,
	move func(c *store.IYSCursor, now time.Time) error) (int, error) {
	now := w.opts.Now().UTC()
	applied := 0
	err := w.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		applied = 0
		c, err := tx.LockIYSCursor(ctx, r.cfg.TenantID, r.cfg.BrandID, now)
		if err != nil {
			return err
		}
		if err := move(c, now); err != nil {
			return err
		}
		for i := range changes {
			ok, err := w.applyChange(ctx, tx, r, &changes[i], now)
			if err != nil {
				return err
			}
			if ok {
				applied++
			}
		}
		return tx.PutIYSCursor(ctx, c)
	})
	return applied, err
}

// applyChange applies one change read from İYS inside tx. Only changes made
// at İYS (IYS_* sources) are applied: HS_* changes are the company's own
// uploads, of which izin is the record. A change izin cannot apply (older
// than izin's record, a first record that is a rejection, a value izin does
// not know) is skipped and logged, not an error: İYS's feed must not stall
// on it.
func (w *Worker) applyChange(ctx context.Context, tx store.Tx, r *brandRun, ch *iys.Consent, now time.Time) (bool, error) {
	if !ch.Source.FromIYS() {
		return false, nil
	}
	rt, typ, st, ok := fromIYS(*ch)
	rcpt, err := recipient.Parse(ch.Recipient)
	if !ok || err != nil {
		w.log.Warn("iys: skipped a change izin cannot read", "brand", r.brand.Code, "transaction_id", ch.TransactionID,
			"type", ch.Type, "status", ch.Status, "recipient_type", ch.RecipientType, "err", err)
		return false, nil
	}
	at := ch.ConsentDate
	if at.IsZero() {
		at = ch.CreationDate
	}
	res, err := consent.Apply(ctx, tx, consent.Change{
		TenantID: r.cfg.TenantID, Brand: r.brand, Recipient: rcpt.Value, RecipientType: rt,
		Types: []store.ConsentType{typ}, Status: st, ConsentTime: at,
		Evidence: consent.Evidence{IYSSource: string(ch.Source), Reference: "iys:" + ch.TransactionID},
	}, now)
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.KindFailedPrecondition {
			w.log.Info("iys: skipped a change from İYS", "brand", r.brand.Code, "transaction_id", ch.TransactionID, "reason", e.Message)
			return false, nil
		}
		return false, err
	}
	return len(res.Events) > 0, nil
}
