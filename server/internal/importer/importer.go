// Package importer brings consents collected before izin (on paper with a
// wet signature, or in another system) into izin in bulk, with their
// original dates and evidence references. It is transport-free: the gRPC
// ImportConsents stream and the `izin import FILE` command both feed it
// rows.
//
// Every row passes the rules of RecordConsent and RejectConsent: the same
// recipient normalisation, type and date checks, and the same state
// machine (consent.Batch, one implementation with consent.Apply). A row the
// rules refuse is reported with the field at fault and does not stop the
// rows around it. Accepted rows are hash-chained events, queued for İYS like
// any other change unless İYS already holds them: an import can say so for
// the whole file (IYSRegistered), and a row whose İYS upload window (3
// business days) has closed is never queued, since İYS would refuse it; both
// are kept as skipped uploads and counted in the report.
//
// Rows are written in batches, one transaction each, so memory stays
// constant whatever the size of the file and a million rows take minutes.
// A file sent twice changes nothing the second time: every row written is
// marked by a hash of its content (import_rows) in the transaction of its
// event, and a marked row is skipped as unchanged. The same mark makes an
// import that failed half-way safe to send again from the start.
package importer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/recipient"
	"github.com/izinhq/izin/server/internal/store"
)

const (
	// DefaultBatchSize is the number of rows written per transaction: large
	// enough that statements are few, small enough that other writers of
	// the tenant, who wait for the chain lock, wait a fraction of a second.
	DefaultBatchSize = 1000
	// MaxErrors is how many refused rows a report lists; the count of
	// refused rows goes on.
	MaxErrors = 10000
)

// Field limits, the same as the API's, for callers that do not pass
// through its validation (the command line).
const (
	maxRecipient = 320
	maxSource    = 64
	maxReference = 512
	maxRetailer  = 64
)

// Row is one consent in the İYS column layout.
type Row struct {
	// Line is the row's number in the source file, echoed in the report.
	Line          int64
	Recipient     string
	RecipientType store.RecipientType // zero means BIREYSEL
	Type          store.ConsentType
	Status        store.ConsentStatus // GRANTED (ONAY) or REJECTED (RET)
	// IYSSource is the İYS consent source, e.g. HS_ISLAK_IMZA. When empty
	// it defaults from the type of the caller's source, as RecordConsent
	// does; a caller bound to no source (an admin key, the command line
	// without --source) has no default, so the row is refused: guessing
	// "electronic" for a paper form would be false evidence.
	IYSSource string
	// ConsentTime is when the consent was given (İYS consentDate). Unlike
	// RecordConsent, where it defaults to now, it is required: a historic
	// consent dated at the import would be false evidence.
	ConsentTime *time.Time
	// EvidenceReference tells where the proof is kept (archive box, scan
	// id, record of the other system). It is required: without it an
	// imported consent could not be proven.
	EvidenceReference string
	// RetailerCode is İYS's retailer (bayi) code. izin keeps no retailer
	// codes yet: it is checked for length and otherwise not stored.
	RetailerCode string
	// Refused, when set, is why the reader already refused the row (a
	// value the file parser could not read, a violation of the API's
	// validation); the row is reported with it, in file order.
	Refused *RowError
}

// RowError is why a row was refused.
type RowError struct {
	Line int64
	// Field is the row's field at fault, as named in izin.v1.ImportRow
	// ("recipient", "consent_time").
	Field string
	// Reason is an izin.v1.ErrorReason name when one applies.
	Reason  string
	Message string
}

// Report is the outcome of an import.
type Report struct {
	ImportID string
	Name     string
	Brand    string
	// Rows counts every row read, Accepted those that changed a consent,
	// Unchanged those that changed nothing (imported before, repeated in
	// the file, ONAY after ONAY), Refused those the rules refused.
	Rows, Accepted, Unchanged, Refused int64
	// Of the accepted rows: QueuedForIYS were queued for upload,
	// AlreadyRegistered were not because the import said İYS holds them,
	// OutsideWindow were not because İYS's upload window had closed.
	QueuedForIYS, AlreadyRegistered, OutsideWindow int64
	// Errors lists the refused rows in file order, at most MaxErrors.
	Errors []RowError
}

// Mode says whether an import's consents still have to reach İYS.
type Mode int

