package iyssync

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// reconcile applies the daily change files of the days not reconciled yet,
// so that a change the feed missed still arrives. Applying a change again
// is a no-op.
func (w *Worker) reconcile(ctx context.Context, r *brandRun) error {
	if w.opts.ReconcileDays < 0 {
		return nil
	}
	cur, err := w.cursor(ctx, r)
	if err != nil {
		return err
	}
	loc := iys.Istanbul()
	y, m, d := w.opts.Now().In(loc).Date()
	yesterday := time.Date(y, m, d-1, 0, 0, 0, 0, loc)
	day := yesterday.AddDate(0, 0, 1-w.opts.ReconcileDays)
	if cur.ReconciledTo != "" {
		if last, err := time.ParseInLocation("2006-01-02", cur.ReconciledTo, loc); err == nil && !last.AddDate(0, 0, 1).Before(day) {
			day = last.AddDate(0, 0, 1)
		}
	}
	for ; !day.After(yesterday); day = day.AddDate(0, 0, 1) {
		list, err := r.client.DailyChanges(ctx, r.cfg.IYSCode, r.cfg.BrandCode, day)
		if err != nil {
			return fmt.Errorf("daily change file of %s: %w", day.Format("2006-01-02"), err)
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].CreationDate.Before(list[j].CreationDate) })
		applied, err := w.applyChanges(ctx, r, list, func(c *store.IYSCursor, now time.Time) error {
			c.ReconciledTo, c.UpdatedAt = day.Format("2006-01-02"), now
			return nil
		})
		if err != nil {
			return storeErr(err, "reconcile "+day.Format("2006-01-02"))
		}
		r.rep.Pulled += len(list)
		r.rep.Applied += applied
		r.rep.Reconciled = append(r.rep.Reconciled, day.Format("2006-01-02"))
	}
	return nil
}
