package sqlstore

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/izinhq/izin/server/internal/store"
)

// Bulk writes for imports: one statement per chunk of rows instead of one
// per row, which is what lets a million-row file import in minutes.

// maxParams keeps one statement under SQLite's limit of 32766 bound
// variables (PostgreSQL allows 65535).
const maxParams = 32000

// chunk is how many rows of columns columns fit in one statement.
func chunk(columns int) int { return maxParams / columns }

// createChunked inserts rows in as few statements as the parameter limit
// allows; db may carry clauses (ON CONFLICT) for every chunk.
func createChunked[T any](db *gorm.DB, rows []*T) error {
	if len(rows) == 0 {
		return nil
	}
	return translate(db.CreateInBatches(rows, chunk(columnCount(reflect.TypeFor[T]()))).Error)
}

// columnCount is the number of columns a record type maps to: its fields,
// with embedded structs flattened as gorm does.
func columnCount(t reflect.Type) int {
	n := 0
	for f := range t.Fields() {
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			n += columnCount(f.Type)
		} else if f.IsExported() {
			n++
		}
	}
	return n
}

func (t *txStore) ConsentStatesOf(ctx context.Context, tenantID, brandID string, recipients []string) ([]store.ConsentState, error) {
	var out []store.ConsentState
	// IN lists are chunked like inserts: a batch may name more recipients
	// than one statement can bind.
	for start := 0; start < len(recipients); start += chunk(1) {
		part := recipients[start:min(start+chunk(1), len(recipients))]
		var page []store.ConsentState
		q := t.db.WithContext(ctx)
		if t.dialect == Postgres {
			// One primary-key probe per recipient. With "recipient IN (…)"
			// or a plain join, the planner, which cannot tell that a
			// tenant's rows may be most of the table (nor, while a large
			// import runs, how large it has grown), may read every row of
			// the tenant and brand instead: seconds per batch at a million
			// rows. OFFSET 0 keeps the subquery from being flattened into a
			// join, so it runs per recipient, by the index.
			q = q.Raw(`SELECT s.* FROM unnest(?::text[]) AS w(recipient), LATERAL (
				SELECT * FROM consent_states c
				WHERE c.tenant_id = ? AND c.brand_id = ? AND c.recipient = w.recipient OFFSET 0) s`,
				textArray(part), tenantID, brandID)
		} else {
			// SQLite probes the primary key once per listed recipient.
			q = q.Where("tenant_id = ? AND brand_id = ? AND recipient IN ?", tenantID, brandID, part)
		}
		if err := q.Find(&page).Error; err != nil {
			return nil, translate(err)
		}
		out = append(out, page...)
	}
	return out, nil
}

func (t *txStore) PutConsentStates(ctx context.Context, states []*store.ConsentState) error {
	return createChunked(t.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   consentStateKey,
		DoUpdates: clause.AssignmentColumns(consentStateColumns),
	}), states)
}

func (t *txStore) ImportedRows(ctx context.Context, tenantID string, hashes []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for start := 0; start < len(hashes); start += chunk(1) {
		part := hashes[start:min(start+chunk(1), len(hashes))]
		var found []string
		q := t.db.WithContext(ctx)
		if t.dialect == Postgres {
			// One primary-key probe per hash, as in ConsentStatesOf.
			q = q.Raw(`SELECT i.row_hash FROM unnest(?::text[]) AS w(row_hash), LATERAL (
				SELECT row_hash FROM import_rows r
				WHERE r.tenant_id = ? AND r.row_hash = w.row_hash OFFSET 0) i`, textArray(part), tenantID)
		} else {
			q = q.Model(&store.ImportRow{}).Select("row_hash").Where("tenant_id = ? AND row_hash IN ?", tenantID, part)
		}
		if err := q.Scan(&found).Error; err != nil {
			return nil, translate(err)
		}
		for _, h := range found {
			out[h] = true
		}
	}
	return out, nil
}

func (t *txStore) InsertImportRows(ctx context.Context, rows []*store.ImportRow) error {
	for _, r := range rows {
		r.CreatedAt = r.CreatedAt.UTC()
	}
	return createChunked(t.db.WithContext(ctx), rows)
}

// textArray is a PostgreSQL text[] literal bound as one parameter. gorm
// would expand a plain slice into a list of parameters; a driver.Valuer it
// binds as is.
type textArray []string

func (a textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		// Quoted, with quotes and backslashes escaped, every element is
		// taken literally: no NULL, no nesting, commas and braces allowed.
		b.WriteByte('"')
		for _, r := range s {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