const (
	// Upload (the default) queues accepted rows for İYS, except those
	// whose upload window has closed.
	Upload Mode = iota
	// AlreadyRegistered records the rows as held by İYS already: none is
	// uploaded.
	AlreadyRegistered
)

// Params name an import: its brand ("" is the default brand), a name kept
// in the evidence (the file name), and its Mode.
type Params struct {
	Brand string
	Name  string
	IYS   Mode
}

// Window tells whether İYS still accepts a consent given at a time, now:
// its three-business-day upload window (iys.Calendar.Late).
type Window interface {
	Late(given, now time.Time) bool
}

// Store is what the importer writes through.
type Store interface {
	store.Transactor
}

// Directory resolves brands.
type Directory interface {
	Brand(ctx context.Context, tenantID, code string) (*store.Brand, error)
}

// Service imports consents.
type Service struct {
	store     Store
	dir       Directory
	now       func() time.Time
	batchSize int
	window    Window
}

// New returns an importer writing DefaultBatchSize rows per transaction.
func New(s Store, d Directory, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: s, dir: d, now: now, batchSize: DefaultBatchSize}
}

// WithWindow sets the İYS upload window; without one every row of an
// Upload import is queued.
func (s *Service) WithWindow(w Window) *Service {
	s.window = w
	return s
}

// WithBatchSize sets the rows per transaction (tests use small batches to
// cross batch boundaries).
func (s *Service) WithBatchSize(n int) *Service {
	if n > 0 {
		s.batchSize = n
	}
	return s
}

