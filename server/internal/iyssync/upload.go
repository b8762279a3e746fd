package iyssync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/izinhq/izin/server/internal/backoff"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// upload sends the brand's due uploads in bulk requests.
func (w *Worker) upload(ctx context.Context, r *brandRun) error {
	for {
		now := w.opts.Now()
		ups, err := w.store.ClaimIYSUploads(ctx, r.cfg.TenantID, r.cfg.BrandID, now, now.Add(w.opts.Lease), w.opts.Batch)
		if err != nil {
			return storeErr(err, "claim uploads")
		}
		if len(ups) == 0 {
			return nil
		}
		again, err := w.send(ctx, r, ups, now)
		if err != nil {
			return err
		}
		if len(ups) < w.opts.Batch && !again {
			return nil
		}
	}
}

// send uploads claimed uploads in one bulk request. again reports that
// some were given back to be sent at once: İYS refused the request for
// other items of it.
func (w *Worker) send(ctx context.Context, r *brandRun, ups []store.IYSUpload, now time.Time) (again bool, err error) {
	dl := DeadlinesAt(w.opts.Calendar, now)
	ids := make([]string, len(ups))
	for i := range ups {
		ids[i] = ups[i].EventID
	}
	prev, err := w.store.PreviousConsentTimes(ctx, r.cfg.TenantID, ids)
	if err != nil {
		return false, errors.Join(storeErr(err, "read previous consent times"), w.release(ctx, ups, now, store.IYSPending))
	}
	var near, overdue int
	var later []store.IYSUpload // not yet sendable: see sendDate
	var dates []time.Time
	batch := ups[:0:0]
	for _, u := range ups {
		date := sendDate(u.ConsentTime, prev[u.EventID])
		switch {
		case date.After(now):
			u.NextAttemptAt = date
			later = append(later, u)
			continue
		case dl.Overdue(u.ConsentTime):
			overdue++
		case dl.Near(u.ConsentTime):
			near++
		}
		batch = append(batch, u)
		dates = append(dates, date)
	}
	r.rep.NearDeadline += near
	r.rep.Overdue += overdue
	if near+overdue > 0 {
		w.log.Warn("iys: uploads near or past their deadline", "tenant_id", r.cfg.TenantID, "brand", r.brand.Code,
			"near_deadline", near, "overdue", overdue)
	}
	if len(later) > 0 {
		if err := w.release(ctx, later, now, store.IYSPending); err != nil {
			return false, err
		}
	}
	if len(batch) == 0 {
		return false, nil
	}
	consents := make([]iys.Consent, len(batch))
	for i := range batch {
		consents[i] = consentOf(&batch[i])
		consents[i].ConsentDate = dates[i]
	}
	// Bounded well within the lease, so that no other worker claims these
	// uploads while this one may still be sending them.
	sendCtx, cancel := context.WithTimeout(ctx, w.opts.Lease/2)
	rid, err := r.client.AddConsentsAsync(sendCtx, r.cfg.IYSCode, r.cfg.BrandCode, consents)
	cancel()
	if err != nil && ctx.Err() != nil {
		// Shutting down: the lease runs out and the uploads go again.
		return false, ctx.Err()
	}
	upd := w.opts.Now().UTC()
	if err == nil {
		for i := range batch {
			u := &batch[i]
			u.State, u.RequestID, u.ErrorCode, u.ErrorMessage, u.UpdatedAt = store.IYSSubmitted, rid, "", "", upd
		}
		_, ferr := w.store.FinishIYSUploads(context.WithoutCancel(ctx), batch, store.IYSPending, "")
		r.rep.Sent += len(batch)
		r.rep.Requests++
		return false, storeErr(ferr, "record submitted uploads")
	}
	// A bulk request is validated as a whole: refusals name their items.
	var ie *iys.Error
	if iys.IsRuleViolation(err) && errors.As(err, &ie) && hasIndexes(ie, len(batch)) {
		refused := map[int]iys.ErrorDetail{}
		for _, d := range ie.Details {
			if d.Index >= 0 && d.Index < len(batch) {
				if _, seen := refused[d.Index]; !seen {
					refused[d.Index] = d
				}
			}
		}
		var done, retry []store.IYSUpload
		for i, u := range batch {
			if d, ok := refused[i]; ok {
				u.State, u.ErrorCode, u.ErrorMessage, u.UpdatedAt = store.IYSRefused, d.Code, refusalMessage(d.Code, d.Message), upd
				done = append(done, u)
				w.metrics.Refused(d.Code)
				continue
			}
			retry = append(retry, u)
		}
		r.rep.Refused += len(done)
		if len(done) > 0 {
			w.log.Warn("iys: İYS refused uploads", "tenant_id", r.cfg.TenantID, "brand", r.brand.Code, "refused", len(done), "first", ie.Error())
		}
		if _, ferr := w.store.FinishIYSUploads(context.WithoutCancel(ctx), done, store.IYSPending, ""); ferr != nil {
			return false, storeErr(ferr, "record refused uploads")
		}
		// The others go again at once, in the next claim of this run.
		for i := range retry {
			retry[i].NextAttemptAt, retry[i].UpdatedAt = upd, upd
		}
		_, ferr := w.store.FinishIYSUploads(context.WithoutCancel(ctx), retry, store.IYSPending, "")
		return len(retry) > 0, storeErr(ferr, "release uploads")
	}
	// Anything else is about the request, not its items: try again later.
	r.rep.Retrying += len(batch)
	for i := range batch {
		batch[i].ErrorCode, batch[i].ErrorMessage = errorCode(err), truncate(err.Error(), 500)
		batch[i].NextAttemptAt = upd.Add(retryDelay(err, batch[i].Attempts))
	}
	if ferr := w.release(ctx, batch, upd, store.IYSPending); ferr != nil {
		return false, ferr
	}
	return false, fmt.Errorf("bulk upload of %d consents: %w", len(batch), err)
}

