package importer_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/evidence"
	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/pgtest"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/tenancy"
)

var pg = pgtest.New()

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// engines are the two databases, each giving a fresh one per call.
var engines = []struct {
	name string
	url  func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "izin.db") }},
	{"postgres", func(t testing.TB) string { return pg.DatabaseURL(t) }},
}

// env is a tenant on a fresh database with an importer.
type env struct {
	st      *sqlstore.Store
	ten     *tenancy.Service
	imp     *importer.Service
	consent *consent.Service
	admin   auth.Principal // an admin key: no source, so no default İYS source
	now     time.Time
}

func newEnv(t testing.TB, url string) *env {
	t.Helper()
	st := sqlitetest.OpenURL(t, url)
	ten := tenancy.New(st, nil, time.Minute)
	c, err := ten.CreateTenant(context.Background(), tenancy.NewTenant{Name: "Acme", Mersis: "0123456789012345",
		Brand: store.Brand{Code: "ACME", Name: "Acme", Sender: "ACME"}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, ten: ten, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return e.now }
	e.imp = importer.New(st, ten, clock)
	e.consent = consent.New(st, ten, nil, clock)
	e.admin = auth.Principal{TenantID: c.Tenant.ID, KeyID: c.KeyInfo.ID, Scope: store.ScopeAdmin}
	return e
}

// sourcePrincipal is the principal of a new source's key.
func (e *env) sourcePrincipal(t testing.TB, typ store.SourceType) auth.Principal {
	t.Helper()
	src, _, key, err := e.ten.CreateSource(context.Background(), e.admin.TenantID, "Mağaza", typ)
	if err != nil {
		t.Fatal(err)
	}
	return auth.Principal{TenantID: e.admin.TenantID, KeyID: key.ID, SourceID: &src.ID, SourceType: typ, Scope: store.ScopeWrite}
}

// count counts a tenant's rows of a table.
func (e *env) count(t testing.TB, model any) int64 {
	t.Helper()
	var n int64
	if err := e.st.DB().Model(model).Where("tenant_id = ?", e.admin.TenantID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

type counts struct{ events, uploads, marks int64 }

func (e *env) counts(t testing.TB) counts {
	return counts{e.count(t, &store.ConsentEvent{}), e.count(t, &store.IYSUpload{}), e.count(t, &store.ImportRow{})}
}

// verifyChain fails t unless the tenant's event chain verifies.
func (e *env) verifyChain(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	var head store.ChainHead
	if err := e.st.InTx(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		head, err = tx.LockChain(ctx, e.admin.TenantID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var v evidence.Verifier
	if err := e.st.WalkConsentEvents(ctx, e.admin.TenantID, v.Next); err != nil {
		t.Fatalf("event chain: %v", err)
	}
	if err := v.End(head); err != nil {
		t.Fatalf("event chain: %v", err)
	}
}

// status is a recipient's current status of a type.
func (e *env) status(t testing.TB, to string, rtype store.RecipientType, typ store.ConsentType) store.ConsentStatus {
	t.Helper()
	res, err := e.consent.Check(context.Background(), e.admin, consent.CheckRequest{Recipient: to, RecipientType: rtype,
		Types: []store.ConsentType{typ}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Results[0].Status
}

func rowsOf(rows []importer.Row) iter.Seq2[importer.Row, error] {
	return func(yield func(importer.Row, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

const (
	G = store.StatusGranted
	R = store.StatusRejected
)

var (
	trt     = time.FixedZone("TRT", 3*3600)
	day     = 24 * time.Hour
	t2019   = time.Date(2019, 3, 14, 15, 9, 26, 0, trt)
	sms     = store.ConsentSMS
	call    = store.ConsentCall
	email   = store.ConsentEmail
	islak   = "HS_ISLAK_IMZA"
	reasonT = "ERROR_REASON_INVALID_CONSENT_TIME"
)

// row is a valid wet-signature row unless changed.
func row(to string, typ store.ConsentType, status store.ConsentStatus, at time.Time) importer.Row {
	return importer.Row{Recipient: to, Type: typ, Status: status, ConsentTime: &at, IYSSource: islak,
		EvidenceReference: "arşiv kutu 12 / form " + to}
}

// TestRows imports one file holding every kind of row, on each engine, and
// checks each row's outcome: accepted, unchanged, or refused with the
// field at fault and the reason.
func TestRows(t *testing.T) {
	type want struct {
		outcome string // "accepted", "unchanged" or "refused"
		field   string
		reason  string
	}
	accepted, unchanged := want{outcome: "accepted"}, want{outcome: "unchanged"}
	refused := func(field, reason string) want { return want{"refused", field, reason} }
	with := func(r importer.Row, f func(*importer.Row)) importer.Row { f(&r); return r }
	cases := []struct {
		name string
		row  importer.Row
		want want
	}{
		{"ONAY for SMS", row("0532 100 00 01", sms, G, t2019), accepted},
		{"ONAY for calls, the number spelt otherwise", row("+90 (532) 100-00-01", call, G, t2019), accepted},
		{"ONAY for e-mail", row(" Ayse@Example.com.TR ", email, G, t2019), accepted},
		{"ONAY after ONAY changes nothing", row("05321000001", sms, G, t2019.Add(day)), unchanged},
		{"the same row again is unchanged", row("0532 100 00 01", sms, G, t2019), unchanged},
		{"RET after ONAY", row("05321000001", call, R, t2019.Add(2*day)), accepted},
		{"RET after RET changes nothing", row("05321000001", call, R, t2019.Add(3*day)), unchanged},
		{"ONAY older than the current RET", row("05321000001", call, G, t2019.Add(day)), refused("consent_time", reasonT)},
		{"RET as the first record of an individual", row("05321000002", sms, R, t2019), refused("status", "ERROR_REASON_FIRST_RECORD_REJECTED")},
		{"RET as the first record of a merchant", with(row("05321000002", sms, R, t2019), func(r *importer.Row) { r.RecipientType = store.Merchant }), accepted},
		{"malformed phone", row("0532 100 00", sms, G, t2019), refused("recipient", "")},
		{"foreign phone", row("+44 20 7946 0000", call, G, t2019), refused("recipient", "")},
		{"empty recipient", row("", sms, G, t2019), refused("recipient", "")},
		{"e-mail consent for a phone", row("05321000003", email, G, t2019), refused("type", "ERROR_REASON_RECIPIENT_MISMATCH")},
		{"SMS consent for an e-mail address", row("ali@example.com", sms, G, t2019), refused("type", "ERROR_REASON_RECIPIENT_MISMATCH")},
		{"no type", row("05321000003", 0, G, t2019), refused("type", "")},
		{"unknown type", row("05321000003", 9, G, t2019), refused("type", "")},
		{"unknown recipient type", with(row("05321000003", sms, G, t2019), func(r *importer.Row) { r.RecipientType = 7 }), refused("recipient_type", "")},
		{"status NONE", row("05321000003", sms, store.StatusNone, t2019), refused("status", "")},
		{"no status", row("05321000003", sms, 0, t2019), refused("status", "")},
		{"consent date in the future", row("05321000003", sms, G, time.Date(2026, 11, 27, 14, 0, 0, 0, trt)), refused("consent_time", reasonT)},
		{"consent date before 2015-05-01", row("05321000003", sms, G, time.Date(2015, 4, 30, 23, 59, 0, 0, trt)), refused("consent_time", reasonT)},
		{"consent date on 2015-05-01", row("05321000004", sms, G, time.Date(2015, 5, 1, 0, 0, 0, 0, trt)), accepted},
		{"no consent date", with(row("05321000003", sms, G, t2019), func(r *importer.Row) { r.ConsentTime = nil }), refused("consent_time", reasonT)},
		{"no source, and no source to default from", with(row("05321000003", sms, G, t2019), func(r *importer.Row) { r.IYSSource = "" }), refused("iys_source", "")},
		{"unknown source", with(row("05321000003", sms, G, t2019), func(r *importer.Row) { r.IYSSource = "HS_ISLAK" }), refused("iys_source", "")},
		{"HS_KARAR granting", with(row("05321000003", sms, G, t2019), func(r *importer.Row) { r.IYSSource = "HS_KARAR" }), refused("iys_source", "")},
		{"no evidence reference", with(row("05321000003", sms, G, t2019), func(r *importer.Row) { r.EvidenceReference = "" }), refused("evidence_reference", "")},
		{"refused by the reader", importer.Row{Refused: &importer.RowError{Field: "status", Message: `"EVET" is not ONAY or RET`}}, refused("status", "")},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, eng.url(t))
			rows := make([]importer.Row, len(cases))
			for i, c := range cases {
				rows[i] = c.row
				rows[i].Line = int64(i + 2) // the header is line 1
			}
			// Batches of 4 put rows that depend on each other in different
			// transactions as well as in the same one.
			rep, err := e.imp.WithBatchSize(4).Import(context.Background(), e.admin, importer.Params{Name: "historic.csv"}, rowsOf(rows))
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			refusedAt := map[int64]importer.RowError{}
			for _, re := range rep.Errors {
				refusedAt[re.Line] = re
			}
			var nAccepted, nUnchanged, nRefused int64
			for i, c := range cases {
				line := int64(i + 2)
				re, isRefused := refusedAt[line]
				switch c.want.outcome {
				case "refused":
					nRefused++
					if !isRefused {
						t.Errorf("%s (line %d): not refused, want %s refused", c.name, line, c.want.field)
						continue
					}
					if re.Field != c.want.field || re.Reason != c.want.reason || re.Message == "" {
						t.Errorf("%s (line %d): refused as %+v, want field %q reason %q", c.name, line, re, c.want.field, c.want.reason)
					}
				case "accepted":
					nAccepted++
				case "unchanged":
					nUnchanged++
				}
				if c.want.outcome != "refused" && isRefused {
					t.Errorf("%s (line %d): refused %+v, want %s", c.name, line, re, c.want.outcome)
				}
			}
			if rep.Rows != int64(len(cases)) || rep.Accepted != nAccepted || rep.Unchanged != nUnchanged || rep.Refused != nRefused {
				t.Errorf("report %d rows: %d accepted, %d unchanged, %d refused; want %d: %d, %d, %d",
					rep.Rows, rep.Accepted, rep.Unchanged, rep.Refused, len(cases), nAccepted, nUnchanged, nRefused)
			}
			if !slices.IsSortedFunc(rep.Errors, func(a, b importer.RowError) int { return int(a.Line - b.Line) }) {
				t.Errorf("errors are not in file order: %+v", rep.Errors)
			}
			if rep.ImportID == "" || rep.Name != "historic.csv" || rep.Brand != "ACME" {
				t.Errorf("report names import %q %q brand %q", rep.ImportID, rep.Name, rep.Brand)
			}
			for _, s := range []struct {
				to    string
				rtype store.RecipientType
				typ   store.ConsentType
				want  store.ConsentStatus
			}{
				{"05321000001", store.Individual, sms, G},
				{"05321000001", store.Individual, call, R},
				{"ayse@example.com.tr", store.Individual, email, G},
				{"05321000002", store.Individual, sms, store.StatusNone},
				{"05321000002", store.Merchant, sms, R},
				{"05321000003", store.Individual, sms, store.StatusNone},
			} {
				if got := e.status(t, s.to, s.rtype, s.typ); got != s.want {
					t.Errorf("status of %s %d type %d = %d, want %d", s.to, s.rtype, s.typ, got, s.want)
				}
			}
			c := e.counts(t)
			if c.events != nAccepted || c.uploads != nAccepted {
				t.Errorf("%d events and %d İYS uploads, want one of each per accepted row (%d)", c.events, c.uploads, nAccepted)
			}
			e.verifyChain(t)
		})
	}
}

// TestEvidence checks what an imported event says about itself: the
// original date, the source defaulted from the importing source's type,
// the key, and the import's id and name before the row's own reference.
func TestEvidence(t *testing.T) {
	e := newEnv(t, engines[0].url(t))
	p := e.sourcePrincipal(t, store.SourceStore)
	r := row("05321000001", sms, G, t2019)
	r.IYSSource = "" // defaults from the store's type
	rep, err := e.imp.Import(context.Background(), p, importer.Params{Brand: "ACME", Name: "şube-arşivi.xlsx"}, rowsOf([]importer.Row{r}))
	if err != nil || rep.Accepted != 1 {
		t.Fatalf("Import = %+v, %v", rep, err)
	}
	evs, err := e.st.ListConsentEvents(context.Background(), store.EventFilter{TenantID: p.TenantID, Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events = %v, %v", evs, err)
	}
	ev := evs[0]
	wantRef := fmt.Sprintf("import:%s %q; %s", rep.ImportID, "şube-arşivi.xlsx", r.EvidenceReference)
	switch {
	case !ev.ConsentTime.Equal(t2019):
		t.Errorf("consent time %s, want %s", ev.ConsentTime, t2019)
	case !ev.CreatedAt.Equal(e.now):
		t.Errorf("create time %s, want the import's %s", ev.CreatedAt, e.now)
	case ev.IYSSource != "HS_FIZIKSEL_ORTAM":
		t.Errorf("İYS source %q, want the store's default HS_FIZIKSEL_ORTAM", ev.IYSSource)
	case ev.SourceID == nil || *ev.SourceID != *p.SourceID || ev.APIKeyID == nil || *ev.APIKeyID != p.KeyID:
		t.Errorf("source %v key %v, want %s %s", ev.SourceID, ev.APIKeyID, *p.SourceID, p.KeyID)
	case ev.Reference != wantRef:
		t.Errorf("reference %q, want %q", ev.Reference, wantRef)
	case ev.Recipient != "+905321000001" || ev.RecipientType != store.Individual:
		t.Errorf("recipient %q type %d", ev.Recipient, ev.RecipientType)
	}

	// A principal without a key (the command line) leaves the key empty.
	cli := auth.Principal{TenantID: p.TenantID, Scope: store.ScopeAdmin}
	if _, err := e.imp.Import(context.Background(), cli, importer.Params{}, rowsOf([]importer.Row{row("05321000002", sms, G, t2019)})); err != nil {
		t.Fatal(err)
	}
	evs, _ = e.st.ListConsentEvents(context.Background(), store.EventFilter{TenantID: p.TenantID, Limit: 1})
	if evs[0].APIKeyID != nil || evs[0].SourceID != nil || evs[0].IYSSource != islak {
		t.Errorf("command-line import: key %v source %v İYS source %q", evs[0].APIKeyID, evs[0].SourceID, evs[0].IYSSource)
	}

	// An unknown brand refuses the import before any row.
	if _, err := e.imp.Import(context.Background(), p, importer.Params{Brand: "NOPE"}, rowsOf(nil)); err == nil {
		t.Error("import under an unknown brand succeeded")
	}
}

// historicFile is a file of n rows over n/2 recipients: each is granted SMS,
// and every third later rejects it, in a later row; some rows are refused.
func historicFile(n int) []importer.Row {
	rows := make([]importer.Row, 0, n)
	for i := 0; len(rows) < n; i++ {
		to := fmt.Sprintf("0533%07d", i)
		at := t2019.Add(time.Duration(i) * time.Minute)
		rows = append(rows, row(to, sms, G, at))
		switch {
		case i%3 == 0:
			rows = append(rows, row(to, sms, R, at.Add(30*day)))
		case i%7 == 0:
			rows = append(rows, row("0533 12", call, G, at)) // malformed: refused
		default:
			rows = append(rows, row(to, call, G, at))
		}
	}
	for i := range rows {
		rows[i].Line = int64(i + 2)
	}
	return rows[:n]
}

// TestIdempotent imports a file twice: the second time every row is
// unchanged (or refused again), and no event, İYS upload or mark is added.
// A recipient granted then rejected in the file stays rejected.
func TestIdempotent(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, eng.url(t))
			ctx := context.Background()
			rows := historicFile(2500)
			imp := e.imp.WithBatchSize(1000)
			first, err := imp.Import(ctx, e.admin, importer.Params{Name: "a.csv"}, rowsOf(rows))
			if err != nil {
				t.Fatal(err)
			}
			if first.Rows != 2500 || first.Accepted == 0 || first.Refused == 0 || first.Accepted+first.Unchanged+first.Refused != 2500 {
				t.Fatalf("first import: %+v", first)
			}
			after := e.counts(t)
			if after.events != first.Accepted || after.uploads != first.Accepted || after.marks != first.Accepted+first.Unchanged {
				t.Errorf("after the first import %+v; want %d events and uploads, %d marks", after, first.Accepted, first.Accepted+first.Unchanged)
			}
			// The clock moves on: the second import is a later one.
			e.now = e.now.Add(time.Hour)
			second, err := imp.Import(ctx, e.admin, importer.Params{Name: "a (copy).csv"}, rowsOf(rows))
			if err != nil {
				t.Fatal(err)
			}
			if second.Rows != 2500 || second.Accepted != 0 || second.Refused != first.Refused ||
				second.Unchanged != first.Accepted+first.Unchanged {
				t.Errorf("second import: %+v; want every row unchanged but the %d refused again", second, first.Refused)
			}
			if again := e.counts(t); again != after {
				t.Errorf("the second import wrote: %+v, was %+v", again, after)
			}
			if len(second.Errors) != len(first.Errors) || second.Errors[0] != first.Errors[0] {
				t.Errorf("the second import refused other rows: %v…, was %v…", second.Errors[:1], first.Errors[:1])
			}
			if got := e.status(t, "05330000000", store.Individual, sms); got != R {
				t.Errorf("granted then rejected: %d, want REJECTED", got)
			}
			if got := e.status(t, "05330000001", store.Individual, sms); got != G {
				t.Errorf("granted: %d, want GRANTED", got)
			}
			e.verifyChain(t)
		})
	}
}

// TestUploadsQueued checks that every accepted row waits for İYS, pending
// and due, except changes that came from İYS itself.
func TestUploadsQueued(t *testing.T) {
	e := newEnv(t, engines[0].url(t))
	rows := []importer.Row{
		row("05321000001", sms, G, t2019),
		row("05321000001", sms, R, t2019.Add(day)),
		row("05321000002", sms, G, t2019),
		row("05321000003", call, G, t2019),
		row("05321000002", sms, G, t2019.Add(day)), // unchanged
	}
	rows[3].IYSSource = "IYS_WEB" // given at İYS: İYS has it
	rep, err := e.imp.Import(context.Background(), e.admin, importer.Params{}, rowsOf(rows))
	if err != nil || rep.Accepted != 4 {
		t.Fatalf("Import = %+v, %v", rep, err)
	}
	var ups []store.IYSUpload
	if err := e.st.DB().Where("tenant_id = ?", e.admin.TenantID).Order("consent_time, recipient").Find(&ups).Error; err != nil {
		t.Fatal(err)
	}
	if len(ups) != 3 {
		t.Fatalf("%d uploads, want 3", len(ups))
	}
	for _, u := range ups {
		if u.State != store.IYSPending || u.Source != islak || !u.NextAttemptAt.Equal(e.now) || u.Recipient == "+905321000003" {
			t.Errorf("upload %+v", u)
		}
	}
	if ups[2].Status != R || !ups[2].ConsentTime.Equal(t2019.Add(day)) {
		t.Errorf("the rejection's upload: %+v", ups[2])
	}
}

// TestResume fails an import half-way, by the reader and then by the
// database, and sends the whole file again: the rows committed before the
// failure are unchanged, the others are written once.
func TestResume(t *testing.T) {
	e := newEnv(t, engines[0].url(t))
	ctx := context.Background()
	rows := historicFile(250)
	imp := e.imp.WithBatchSize(100)
	broken := errors.New("connection reset")
	failing := func(yield func(importer.Row, error) bool) {
		for i, r := range rows {
			if i == 180 {
				yield(importer.Row{}, broken)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	rep, err := imp.Import(ctx, e.admin, importer.Params{}, failing)
	if !errors.Is(err, broken) {
		t.Fatalf("Import of a broken reader: %v", err)
	}
	// The batch of rows 100–179 was never complete, so never written.
	if rep.Rows != 100 {
		t.Errorf("report of the failed import counts %d rows, want the 100 committed", rep.Rows)
	}
	full, err := imp.Import(ctx, e.admin, importer.Params{}, rowsOf(rows))
	if err != nil {
		t.Fatal(err)
	}
	one := newEnv(t, engines[0].url(t))
	want, err := one.imp.Import(ctx, one.admin, importer.Params{}, rowsOf(rows))
	if err != nil {
		t.Fatal(err)
	}
	if full.Accepted+rep.Accepted != want.Accepted || full.Refused != want.Refused {
		t.Errorf("resumed import accepted %d+%d and refused %d; one import accepts %d and refuses %d",
			rep.Accepted, full.Accepted, full.Refused, want.Accepted, want.Refused)
	}
	if got, w := e.counts(t), one.counts(t); got != w {
		t.Errorf("after resuming %+v, after one import %+v", got, w)
	}

	// A cancelled context stops the import with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := imp.Import(cctx, e.admin, importer.Params{}, rowsOf(historicFile(300))); !errors.Is(err, context.Canceled) {
		t.Errorf("Import with a cancelled context: %v", err)
	}
}

// TestSameRecipientInOneBatch applies rows of one recipient in file order
// inside one transaction: each sees the one before.
func TestSameRecipientInOneBatch(t *testing.T) {
	e := newEnv(t, engines[0].url(t))
	to := "05321000001"
	rows := []importer.Row{
		row(to, sms, G, t2019),
		row(to, sms, R, t2019.Add(day)),
		row(to, sms, G, t2019.Add(2*day)),
		row(to, sms, R, t2019.Add(time.Hour)), // older than the ONAY before it
		row(to, sms, R, t2019.Add(3*day)),
	}
	rep, err := e.imp.Import(context.Background(), e.admin, importer.Params{}, rowsOf(rows))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != 4 || rep.Refused != 1 || rep.Errors[0].Field != "consent_time" {
		t.Errorf("report %+v", rep)
	}
	if got := e.status(t, to, store.Individual, sms); got != R {
		t.Errorf("status %d, want REJECTED", got)
	}
	e.verifyChain(t)
}

// TestErrorsCapped lists at most MaxErrors refused rows, counting all.
func TestErrorsCapped(t *testing.T) {
	e := newEnv(t, engines[0].url(t))
	n := importer.MaxErrors + 5
	bad := func(yield func(importer.Row, error) bool) {
		for i := range n {
			if !yield(importer.Row{Line: int64(i + 1), Recipient: "x"}, nil) {
				return
			}
		}
	}
	rep, err := e.imp.Import(context.Background(), e.admin, importer.Params{}, bad)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Refused != int64(n) || len(rep.Errors) != importer.MaxErrors || rep.Errors[importer.MaxErrors-1].Line != importer.MaxErrors {
		t.Errorf("refused %d, listed %d", rep.Refused, len(rep.Errors))
	}
}
