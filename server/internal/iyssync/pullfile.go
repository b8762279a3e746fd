package iyssync

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"iter"
	"strconv"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

// An initial pull takes İYS's state as izin's own: a company moving to izin
// from another integrator gives it a file İYS produced (its consent export,
// or a daily change file), and every row is recorded as what İYS holds,
// with the row's source (HS_* as well as IYS_*) and a reference to the file
// and İYS's transaction id. Nothing of it is queued for upload: İYS holds
// it already. A later change made in izin is queued as usual.

// FileRow is one consent read from a file İYS produced.
type FileRow struct {
	// Line is the row's line in the file, for the report and the evidence.
	Line          int64
	Recipient     string
	RecipientType store.RecipientType // zero: BIREYSEL
	Type          store.ConsentType
	Status        store.ConsentStatus
	Source        string
	ConsentTime   *time.Time // İYS's consentDate; nil: CreationTime
	CreationTime  *time.Time // when İYS recorded it
	TransactionID string
	// Unreadable, when set, is why the reader could not read the row, and
	// Field the field at fault: the row is skipped.
	Unreadable, Field string
}

// Reasons a row of a pulled file is skipped.
const (
	SkipUnreadable = "unreadable" // a value the reader could not read
	SkipRecipient  = "recipient"  // not a recipient, or not one for the consent type
	SkipSource     = "source"     // not an İYS consent source
	SkipDate       = "date"       // no date, or one İYS would not hold
	SkipOlder      = "older"      // older than izin's record of the consent
	SkipRule       = "rule"       // another rule of izin's state machine
)

// MaxPullExamples is how many skipped rows a report lists; the counts go on.
const MaxPullExamples = 100

