package iysfile

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/izinhq/izin/server/internal/importer"
)

// Record is a row with what files İYS produces add to the upload layout:
// its daily change file and its consent exports carry when İYS recorded
// each consent (creationDate) and İYS's transaction id (transactionId).
// Files written for an import have neither.
type Record struct {
	importer.Row
	TransactionID string
	// CreationTime is when İYS recorded the consent; nil when the file
	// does not say.
	CreationTime *time.Time
}

// Records yields the file's rows in order, with İYS's columns, skipping
// blank ones. An error ends the records: the file could not be read on.
func (f *File) Records() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if f.first != nil {
			first := *f.first
			f.first = nil
			if !yield(f.record(first), nil) {
				return
			}
		}
		for {
			c, err := f.src.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Record{}, err)
				return
			}
			if blank(c.values) {
				continue
			}
			if !yield(f.record(c), nil) {
				return
			}
		}
	}
}

// record converts a row of cells; a value it cannot read refuses the row.
func (f *File) record(c cells) Record {
	rec := Record{Row: f.row(c), TransactionID: f.cell(c, colTransaction)}
	if v := f.cell(c, colCreated); v != "" {
		t, err := f.date(v)
		if err != nil && rec.Refused == nil {
			rec.Refused = &importer.RowError{Line: c.line, Field: fields[colCreated],
				Message: fmt.Sprintf("%q is not a date: want YYYY-MM-DD HH:mm:ss (Türkiye time)", v)}
		}
		if err == nil {
			rec.CreationTime = &t
		}
	}
	return rec
}
