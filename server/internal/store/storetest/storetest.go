// Package storetest is the conformance suite of store.Store: every backend
// runs it, so the behaviour the rest of izin relies on (tenant isolation,
// the append-only evidence chain, the outbox lease, transactions) is pinned
// down once and checked on each engine.
//
// A backend's test calls RunAll with a constructor of fresh stores:
//
//	func TestSQLite(t *testing.T) {
//		storetest.RunAll(t, func(t *testing.T) store.Store { … })
//	}
//
// Tests are grouped by category (Tenancy, Consent, Times, Verifications,
// Messages, Idempotency, Transactions, Imports, Migrations), so one category
// can be run with -run 'TestSQLite/Messages'.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/izinhq/izin/server/internal/store"
)

// RunAll runs the whole suite. newStore must return a fresh, migrated and
// empty store for the test it is given, and close it (t.Cleanup) when that
// test ends. Leaf tests run in parallel, each with its own store.
func RunAll(t *testing.T, newStore func(t *testing.T) store.Store) {
	categories := []struct {
		name string
		run  func(t *testing.T, newStore func(t *testing.T) store.Store)
	}{
		{"Tenancy", testTenancy},
		{"Consent", testConsent},
		{"Times", testTimes},
		{"Verifications", testVerifications},
		{"Messages", testMessages},
		{"Idempotency", testIdempotency},
		{"Transactions", testTransactions},
		{"Imports", testImports},
		{"Migrations", testMigrations},
		{"IYS", testIYS},
		{"IYSQueue", testIYSQueue},
		{"Landing", testLanding},
		{"Texts", testTexts},
		{"Brands", testBrandUpdates},
		{"SMS", testSMS},
		{"Webhooks", testWebhooks},
	}
	for _, c := range categories {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore) })
	}
}