// sendDate is the consentDate İYS receives for a change given at given,
// whose previous change of the same consent was given at prev (zero if
// none). İYS keeps dates to the second and refuses a change not newer than
// the one it holds (H178), so a change made within the same second as the
// previous one (a grant and a rejection at one kiosk visit) is sent one
// second after it: the order of the changes is kept, the event keeps its
// exact time, and the date sent is never in the future (the upload waits
// for it instead).
func sendDate(given, prev time.Time) time.Time {
	d := given.Truncate(time.Second)
	if !prev.IsZero() {
		if p := prev.Truncate(time.Second); !d.After(p) && !given.Before(prev) {
			d = p.Add(time.Second)
		}
	}
	return d
}

// hasIndexes reports whether the refusal names items of the batch.
func hasIndexes(e *iys.Error, n int) bool {
	for _, d := range e.Details {
		if d.Index >= 0 && d.Index < n {
			return true
		}
	}
	return false
}

// release gives uploads back to the queue (state from stays), keeping their
// NextAttemptAt, or now when unset.
func (w *Worker) release(ctx context.Context, ups []store.IYSUpload, now time.Time, from store.IYSUploadState) error {
	for i := range ups {
		ups[i].State, ups[i].UpdatedAt = store.IYSPending, now
		if ups[i].NextAttemptAt.IsZero() {
			ups[i].NextAttemptAt = now
		}
	}
	_, err := w.store.FinishIYSUploads(context.WithoutCancel(ctx), ups, from, "")
	return storeErr(err, "release uploads")
}

// uploadRetry spaces the retries of a failed upload.
var uploadRetry = backoff.Policy{Base: 30 * time.Second, Max: 30 * time.Minute}

// retryDelay is how long to wait before sending again after a failure: the
// backoff, or İYS's Retry-After when longer.
func retryDelay(err error, attempts int) time.Duration {
	d := uploadRetry.Delay(attempts)
	var e *iys.Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = e.RetryAfter
	}
	return d
}

func errorCode(err error) string {
	var e *iys.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// refusalMessage keeps İYS's (Turkish) message and adds the English cause.
func refusalMessage(code, msg string) string {
	if cause, ok := iys.CodeCause(code); ok {
		if msg == "" {
			return cause
		}
		return truncate(msg+" ("+cause+")", 1000)
	}
	return truncate(msg, 1000)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
