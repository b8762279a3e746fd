package iyssync

import (
	"context"
	"errors"
	"fmt"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/store"
)

// poll asks İYS for the results of the brand's submitted bulk requests.
func (w *Worker) poll(ctx context.Context, r *brandRun) error {
	before := w.opts.Now().Add(-w.opts.PollDelay)
	rids, err := w.store.SubmittedIYSRequests(ctx, r.cfg.TenantID, r.cfg.BrandID, before, 100)
	if err != nil {
		return storeErr(err, "list submitted requests")
	}
	var errsOut error
	for _, rid := range rids {
		if err := w.pollRequest(ctx, r, rid); err != nil {
			var se *storeError
			if errors.As(err, &se) || ctx.Err() != nil {
				return err
			}
			errsOut = errors.Join(errsOut, err)
		}
	}
	return errsOut
}

func (w *Worker) pollRequest(ctx context.Context, r *brandRun, rid string) error {
	rows, err := w.store.IYSUploadsOfRequest(ctx, r.cfg.TenantID, rid)
	if err != nil {
		return storeErr(err, "read request "+rid)
	}
	results, err := r.client.RequestResult(ctx, r.cfg.IYSCode, r.cfg.BrandCode, rid)
	now := w.opts.Now().UTC()
	switch {
	case err != nil && iys.IsNotFound(err):
		// İYS does not know the request: send its consents again. Any
		// that İYS did store come back as H174, counted as accepted.
		var again []store.IYSUpload
		for _, u := range rows {
			if u.State == store.IYSSubmitted {
				u.State, u.NextAttemptAt, u.UpdatedAt, u.ErrorCode, u.ErrorMessage = store.IYSPending, now, now, errorCode(err), truncate(err.Error(), 500)
				again = append(again, u)
			}
		}
		r.rep.Retrying += len(again)
		_, ferr := w.store.FinishIYSUploads(context.WithoutCancel(ctx), again, store.IYSSubmitted, rid)
		return errors.Join(storeErr(ferr, "requeue request "+rid), fmt.Errorf("request %s: %w", rid, err))
	case err != nil:
		return fmt.Errorf("result of request %s: %w", rid, err) // asked again next run
	}
	for _, res := range results {
		if res.Pending() {
			return nil // recorded when İYS has finished the whole request
		}
	}
	byIndex := map[int]iys.ItemResult{}
	for _, res := range results {
		byIndex[res.Index] = res
	}
	var out []store.IYSUpload
	for i, u := range rows {
		if u.State != store.IYSSubmitted {
			continue
		}
		u.UpdatedAt = now
		res, ok := byIndex[i]
		switch {
		case !ok:
			u.State, u.NextAttemptAt, u.ErrorCode, u.ErrorMessage = store.IYSPending, now, "", "İYS's result did not list this consent; sending again"
			r.rep.Retrying++
		case res.Err == nil && res.Status == iys.ItemSuccess:
			u.State, u.TransactionID, u.ErrorCode, u.ErrorMessage = store.IYSAccepted, res.TransactionID, "", ""
			r.rep.Accepted++
		case res.Err != nil && res.Err.Code == "H174":
			// İYS already holds this status: our earlier attempt (whose
			// answer was lost) or another channel stored it. Either way
			// İYS agrees with izin, so the upload is done.
			u.State, u.ErrorCode = store.IYSAccepted, "H174"
			u.ErrorMessage = "İYS already held this status; counted as accepted"
			u.TransactionID = w.storedTransaction(ctx, r, &u)
			r.rep.Accepted++
		case res.Err != nil && iys.IsRuleViolation(res.Err):
			u.State, u.ErrorCode, u.ErrorMessage = store.IYSRefused, res.Err.Code, refusalMessage(res.Err.Code, res.Err.Message)
			w.metrics.Refused(res.Err.Code)
			r.rep.Refused++
			w.log.Warn("iys: İYS refused an upload", "tenant_id", r.cfg.TenantID, "brand", r.brand.Code,
				"event_id", u.EventID, "code", res.Err.Code, "cause", res.Err.Cause())
		default:
			cause := error(errors.New("unknown failure"))
			if res.Err != nil {
				cause = res.Err
			}
			u.State, u.ErrorCode, u.ErrorMessage = store.IYSPending, errorCode(cause), truncate(cause.Error(), 500)
			u.NextAttemptAt = now.Add(retryDelay(cause, u.Attempts))
			r.rep.Retrying++
		}
		out = append(out, u)
	}
	_, ferr := w.store.FinishIYSUploads(context.WithoutCancel(ctx), out, store.IYSSubmitted, rid)
	return storeErr(ferr, "record results of request "+rid)
}

// storedTransaction asks İYS for the transaction id of the consent it
// holds; empty when it cannot tell.
func (w *Worker) storedTransaction(ctx context.Context, r *brandRun, u *store.IYSUpload) string {
	c := consentOf(u)
	got, err := r.client.ConsentStatus(ctx, r.cfg.IYSCode, r.cfg.BrandCode, c.Recipient, c.RecipientType, c.Type)
	if err != nil || got == nil || got.Status != c.Status {
		w.log.Info("iys: no transaction id for a consent İYS already held", "event_id", u.EventID, "err", err)
		return ""
	}
	return got.TransactionID
}