// test is one leaf test of a category.
type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// runTests runs a category's tests in parallel, each on a fresh store.
func runTests(t *testing.T, newStore func(t *testing.T) store.Store, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

// base is the suite's clock: fixed, in UTC and at microsecond precision,
// the resolution both engines keep.
var base = time.Date(2025, time.March, 14, 9, 26, 53, 589793000, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func ptr[T any](v T) *T { return &v }

// rawDB is implemented by stores that expose their gorm handle; the suite
// uses it only to check what the database itself refuses.
type rawDB interface {
	DB() *gorm.DB
}

// migrator is implemented by stores with versioned migrations.
type migrator interface {
	Migrate(ctx context.Context) ([]string, error)
	SchemaVersion(ctx context.Context) (int, error)
}

// --- fixtures ---

// newTenant creates a tenant with its default brand and returns both.
func newTenant(t *testing.T, s store.Store) (store.Tenant, store.Brand) {
	t.Helper()
	ten, b := tenantRecords()
	if err := s.CreateTenant(t.Context(), &ten, &b); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return ten, b
}

func tenantRecords() (store.Tenant, store.Brand) {
	id := uuid.NewString()
	ten := store.Tenant{
		ID:             id,
		Name:           "Tenant " + id[:8],
		Mersis:         "0123456789012345",
		IYSCode:        "654321",
		CreatedAt:      base,
		TenantSettings: store.DefaultTenantSettings(),
	}
	b := store.Brand{
		ID:          uuid.NewString(),
		TenantID:    id,
		Code:        "100001",
		Name:        "Main brand",
		Sender:      "IZIN",
		RejectRoute: "RET izin 4455",
		IsDefault:   true,
		CreatedAt:   base,
	}
	return ten, b
}

func newSource(t *testing.T, s store.Store, tenantID string) store.Source {
	t.Helper()
	src := store.Source{ID: uuid.NewString(), TenantID: tenantID, Name: "Web shop", Type: store.SourceEcommerce, CreatedAt: base}
	if err := s.CreateSource(t.Context(), &src, nil); err != nil {
		t.Fatalf("CreateSource: %v", err)
	}
	return src
}

func apiKey(tenantID string, sourceID *string) store.APIKey {
	id := uuid.NewString()
	return store.APIKey{
		ID:        id,
		TenantID:  tenantID,
		SourceID:  sourceID,
		Name:      "key " + id[:8],
		Prefix:    "izn_" + id[:8],
		Hash:      "sha256:" + uuid.NewString(),
		Scope:     store.ScopeWrite,
		CreatedAt: base,
	}
}

func newV7(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// message is a queued message due at created.
func message(t *testing.T, ten store.Tenant, b store.Brand, recipient string, created time.Time) *store.Message {
	t.Helper()
	return &store.Message{
		ID:              newV7(t),
		TenantID:        ten.ID,
		BrandID:         b.ID,
		Kind:            store.KindActivation,
		Recipient:       recipient,
		RecipientPrefix: recipient[:6],
		Sender:          b.Sender,
		Body:            "Onay kodunuz 123456",
		RedactedBody:    "Onay kodunuz ******",
		Status:          store.MessageQueued,
		Provider:        "sandbox",
		NextAttemptAt:   created,
		CreatedAt:       created,
	}
}

func verification(ten store.Tenant, b store.Brand, sourceID *string, created time.Time) *store.Verification {
	return &store.Verification{
		ID:            uuid.NewString(),
		TenantID:      ten.ID,
		BrandID:       b.ID,
		SourceID:      sourceID,
		OperatorID:    "op-1",
		Recipient:     "+905321112233",
		RecipientType: store.Individual,
		Types:         "1,2",
		Method:        store.MethodSMSCode,
		Status:        store.VerificationPending,
		CodeHash:      "codehash",
		ExpireAt:      created.Add(3 * time.Minute),
		MaxAttempts:   3,
		Sends:         1,
		LastSentAt:    created,
		FirstName:     "Ayşe",
		LastName:      "Yılmaz",
		CreatedAt:     created,
		UpdatedAt:     created,
	}
}

// event is the consent event with sequence number seq; its hashes are
// stand-ins, the store does not check them.
func event(ten store.Tenant, b store.Brand, recipient string, seq int64) *store.ConsentEvent {
	return &store.ConsentEvent{
		ID:            uuid.NewString(),
		TenantID:      ten.ID,
		Seq:           seq,
		BrandID:       b.ID,
		BrandCode:     b.Code,
		Recipient:     recipient,
		RecipientType: store.Individual,
		Type:          store.ConsentSMS,
		Status:        store.StatusGranted,
		ConsentTime:   at(time.Duration(seq) * time.Second),
		CreatedAt:     at(time.Duration(seq)*time.Second + time.Millisecond),
		OperatorID:    "op-1",
		Method:        store.MethodNone,
		IYSSource:     "HS_WEB",
		Reference:     fmt.Sprintf("ref-%d", seq),
		IPAddress:     "192.0.2.1",
		UserAgent:     "storetest",
		PrevHash:      fmt.Sprintf("hash-%d", seq-1),
		Hash:          fmt.Sprintf("hash-%d", seq),
	}
}

// --- helpers ---

// inTx runs fn in a transaction and fails the test if it fails.
func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.InTx(t.Context(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// wantErr fails the test unless err is (or wraps) want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// same reports, as an error, every field in which got differs from want.
// Times compare as instants (time.Equal), pointers by what they point to.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

func diff(got, want any) []string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Type() != w.Type() {
		return []string{fmt.Sprintf("type %s, want %s", g.Type(), w.Type())}
	}
	return diffValue("", g, w, nil)
}

var timeType = reflect.TypeFor[time.Time]()

func diffValue(path string, g, w reflect.Value, out []string) []string {
	switch {
	case g.Type() == timeType:
		gt, wt := g.Interface().(time.Time), w.Interface().(time.Time)
		if !gt.Equal(wt) {
			out = append(out, fmt.Sprintf("%s: got %s, want %s", path, gt.Format(time.RFC3339Nano), wt.Format(time.RFC3339Nano)))
		}
	case g.Kind() == reflect.Pointer:
		if g.IsNil() || w.IsNil() {
			if g.IsNil() != w.IsNil() {
				out = append(out, fmt.Sprintf("%s: got %s, want %s", path, show(g), show(w)))
			}
			return out
		}
		return diffValue(path, g.Elem(), w.Elem(), out)
	case g.Kind() == reflect.Struct:
		for i := range g.NumField() {
			f := g.Type().Field(i)
			name := f.Name
			if path != "" {
				name = path + "." + name
			}
			out = diffValue(name, g.Field(i), w.Field(i), out)
		}
	case g.Kind() == reflect.Slice && g.Type().Elem().Kind() == reflect.Uint8:
		if !bytes.Equal(g.Bytes(), w.Bytes()) {
			out = append(out, fmt.Sprintf("%s: got %q, want %q", path, g.Bytes(), w.Bytes()))
		}
	case g.Kind() == reflect.Slice:
		if g.Len() != w.Len() {
			return append(out, fmt.Sprintf("%s: got %d elements, want %d", path, g.Len(), w.Len()))
		}
		for i := range g.Len() {
			out = diffValue(fmt.Sprintf("%s[%d]", path, i), g.Index(i), w.Index(i), out)
		}
	default:
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			out = append(out, fmt.Sprintf("%s: got %#v, want %#v", path, g.Interface(), w.Interface()))
		}
	}
	return out
}

func show(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	if t, ok := v.Elem().Interface().(time.Time); ok {
		return "&" + t.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("&%#v", v.Elem().Interface())
}

// ids lists the IDs of records, in order.
func ids[T any](recs []T, id func(*T) string) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = id(&recs[i])
	}
	return out
}

func messageIDs(ms []store.Message) []string {
	return ids(ms, func(m *store.Message) string { return m.ID })
}

// countSends counts sends in a transaction, as the outbox's limits do.
func countSends(t *testing.T, s store.Store, c store.SendCount) (int64, error) {
	t.Helper()
	var n int64
	err := s.InTx(t.Context(), func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.CountSends(ctx, c)
		return err
	})
	return n, err
}

// countStarts counts a source's recent verifications in a transaction, as
// the start limit does.
func countStarts(t *testing.T, s store.Store, tenantID, sourceID string, since time.Time) (int64, error) {
	t.Helper()
	var n int64
	err := s.InTx(t.Context(), func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.CountRecentStarts(ctx, tenantID, &sourceID, "", since)
		return err
	})
	return n, err
}
