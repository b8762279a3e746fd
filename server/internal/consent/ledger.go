package consent

import (
	"context"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// LedgerRow is one row of a bulk write (an import, a file pulled from İYS)
// that the import-row ledger marks by Hash, so that writing the same rows
// again changes nothing.
type LedgerRow struct {
	Hash string
	// Change is the row's change; nil for a row its reader refused, which
	// is passed over (and reported to each in its place).
	Change *Change
}

// LedgerResult is what ApplyLedgered did with one row.
type LedgerResult struct {
	// Passed: the row had no change. Seen: the ledger (or an earlier row
	// of the same call) had marked it, so it changed nothing.
	Passed, Seen bool
	// Applied is the change's outcome; nil when a rule refused it.
	Applied *Applied
	// Refused is the rule's refusal (a domain error, never internal).
	Refused error
}

// Unchanged reports a row the rules took that changed nothing: marked
// before, or the status it already had.
func (r LedgerResult) Unchanged() bool {
	return r.Seen || (r.Applied != nil && len(r.Applied.Events) == 0)
}

// WriteLedgered is ApplyLedgered in a transaction of its own; reset runs
// at the start of it, so what each gathers is of the committed attempt.
func WriteLedgered(ctx context.Context, st store.Transactor, tenantID, brandID string, now time.Time,
	rows []LedgerRow, reset func(), each func(i int, r LedgerResult)) error {
	return st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		reset()
		return ApplyLedgered(ctx, tx, tenantID, brandID, now, rows, each)
	})
}

// LedgerTx is what a ledgered write uses: the chain, and the ledger of rows
// written before.
type LedgerTx interface {
	store.ChainTx
	store.ImportTx
}

// ApplyLedgered applies rows of one tenant and brand inside tx, in order:
// rows marked before are unchanged, the others go through one Batch, and
// every row that passed the rules is marked with its first event. It calls
// each for every row, in order. The chain lock comes first, so no other
// writer of the tenant can mark these rows between the read of the marks
// and the write of the new ones.
func ApplyLedgered(ctx context.Context, tx LedgerTx, tenantID, brandID string, now time.Time,
	rows []LedgerRow, each func(i int, r LedgerResult)) error {
	cb, err := NewBatch(ctx, tx, tenantID, now)
	if err != nil {
		return err
	}
	hashes := make([]string, 0, len(rows))
	for i := range rows {
		if rows[i].Change != nil {
			hashes = append(hashes, rows[i].Hash)
		}
	}
	seen, err := tx.ImportedRows(ctx, tenantID, hashes)
	if err != nil {
		return errs.Internal(err, "read the import-row ledger")
	}
	recipients := make([]string, 0, len(rows))
	for i := range rows {
		if r := &rows[i]; r.Change != nil && !seen[r.Hash] {
			recipients = append(recipients, r.Change.Recipient)
		}
	}
	if err := cb.Load(ctx, brandID, recipients); err != nil {
		return err
	}
	marks := make([]*store.ImportRow, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Change == nil:
			each(i, LedgerResult{Passed: true})
			continue
		case seen[r.Hash]:
			each(i, LedgerResult{Seen: true})
			continue
		}
		applied, err := cb.Apply(ctx, *r.Change)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Kind == errs.KindInternal {
				return err
			}
			each(i, LedgerResult{Refused: err})
			continue
		}
		// A repeat of this row later in rows is now marked: unchanged.
		seen[r.Hash] = true
		mark := &store.ImportRow{TenantID: tenantID, RowHash: r.Hash, CreatedAt: now}
		if len(applied.Events) > 0 {
			mark.EventID = applied.Events[0].ID
		}
		marks = append(marks, mark)
		each(i, LedgerResult{Applied: applied})
	}
	if err := tx.InsertImportRows(ctx, marks); err != nil {
		return errs.Internal(err, "mark rows in the import-row ledger")
	}
	return cb.Flush(ctx)
}
