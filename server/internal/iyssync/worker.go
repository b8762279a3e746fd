// Package iyssync keeps izin and İYS in step: it uploads every consent
// change queued in iys_uploads (bulk requests, result polling, retries of
// transient failures, refusals kept with İYS's reason), pulls the changes
// citizens make at İYS (the change feed with a persisted cursor, and the
// daily change file to reconcile what the feed missed) and applies them as
// consent events, and manages the per-brand İYS configuration with its
// password encrypted at rest.
//
// Delivery guarantees:
//   - No loss. An upload row is committed with its consent event and only
//     leaves PENDING in the transaction that records İYS's request id
//     (SUBMITTED), its outcome (ACCEPTED, REFUSED) or a retry time. A worker
//     that dies after sending but before recording leaves the row PENDING
//     under a lease; when the lease runs out it is sent again.
//   - No duplicate state. İYS refuses a status it already holds with H174.
//     After a resend (or a lost answer) that refusal means İYS holds exactly
//     what izin sent, so H174 is recorded as ACCEPTED, with the transaction
//     id İYS reports for the stored consent (ConsentStatus) and error code
//     H174 kept as a note. İYS keeps one state per consent, so a resend
//     cannot create a second one.
//   - Order. An upload is not sent while an earlier change of the same
//     consent (recipient, recipient type, type) is pending or submitted.
//   - Pulled changes are applied in the transaction that advances the
//     cursor, so a crash neither skips nor applies a change twice (and
//     applying one twice would be a no-op: the same state changes nothing).
package iyssync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/backoff"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// ProductionURL is İYS's API address.
const ProductionURL = "https://api.iys.org.tr"

// Client is the part of the İYS client the worker uses.
type Client interface {
	AddConsentsAsync(ctx context.Context, iysCode, brandCode string, consents []iys.Consent) (string, error)
	RequestResult(ctx context.Context, iysCode, brandCode, requestID string) ([]iys.ItemResult, error)
	ConsentStatus(ctx context.Context, iysCode, brandCode, recipient string, recipientType iys.RecipientType, typ iys.ConsentType) (*iys.Consent, error)
	Changes(ctx context.Context, iysCode, brandCode, after string, limit int) (iys.ChangesPage, error)
	DailyChanges(ctx context.Context, iysCode, brandCode string, date time.Time) ([]iys.Consent, error)
	Authenticate(ctx context.Context) error
}

// ClientFactory makes a client for an İYS address and account.
type ClientFactory func(baseURL string, creds iys.Credentials) (Client, error)

// DefaultClientFactory returns the real İYS client.
func DefaultClientFactory(baseURL string, creds iys.Credentials) (Client, error) {
	return iys.New(baseURL, creds, iys.WithUserAgent("izin"))
}

// Store is what the worker reads and writes.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error
	ListIYSConfigs(ctx context.Context, tenantID string) ([]store.IYSConfig, error)
	ListIYSCursors(ctx context.Context, tenantID string) ([]store.IYSCursor, error)
	ClaimIYSUploads(ctx context.Context, tenantID, brandID string, now, leaseUntil time.Time, limit int) ([]store.IYSUpload, error)
	FinishIYSUploads(ctx context.Context, ups []store.IYSUpload, from store.IYSUploadState, requestID string) (int64, error)
	SubmittedIYSRequests(ctx context.Context, tenantID, brandID string, before time.Time, limit int) ([]string, error)
	IYSUploadsOfRequest(ctx context.Context, tenantID, requestID string) ([]store.IYSUpload, error)
	PreviousConsentTimes(ctx context.Context, tenantID string, eventIDs []string) (map[string]time.Time, error)
}

// Directory resolves brands.
type Directory interface {
	BrandByID(ctx context.Context, tenantID, id string) (*store.Brand, error)
}