// Import reads rows and writes them for the principal's tenant under
// params.Brand ("" is the default brand); params.Name (e.g. the file name)
// is kept in the evidence of every event with the import's id.
//
// rows yields each row, or an error when the source itself fails (a broken
// stream, an unreadable file); that ends the import. An error of the
// source or of the database ends the import with an error, and the report
// counts the rows committed until then: batches written stay written, and
// sending the whole input again completes the import without writing them
// twice.
//
// rows is consumed on the caller's goroutine while a second goroutine
// writes the previous batch, so reading and parsing overlap the database.
func (s *Service) Import(ctx context.Context, p auth.Principal, params Params, rows iter.Seq2[Row, error]) (*Report, error) {
	b, err := s.dir.Brand(ctx, p.TenantID, params.Brand)
	if err != nil {
		return nil, err
	}
	name := params.Name
	run := &run{svc: s, tenantID: p.TenantID, brand: b, mode: params.IYS,
		rep: &Report{ImportID: uuid.NewString(), Name: name, Brand: b.Code}, hash: sha256.New()}
	run.evidence = consent.EvidenceOf(p)
	if p.KeyID == "" {
		run.evidence.APIKeyID = nil // the command line acts with no key
	}
	if p.SourceID == nil {
		run.evidence.IYSSource = "" // no channel, so no default source
	}
	run.reference = "import:" + run.rep.ImportID
	if name != "" {
		run.reference += " " + strconv.Quote(name)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []prepared, 1)
	written := make(chan error, 1)
	go func() { written <- run.write(ctx, cancel, batches) }()

	var readErr error
	batch := make([]prepared, 0, s.batchSize)
	send := func() bool {
		select {
		case batches <- batch:
			batch = make([]prepared, 0, s.batchSize)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for row, err := range rows {
		if err != nil {
			readErr = err
			break
		}
		batch = append(batch, run.prepare(row, s.now()))
		if len(batch) == s.batchSize && !send() {
			break
		}
	}
	if readErr == nil && len(batch) > 0 {
		send()
	}
	close(batches)
	err = <-written
	switch {
	case err != nil:
		return run.rep, err
	case readErr != nil:
		return run.rep, fmt.Errorf("read import rows: %w", readErr)
	}
	return run.rep, ctx.Err()
}

// run is one import.
type run struct {
	svc       *Service
	tenantID  string
	brand     *store.Brand
	mode      Mode
	evidence  consent.Evidence
	reference string // "import:<id> "<name>"", before each row's own reference
	rep       *Report
	hash      hash.Hash // reused by prepare, which runs on one goroutine
}

// prepared is a row checked by every rule that needs no stored state.
type prepared struct {
	line    int64
	refused *RowError
	hash    string
	change  consent.Change
}

func refuse(line int64, field string, reason errs.Reason, format string, args ...any) prepared {
	e := &RowError{Line: line, Field: field, Message: fmt.Sprintf(format, args...)}
	if reason != "" {
		e.Reason = "ERROR_REASON_" + string(reason)
	}
	return prepared{line: line, refused: e}
}

// refuseErr reports a domain error of a rule under field, unless the rule
// named a field itself.
func refuseErr(line int64, field string, err error) prepared {
	re := rowError(line, err)
	if re.Field == "" {
		re.Field = field
	}
	return prepared{line: line, refused: &re}
}

func rowError(line int64, err error) RowError {
	e, ok := errs.As(err)
	if !ok {
		return RowError{Line: line, Message: err.Error()}
	}
	re := RowError{Line: line, Field: e.Field, Message: e.Message}
	if e.Reason != "" {
		re.Reason = "ERROR_REASON_" + string(e.Reason)
	}
	return re
}

// prepare applies every rule that needs no stored state, so that a batch's
// transaction only does what needs the lock.
func (r *run) prepare(row Row, now time.Time) prepared {
	line := row.Line
	if row.Refused != nil {
		e := *row.Refused
		e.Line = line
		return prepared{line: line, refused: &e}
	}
	if len(row.Recipient) > maxRecipient {
		return refuse(line, "recipient", "", "at most %d characters", maxRecipient)
	}
	rc, err := recipient.Parse(row.Recipient)
	if err != nil {
		return refuse(line, "recipient", "", "%v", err)
	}
	rtype := row.RecipientType
	switch rtype {
	case 0:
		rtype = store.Individual
	case store.Individual, store.Merchant:
	default:
		return refuse(line, "recipient_type", "", "want BIREYSEL or TACIR")
	}
	switch row.Type {
	case store.ConsentSMS, store.ConsentCall, store.ConsentEmail:
	case 0:
		return refuse(line, "type", "", "required: MESAJ, ARAMA or EPOSTA")
	default:
		return refuse(line, "type", "", "want MESAJ, ARAMA or EPOSTA")
	}
	if _, err := consent.TypesFor(rc, []store.ConsentType{row.Type}); err != nil {
		return refuseErr(line, "type", renamed(err, "types", "type"))
	}
	if row.Status != store.StatusGranted && row.Status != store.StatusRejected {
		return refuse(line, "status", "", "want ONAY (GRANTED) or RET (REJECTED)")
	}
	if row.ConsentTime == nil || row.ConsentTime.IsZero() {
		return refuse(line, "consent_time", errs.ReasonInvalidConsentTime,
			"required: the date the consent was given (İYS consentDate)")
	}
	at, err := consent.ValidateConsentTime(row.ConsentTime, now)
	if err != nil {
		return refuseErr(line, "consent_time", err)
	}
	at = at.UTC().Truncate(evidence.Precision)
	src := row.IYSSource
	switch {
	case src == "" && r.evidence.IYSSource == "":
		return refuse(line, "iys_source", "",
			"required: the İYS consent source, e.g. HS_ISLAK_IMZA for a wet signature (only imports by a source's key default it)")
	case src == "":
		src = r.evidence.IYSSource
	case len(src) > maxSource || !consent.KnownSource(src):
		return refuse(line, "iys_source", "", "%q is not an İYS consent source (HS_ISLAK_IMZA, HS_FIZIKSEL_ORTAM, HS_WEB, …)", src)
	case src == "HS_KARAR" && row.Status != store.StatusRejected:
		return refuse(line, "iys_source", "", "HS_KARAR (the service provider's own decision) can only reject (RET)")
	}
	switch {
	case row.EvidenceReference == "":
		return refuse(line, "evidence_reference", "",
			"required: where the proof of this consent is kept (archive box, scan id, record in another system)")
	case len(row.EvidenceReference) > maxReference:
		return refuse(line, "evidence_reference", "", "at most %d characters", maxReference)
	case len(row.RetailerCode) > maxRetailer:
		return refuse(line, "retailer_code", "", "at most %d characters", maxRetailer)
	}
	ev := r.evidence
	ev.IYSSource = src
	ev.Reference = r.reference + "; " + row.EvidenceReference
	c := consent.Change{TenantID: r.tenantID, Brand: r.brand, Recipient: rc.Value, RecipientType: rtype,
		Types: []store.ConsentType{row.Type}, Status: row.Status, ConsentTime: at, Evidence: ev}
	switch {
	case r.mode == AlreadyRegistered:
		c.IYS = consent.IYSRegistered
	case r.svc.window != nil && r.svc.window.Late(at, now):
		c.IYS = consent.IYSOutsideWindow
	}
	return prepared{line: line, change: c, hash: r.rowHash(c, row.EvidenceReference)}
}

// renamed returns err with its field renamed: consent's rules name the
// fields of RecordConsent, an import row has one type.
func renamed(err error, from, to string) error {
	if e, ok := errs.As(err); ok && e.Field == from {
		c := *e
		c.Field = to
		return &c
	}
	return err
}

// rowHash identifies a row by what it asserts: the tenant, brand,
// recipient, recipient type, type, status, consent time, source and
// evidence reference. Spelling does not count (the recipient is
// normalised, the time is an instant), and neither does the import that
// brought it, so the same file sent again, or under another name, is
// recognised.
func (r *run) rowHash(c consent.Change, reference string) string {
	h := r.hash
	h.Reset()
	var n [binary.MaxVarintLen64]byte
	for _, f := range []string{"izin-import-v1", c.TenantID, c.Brand.ID, c.Recipient,
		strconv.Itoa(int(c.RecipientType)), strconv.Itoa(int(c.Types[0])), strconv.Itoa(int(c.Status)),
		c.ConsentTime.UTC().Format(time.RFC3339Nano), c.Evidence.IYSSource, reference} {
		// Length-prefixed, so no two different rows can write the same bytes.
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// write applies batches in order until the channel closes or one fails;
// on failure it cancels the import so the reader stops.
func (r *run) write(ctx context.Context, cancel context.CancelFunc, batches <-chan []prepared) error {
	for batch := range batches {
		if err := r.writeBatch(ctx, batch); err != nil {
			cancel()
			return err
		}
	}
	return nil
}

// outcome is what one batch did, merged into the report once committed.
type outcome struct {
	accepted, unchanged, refused          int64
	queued, alreadyRegistered, outsideWin int64
	errors                                []RowError
}

// writeBatch writes one batch in one transaction: rows imported before are
// skipped, the others go through consent.Batch in file order, and every
// row that passed is marked imported with its event.
func (r *run) writeBatch(ctx context.Context, batch []prepared) error {
	var out outcome
	now := r.svc.now()
	rows := make([]consent.LedgerRow, len(batch))
	for i := range batch {
		if p := &batch[i]; p.refused == nil {
			rows[i] = consent.LedgerRow{Hash: p.hash, Change: &p.change}
		}
	}
	err := consent.WriteLedgered(ctx, r.svc.store, r.tenantID, r.brand.ID, now, rows, func() { out = outcome{} },
		func(i int, res consent.LedgerResult) {
			p := &batch[i]
			switch {
			case res.Passed:
				out.refuse(*p.refused)
			case res.Refused != nil:
				// The rules name no field for a first RET: the status is
				// what cannot be.
				out.refuse(*refuseErr(p.line, "status", res.Refused).refused)
			case res.Unchanged(): // imported before; ONAY after ONAY
				out.unchanged++
			default:
				out.accepted++
				out.count(p.change)
			}
		})
	if err != nil {
		return errs.Wrap(err, "import consents")
	}
	rep := r.rep
	rep.Rows += int64(len(batch))
	rep.Accepted += out.accepted
	rep.Unchanged += out.unchanged
	rep.Refused += out.refused
	rep.QueuedForIYS += out.queued
	rep.AlreadyRegistered += out.alreadyRegistered
	rep.OutsideWindow += out.outsideWin
	if room := MaxErrors - len(rep.Errors); room > 0 {
		rep.Errors = append(rep.Errors, out.errors[:min(room, len(out.errors))]...)
	}
	return nil
}

// count counts an accepted change by what İYS is told of it.
func (o *outcome) count(c consent.Change) {
	switch {
	case c.IYS == consent.IYSRegistered:
		o.alreadyRegistered++
	case c.IYS == consent.IYSOutsideWindow:
		o.outsideWin++
	case !strings.HasPrefix(c.Evidence.IYSSource, "IYS_"):
		o.queued++
	}
}

func (o *outcome) refuse(e RowError) {
	o.refused++
	if len(o.errors) < MaxErrors {
		o.errors = append(o.errors, e)
	}
}