// PullSkip is a skipped row.
type PullSkip struct {
	Line    int64  `json:"line"`
	Reason  string `json:"reason"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// PullReport is what a pull did. Rows counts every row read, Applied those
// that changed a consent, Unchanged those that changed nothing (izin
// already held that status, or the row was pulled before), Skipped the
// others, by reason.
type PullReport struct {
	Name      string           `json:"name"`
	Brand     string           `json:"brand"`
	Rows      int64            `json:"rows"`
	Applied   int64            `json:"applied"`
	Unchanged int64            `json:"unchanged"`
	Skipped   int64            `json:"skipped"`
	SkippedBy map[string]int64 `json:"skipped_by"`
	// Examples lists the first MaxPullExamples skipped rows.
	Examples []PullSkip `json:"examples"`
}

// PullStore is what a pull writes through.
type PullStore interface {
	store.Transactor
}

// PullDirectory resolves brands.
type PullDirectory interface {
	Brand(ctx context.Context, tenantID, code string) (*store.Brand, error)
}

// DefaultPullChunk is the rows written per transaction: enough that
// statements are few, few enough that other writers of the tenant, who
// wait for its chain lock, wait a fraction of a second.
const DefaultPullChunk = 1000

// Puller applies files İYS produced.
type Puller struct {
	store PullStore
	dir   PullDirectory
	now   func() time.Time
	chunk int
}

// NewPuller returns a puller writing DefaultPullChunk rows per transaction.
func NewPuller(s PullStore, d PullDirectory, now func() time.Time) *Puller {
	if now == nil {
		now = time.Now
	}
	return &Puller{store: s, dir: d, now: now, chunk: DefaultPullChunk}
}

// WithChunk sets the rows per transaction (tests cross chunk boundaries).
func (p *Puller) WithChunk(n int) *Puller {
	if n > 0 {
		p.chunk = n
	}
	return p
}

// PullFile applies the rows of a file named name to a brand ("" is the
// default brand) of the tenant, in file order. A row older than izin's
// record of its consent is skipped and counted, as is a row izin cannot
// read; an error of the file or the database ends the pull, and the report
// counts what was committed until then. Pulling the same file again
// changes nothing: every row applied is marked by a hash of its content.
func (p *Puller) PullFile(ctx context.Context, tenantID, brand, name string, rows iter.Seq2[FileRow, error]) (*PullReport, error) {
	b, err := p.dir.Brand(ctx, tenantID, brand)
	if err != nil {
		return nil, err
	}
	run := &pullRun{p: p, tenantID: tenantID, brand: b, name: name, hash: sha256.New(),
		rep: &PullReport{Name: name, Brand: b.Code, SkippedBy: map[string]int64{}, Examples: []PullSkip{}}}
	chunk := make([]pullRow, 0, p.chunk)
	for row, err := range rows {
		if err != nil {
			return run.rep, fmt.Errorf("read %s: %w", name, err)
		}
		chunk = append(chunk, run.prepare(row, p.now()))
		if len(chunk) == p.chunk {
			if err := run.write(ctx, chunk); err != nil {
				return run.rep, err
			}
			chunk = chunk[:0]
		}
		if err := ctx.Err(); err != nil {
			return run.rep, err
		}
	}
	if len(chunk) > 0 {
		if err := run.write(ctx, chunk); err != nil {
			return run.rep, err
		}
	}
	return run.rep, nil
}

type pullRun struct {
	p        *Puller
	tenantID string
	brand    *store.Brand
	name     string
	rep      *PullReport
	hash     hash.Hash
}

// pullRow is a row checked by every rule that needs no stored state.
type pullRow struct {
	line   int64
	skip   *PullSkip
	hash   string
	change consent.Change
}

func skipped(line int64, reason, field, format string, args ...any) pullRow {
	return pullRow{line: line, skip: &PullSkip{Line: line, Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}}
}

var hsSources = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range iys.HSSources {
		m[string(s)] = true
	}
	return m
}()

// maxNameInReference keeps the evidence reference within the API's 512
// characters whatever the file is called.
const maxNameInReference = 200

func (r *pullRun) prepare(row FileRow, now time.Time) pullRow {
	line := row.Line
	if row.Unreadable != "" {
		return skipped(line, SkipUnreadable, row.Field, "%s", row.Unreadable)
	}
	rc, err := recipient.Parse(row.Recipient)
	if err != nil {
		return skipped(line, SkipRecipient, "recipient", "%v", err)
	}
	switch row.Type {
	case store.ConsentSMS, store.ConsentCall, store.ConsentEmail:
	default:
		return skipped(line, SkipUnreadable, "type", "want MESAJ, ARAMA or EPOSTA")
	}
	if _, err := consent.TypesFor(rc, []store.ConsentType{row.Type}); err != nil {
		return skipped(line, SkipRecipient, "recipient", "%s", errMessage(err))
	}
	if row.Status != store.StatusGranted && row.Status != store.StatusRejected {
		return skipped(line, SkipUnreadable, "status", "want ONAY or RET")
	}
	rtype := consent.RecipientType(row.RecipientType)
	switch {
	case row.Source == "" && rtype == store.Merchant: // İYS takes TACIR consents without a source
	case row.Source == "":
		return skipped(line, SkipSource, "source", "required for a BIREYSEL consent")
	case !hsSources[row.Source] && !iys.Source(row.Source).FromIYS():
		return skipped(line, SkipSource, "source", "%q is not an İYS consent source (HS_WEB, HS_ISLAK_IMZA, IYS_MOBIL, …)", row.Source)
	}
	given := row.ConsentTime
	if given == nil {
		given = row.CreationTime
	}
	if given == nil {
		return skipped(line, SkipDate, "consent_time", "the row has neither a consentDate nor a creationDate")
	}
	at, err := consent.ValidateConsentTime(given, now)
	if err != nil {
		return skipped(line, SkipDate, "consent_time", "%s", errMessage(err))
	}
	at = at.UTC().Truncate(evidence.Precision)
	name := r.name
	if len(name) > maxNameInReference {
		name = name[:maxNameInReference]
	}
	ref := "iys-file:" + name + ":" + strconv.FormatInt(line, 10)
	if row.TransactionID != "" {
		ref += " iys:" + row.TransactionID
	}
	c := consent.Change{TenantID: r.tenantID, Brand: r.brand, Recipient: rc.Value, RecipientType: rtype,
		Types: []store.ConsentType{row.Type}, Status: row.Status, ConsentTime: at,
		Evidence: consent.Evidence{IYSSource: row.Source, Reference: ref}, IYS: consent.IYSFromIYS}
	return pullRow{line: line, change: c, hash: r.rowHash(c, row.TransactionID)}
}

func errMessage(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message
	}
	return err.Error()
}

// rowHash identifies a row by what it asserts, whatever file brought it.
func (r *pullRun) rowHash(c consent.Change, txID string) string {
	h := r.hash
	h.Reset()
	var n [binary.MaxVarintLen64]byte
	for _, f := range []string{"izin-iys-pull-v1", c.TenantID, c.Brand.ID, c.Recipient,
		strconv.Itoa(int(c.RecipientType)), strconv.Itoa(int(c.Types[0])), strconv.Itoa(int(c.Status)),
		c.ConsentTime.UTC().Format(time.RFC3339Nano), c.Evidence.IYSSource, txID} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// pullOutcome is what one chunk did, merged into the report once
// committed.
type pullOutcome struct {
	applied, unchanged int64
	skips              []PullSkip
}

// write applies one chunk in one transaction: rows pulled before are
// unchanged, the others go through consent.Batch in file order, and every
// row applied or unchanged is marked with its event.
func (r *pullRun) write(ctx context.Context, chunk []pullRow) error {
	var out pullOutcome
	now := r.p.now()
	rows := make([]consent.LedgerRow, len(chunk))
	for i := range chunk {
		if c := &chunk[i]; c.skip == nil {
			rows[i] = consent.LedgerRow{Hash: c.hash, Change: &c.change}
		}
	}
	err := consent.WriteLedgered(ctx, r.p.store, r.tenantID, r.brand.ID, now, rows, func() { out = pullOutcome{} },
		func(i int, res consent.LedgerResult) {
			c := &chunk[i]
			switch {
			case res.Passed:
				out.skips = append(out.skips, *c.skip)
			case res.Refused != nil:
				e, _ := errs.As(res.Refused)
				reason := SkipRule
				if e.Reason == errs.ReasonInvalidConsentTime {
					reason = SkipOlder
				}
				out.skips = append(out.skips, PullSkip{Line: c.line, Reason: reason, Field: e.Field, Message: e.Message})
			case res.Unchanged():
				out.unchanged++
			default:
				out.applied++
			}
		})
	if err != nil {
		return errs.Wrap(err, "pull İYS file")
	}
	rep := r.rep
	rep.Rows += int64(len(chunk))
	rep.Applied += out.applied
	rep.Unchanged += out.unchanged
	rep.Skipped += int64(len(out.skips))
	for _, s := range out.skips {
		rep.SkippedBy[s.Reason]++
		if len(rep.Examples) < MaxPullExamples {
			rep.Examples = append(rep.Examples, s)
		}
	}
	return nil
}