// Options tune the worker; zero fields take the defaults.
type Options struct {
	// BaseURL is the İYS address for brands whose configuration has none.
	// Default ProductionURL.
	BaseURL string
	// Interval is how often Run synchronises. Default 1 minute.
	Interval time.Duration
	// Lease is how long claimed uploads are the worker's. Default 5 minutes.
	Lease time.Duration
	// PollDelay is how long after a bulk upload its result is first asked
	// for; İYS asks for at least 5 minutes (the default). Negative: none.
	PollDelay time.Duration
	// Batch is the largest bulk request (at most 1000, the default).
	Batch int
	// ChangesPage is how many changes one feed request asks for (1000).
	ChangesPage int
	// ReconcileDays is how many past days of daily change files are
	// reconciled (İYS keeps 7, the default). Negative: no reconciliation.
	ReconcileDays int
	// Calendar computes deadlines. Default iys.DefaultCalendar.
	Calendar *iys.Calendar
	// NewClient makes İYS clients. Default DefaultClientFactory.
	NewClient ClientFactory
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.BaseURL == "" {
		o.BaseURL = ProductionURL
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.PollDelay == 0 {
		o.PollDelay = 5 * time.Minute
	}
	if o.PollDelay < 0 {
		o.PollDelay = 0
	}
	if o.Batch <= 0 || o.Batch > 1000 {
		o.Batch = 1000
	}
	if o.ChangesPage <= 0 || o.ChangesPage > 1000 {
		o.ChangesPage = 1000
	}
	if o.ReconcileDays == 0 {
		o.ReconcileDays = 7
	}
	if o.Calendar == nil {
		o.Calendar = iys.DefaultCalendar
	}
	if o.NewClient == nil {
		o.NewClient = DefaultClientFactory
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Worker synchronises every enabled brand with İYS.
type Worker struct {
	store   Store
	dir     Directory
	sealer  *Sealer
	log     *slog.Logger
	opts    Options
	clients *clientCache
	metrics Metrics
	beat    func() // called after each run of Run's loop; nil: none
}

// NewWorker returns a worker.
func NewWorker(s Store, d Directory, sealer *Sealer, log *slog.Logger, opts Options) *Worker {
	opts = opts.withDefaults()
	return &Worker{store: s, dir: d, sealer: sealer, log: log, opts: opts,
		clients: &clientCache{factory: opts.NewClient, m: map[string]Client{}}, metrics: nopMetrics{}}
}

// SetMetrics sets where the worker counts refusals.
func (w *Worker) SetMetrics(m Metrics) {
	if m != nil {
		w.metrics = m
	}
}

// SetHeartbeat sets a function Run calls after each synchronisation run,
// failed or not (İYS being down is not the worker being stuck), so that
// readiness can tell a stuck worker. Call it before Run.
func (w *Worker) SetHeartbeat(f func()) { w.beat = f }

// Metrics receives the worker's counts.
type Metrics interface {
	Refused(code string)
}

type nopMetrics struct{}

func (nopMetrics) Refused(string) {}

// Report is what one synchronisation run did.
type Report struct {
	Brands []BrandReport `json:"brands"`
}

// BrandReport is what a run did for one brand.
type BrandReport struct {
	TenantID  string `json:"tenant_id"`
	BrandID   string `json:"brand_id"`
	BrandCode string `json:"brand_code"`
	// Upload: consents sent in bulk requests, and the requests.
	Sent     int `json:"sent"`
	Requests int `json:"requests"`
	// Poll: outcomes recorded.
	Accepted int `json:"accepted"`
	Refused  int `json:"refused"`
	Retrying int `json:"retrying"`
	// NearDeadline and Overdue count the uploads claimed this run that
	// were within a business day of their deadline, or past it.
	NearDeadline int `json:"near_deadline"`
	Overdue      int `json:"overdue"`
	// Pull: changes read from İYS's feed and daily files, and how many
	// changed a consent.
	Pulled     int      `json:"pulled"`
	Applied    int      `json:"applied"`
	Reconciled []string `json:"reconciled_days,omitempty"`
	Errors     []string `json:"errors,omitempty"`
}

// Run synchronises every Interval until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx, ""); err != nil && ctx.Err() == nil {
			w.log.Error("iys: synchronisation run", "err", err)
		}
		if w.beat != nil {
			w.beat()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce synchronises the enabled brands of a tenant ("" for every tenant)
// once: upload, poll results, pull changes, reconcile daily files. Failures
// of one brand are reported and do not stop the others; the error is for
// failures of izin's own store.
func (w *Worker) RunOnce(ctx context.Context, tenantID string) (*Report, error) {
	cfgs, err := w.store.ListIYSConfigs(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("iys: list configurations: %w", err)
	}
	rep := &Report{Brands: []BrandReport{}}
	var firstErr error
	for i := range cfgs {
		cfg := &cfgs[i]
		if !cfg.Enabled {
			continue
		}
		br, err := w.syncBrand(ctx, cfg)
		rep.Brands = append(rep.Brands, br)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, firstErr
}

// brandRun is one brand's run: its configuration, client and report.
type brandRun struct {
	cfg    *store.IYSConfig
	brand  *store.Brand
	client Client
	rep    *BrandReport
	now    time.Time
}

func (w *Worker) syncBrand(ctx context.Context, cfg *store.IYSConfig) (BrandReport, error) {
	rep := BrandReport{TenantID: cfg.TenantID, BrandID: cfg.BrandID, BrandCode: cfg.BrandCode}
	b, err := w.dir.BrandByID(ctx, cfg.TenantID, cfg.BrandID)
	if err != nil {
		return rep, fmt.Errorf("iys: brand %s: %w", cfg.BrandID, err)
	}
	rep.BrandCode = b.Code
	client, err := w.client(cfg)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return rep, w.finishRun(ctx, cfg, &rep, false)
	}
	r := &brandRun{cfg: cfg, brand: b, client: client, rep: &rep, now: w.opts.Now()}
	var storeErr error
	note := func(step string, err error) {
		if err == nil {
			return
		}
		var se *storeError
		if errors.As(err, &se) {
			storeErr = errors.Join(storeErr, err)
		}
		rep.Errors = append(rep.Errors, step+": "+err.Error())
		w.log.Warn("iys: "+step+" failed", "tenant_id", cfg.TenantID, "brand", b.Code, "err", err)
	}
	note("upload", w.upload(ctx, r))
	note("poll", w.poll(ctx, r))
	pullErr := w.pull(ctx, r)
	note("pull", pullErr)
	if pullErr == nil {
		note("reconcile", w.reconcile(ctx, r))
	}
	return rep, errors.Join(storeErr, w.finishRun(ctx, cfg, &rep, pullErr == nil))
}

// storeError marks a failure of izin's own database, as opposed to İYS's.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func storeErr(err error, what string) error {
	if err == nil {
		return nil
	}
	return &storeError{fmt.Errorf("%s: %w", what, err)}
}

// finishRun records the run's errors (or their absence) and, after a
// successful pull, its time on the brand's cursor row.
func (w *Worker) finishRun(ctx context.Context, cfg *store.IYSConfig, rep *BrandReport, pulled bool) error {
	now := w.opts.Now().UTC()
	err := w.store.InTx(context.WithoutCancel(ctx), func(ctx context.Context, tx store.Tx) error {
		c, err := tx.LockIYSCursor(ctx, cfg.TenantID, cfg.BrandID, now)
		if err != nil {
			return err
		}
		c.LastError = truncate(strings.Join(rep.Errors, "; "), 2000)
		if pulled {
			c.LastPullAt = &now
		}
		c.UpdatedAt = now
		return tx.PutIYSCursor(ctx, c)
	})
	return storeErr(err, "record run status")
}

func (w *Worker) client(cfg *store.IYSConfig) (Client, error) {
	pw, err := w.sealer.Open(cfg.PasswordEnc, cfg.BrandID)
	if err != nil {
		return nil, err
	}
	base := cfg.BaseURL
	if base == "" {
		base = w.opts.BaseURL
	}
	return w.clients.get(cfg.BrandID, base, iys.Credentials{Username: cfg.Username, Password: pw})
}

// clientCache keeps one client per brand and account, so that its token is
// reused: İYS allows about 10 token requests an hour from one address.
type clientCache struct {
	factory ClientFactory
	mu      sync.Mutex
	m       map[string]Client
}

func (c *clientCache) get(brandID, base string, creds iys.Credentials) (Client, error) {
	key := brandID + "\x00" + base + "\x00" + creds.Username + "\x00" + creds.Password
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[key]; ok {
		return cl, nil
	}
	cl, err := c.factory(base, creds)
	if err != nil {
		return nil, err
	}
	for k := range c.m {
		if strings.HasPrefix(k, brandID+"\x00") {
			delete(c.m, k) // the brand's previous account or address
		}
	}
	c.m[key] = cl
	return cl, nil
}

// --- upload ---

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

// --- poll ---

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
			var cause error = errors.New("unknown failure")
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

// --- pull ---

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
		now := w.opts.Now().UTC()
		applied := 0
		err = w.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			applied = 0
			c, err := tx.LockIYSCursor(ctx, r.cfg.TenantID, r.cfg.BrandID, now)
			if err != nil {
				return err
			}
			if c.Cursor != after {
				return errCursorMoved
			}
			for i := range page.Changes {
				ok, err := w.applyChange(ctx, tx, r, &page.Changes[i], now)
				if err != nil {
					return err
				}
				if ok {
					applied++
				}
			}
			c.Cursor, c.LastPullAt, c.UpdatedAt = page.Next, &now, now
			return tx.PutIYSCursor(ctx, c)
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
		now := w.opts.Now().UTC()
		applied := 0
		err = w.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			applied = 0
			c, err := tx.LockIYSCursor(ctx, r.cfg.TenantID, r.cfg.BrandID, now)
			if err != nil {
				return err
			}
			for i := range list {
				ok, err := w.applyChange(ctx, tx, r, &list[i], now)
				if err != nil {
					return err
				}
				if ok {
					applied++
				}
			}
			c.ReconciledTo, c.UpdatedAt = day.Format("2006-01-02"), now
			return tx.PutIYSCursor(ctx, c)
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
