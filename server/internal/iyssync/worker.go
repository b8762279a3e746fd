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
	"log/slog"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
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
	store.Transactor
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
