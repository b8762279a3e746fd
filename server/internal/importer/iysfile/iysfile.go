// Package iysfile reads consent files in the İYS column layout, as CSV or
// XLSX, streaming: a row at a time, whatever the size of the file.
//
// The layout is İYS's bulk consent upload: a consent per row with its
// recipient (ALICI / recipient), recipient type (ALICI TİPİ /
// recipientType: BIREYSEL or TACIR), type (İZİN TİPİ / type: MESAJ, ARAMA
// or EPOSTA), status (DURUM / status: ONAY or RET), source (KAYNAK /
// source: HS_ISLAK_IMZA, …) and date (İZİN TARİHİ / consentDate:
// "YYYY-MM-DD HH:mm:ss", Türkiye time), plus izin's evidence reference
// (KANIT / evidence_reference) and İYS's retailer code (BAYİ KODU /
// retailerCode). Headers are matched in any case, with or without Turkish
// letters, spaces or underscores, in Turkish or as İYS's API names. A file
// without a header row is read in the column order of İYS's own CSV
// uploader: type, source, recipient, status, consentDate, recipientType,
// then evidence reference and retailer code. Files İYS produces (its daily
// change file, its consent exports) add İYS's creation date and
// transaction id, which Records reads too.
//
// A value the reader cannot read (an unknown type, a date in no known
// format) refuses its row, naming the field, and the import goes on; only
// a file that cannot be read at all, or has no usable header, fails.
package iysfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Istanbul on machines without a zone database
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/store"
)

// column is a field of an import row.
type column int

const (
	colType column = iota
	colSource
	colRecipient
	colStatus
	colDate
	colRecipientType
	colEvidence
	colRetailer
	colCreated     // İYS's files only: when İYS recorded the consent
	colTransaction // İYS's files only: İYS's transaction id
	nColumns
)

// fields are the columns' names in izin.v1.ImportRow, for refusals.
var fields = [nColumns]string{"type", "iys_source", "recipient", "status", "consent_time", "recipient_type",
	"evidence_reference", "retailer_code", "creation_time", "transaction_id"}

// headers maps folded header names (see fold) to columns: İYS's Turkish
// headings and their variants, İYS's API names, and izin's proto names.
var headers = map[string]column{
	"izintipi": colType, "izinturu": colType, "tip": colType, "tur": colType, "type": colType,
	"consenttype": colType, "kanal": colType, "iletisimkanali": colType,

	"kaynak": colSource, "izinkaynagi": colSource, "source": colSource, "iyssource": colSource,
	"consentsource": colSource,

	"alici": colRecipient, "aliciadresi": colRecipient, "iletisimadresi": colRecipient, "recipient": colRecipient,

	"durum": colStatus, "izindurumu": colStatus, "status": colStatus,

	"izintarihi": colDate, "tarih": colDate, "onaytarihi": colDate, "consentdate": colDate,
	"consenttime": colDate, "date": colDate,

	"alicitipi": colRecipientType, "alicituru": colRecipientType, "recipienttype": colRecipientType,

	"kanit": colEvidence, "kanitreferansi": colEvidence, "kanitref": colEvidence, "delil": colEvidence,
	"belge": colEvidence, "belgeno": colEvidence, "referans": colEvidence, "reference": colEvidence,
	"evidence": colEvidence, "evidencereference": colEvidence,

	"bayikodu": colRetailer, "bayi": colRetailer, "retailercode": colRetailer, "retailer": colRetailer,

	"creationdate": colCreated, "creationtime": colCreated, "olusturmatarihi": colCreated, "kayittarihi": colCreated,
	"islemtarihi": colCreated,

	"transactionid": colTransaction, "islemno": colTransaction, "islemnumarasi": colTransaction,
	"islemid": colTransaction, "islemkimligi": colTransaction,
}

// required columns: a file without them cannot hold a consent.
var required = []column{colRecipient, colType, colStatus, colDate}

// fold lower-cases s the Turkish way and writes it in ASCII without
// spaces or punctuation, so that "İZİN TARİHİ", "Izin Tarihi",
// "izin_tarihi" and "İzin tarihi" are one name, and "E-POSTA" is "eposta".
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLowerSpecial(unicode.TurkishCase, strings.TrimSpace(s)) {
		r = ascii(r)
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ascii writes a lower-case Turkish letter as the ASCII letter İYS codes
// and spreadsheet headings fall back to; other runes are unchanged.
func ascii(r rune) rune {
	switch r {
	case 'ı', 'î':
		return 'i'
	case 'ş':
		return 's'
	case 'ğ':
		return 'g'
	case 'ü', 'û':
		return 'u'
	case 'ö':
		return 'o'
	case 'ç':
		return 'c'
	case 'â':
		return 'a'
	}
	return r
}

// cells is one row of a file, with its line (CSV) or row number (XLSX).
type cells struct {
	values []string
	line   int64
}

// source reads rows of cells; io.EOF ends it.
type source interface {
	next() (cells, error)
	close() error
}

// File is an open consent file.
type File struct {
	// Format is "csv" or "xlsx".
	Format string
	// Header tells whether the file has a header row; without one the
	// columns are in İYS's uploader order.
	Header bool
	// Ignored lists header cells that name no known column.
	Ignored []string

	src   source
	index [nColumns]int // the cell of each column; -1 when absent
	first *cells        // a data row read while looking for the header
	loc   *time.Location
	// date1904 tells that an XLSX file counts serial dates from 1904.
	date1904 bool
}

// Open opens a CSV (.csv, .txt) or XLSX (.xlsx) file, by its extension, and
// reads its header. sheet names the XLSX sheet to read; empty means the
// first one.
func Open(path, sheet string) (*File, error) {
	loc, err := time.LoadLocation("Europe/Istanbul")
	if err != nil {
		return nil, fmt.Errorf("load the Europe/Istanbul time zone: %w", err)
	}
	f := &File{loc: loc}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv", ".txt":
		f.Format = "csv"
		f.src, err = openCSV(path)
	case ".xlsx", ".xlsm":
		f.Format = "xlsx"
		var x *xlsxSource
		x, err = openXLSX(path, sheet)
		if x != nil {
			f.src, f.date1904 = x, x.date1904
		}
	default:
		return nil, fmt.Errorf("%s: want a .csv or .xlsx file, not %q", path, ext)
	}
	if err != nil {
		return nil, err
	}
	if err := f.readHeader(); err != nil {
		_ = f.src.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Close releases the file.
func (f *File) Close() error { return f.src.close() }

// readHeader finds the first non-empty row and maps its cells to columns;
// a first row that names no column but starts with a consent type is data
// in İYS's uploader order.
func (f *File) readHeader() error {
	for {
		c, err := f.src.next()
		if errors.Is(err, io.EOF) {
			return errors.New("the file is empty")
		}
		if err != nil {
			return err
		}
		if blank(c.values) {
			continue
		}
		for i := range f.index {
			f.index[i] = -1
		}
		known := 0
		var unknown []string
		for i, v := range c.values {
			col, ok := headers[fold(v)]
			switch {
			case !ok:
				if strings.TrimSpace(v) != "" {
					unknown = append(unknown, strings.TrimSpace(v))
				}
			case f.index[col] >= 0:
				return fmt.Errorf("line %d: columns %q and %q are both the %s", c.line, c.values[f.index[col]], v, fields[col])
			default:
				f.index[col] = i
				known++
			}
		}
		if known == 0 {
			if _, ok := consentTypes[fold(c.values[0])]; ok {
				for i := range f.index {
					f.index[i] = i
				}
				f.first = &c
				return nil
			}
			return fmt.Errorf("line %d: no header row: want columns such as ALICI, İZİN TİPİ, DURUM, KAYNAK, İZİN TARİHİ, ALICI TİPİ, KANIT", c.line)
		}
		var missing []string
		for _, col := range required {
			if f.index[col] < 0 {
				missing = append(missing, fields[col])
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("line %d: the header has no column for %s (read %q)", c.line, strings.Join(missing, ", "), c.values)
		}
		f.Header, f.Ignored = true, unknown
		return nil
	}
}

func blank(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// Rows yields the file's rows in order, skipping blank ones. An error ends
// the rows: the file could not be read on.
func (f *File) Rows() iter.Seq2[importer.Row, error] {
	return func(yield func(importer.Row, error) bool) {
		for rec, err := range f.Records() {
			if !yield(rec.Row, err) {
				return
			}
		}
	}
}

// cell is the trimmed value of a column, "" when absent.
func (f *File) cell(c cells, col column) string {
	i := f.index[col]
	if i < 0 || i >= len(c.values) {
		return ""
	}
	return strings.TrimSpace(c.values[i])
}

var (
	recipientTypes = map[string]store.RecipientType{
		"": 0, "bireysel": store.Individual, "individual": store.Individual,
		"tacir": store.Merchant, "merchant": store.Merchant,
	}
	consentTypes = map[string]store.ConsentType{
		"mesaj": store.ConsentSMS, "sms": store.ConsentSMS,
		"arama": store.ConsentCall, "call": store.ConsentCall,
		"eposta": store.ConsentEmail, "email": store.ConsentEmail,
	}
	statuses = map[string]store.ConsentStatus{
		"onay": store.StatusGranted, "granted": store.StatusGranted,
		"ret": store.StatusRejected, "red": store.StatusRejected, "rejected": store.StatusRejected,
	}
)

// row converts a row of cells; a value it cannot read refuses the row.
func (f *File) row(c cells) importer.Row {
	r := importer.Row{Line: c.line}
	refuse := func(col column, reason, format string, args ...any) importer.Row {
		r.Refused = &importer.RowError{Line: c.line, Field: fields[col], Reason: reason, Message: fmt.Sprintf(format, args...)}
		return r
	}
	r.Recipient = f.recipient(f.cell(c, colRecipient))
	v := f.cell(c, colRecipientType)
	rtype, ok := recipientTypes[fold(v)]
	if !ok {
		return refuse(colRecipientType, "", "%q is not BIREYSEL or TACIR", v)
	}
	r.RecipientType = rtype
	if v = f.cell(c, colType); v != "" {
		t, ok := consentTypes[fold(v)]
		if !ok {
			return refuse(colType, "", "%q is not MESAJ, ARAMA or EPOSTA", v)
		}
		r.Type = t
	}
	if v = f.cell(c, colStatus); v != "" {
		s, ok := statuses[fold(v)]
		if !ok {
			return refuse(colStatus, "", "%q is not ONAY or RET", v)
		}
		r.Status = s
	}
	r.IYSSource = sourceCode(f.cell(c, colSource))
	if v = f.cell(c, colDate); v != "" {
		t, err := f.date(v)
		if err != nil {
			return refuse(colDate, "ERROR_REASON_INVALID_CONSENT_TIME", "%q is not a date: want YYYY-MM-DD HH:mm:ss (Türkiye time)", v)
		}
		r.ConsentTime = &t
	}
	r.EvidenceReference = f.cell(c, colEvidence)
	r.RetailerCode = f.cell(c, colRetailer)
	return r
}

// recipient undoes what a spreadsheet does to phone numbers kept as
// numbers: 9.05321234567E+11 is 905321234567.
func (f *File) recipient(v string) string {
	if strings.ContainsAny(v, "eE") && !strings.Contains(v, "@") {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n == float64(int64(n)) {
			return strconv.FormatInt(int64(n), 10)
		}
	}
	return v
}

// sourceCode writes a source as İYS's code: "hs_ıslak_imza" and
// "HS_ISLAK_İMZA" are HS_ISLAK_IMZA.
func sourceCode(v string) string {
	var b strings.Builder
	for _, r := range strings.ToLowerSpecial(unicode.TurkishCase, v) {
		r = ascii(r)
		if r == ' ' || r == '-' {
			r = '_'
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// dateLayouts are the spellings of a consent date read in Türkiye time:
// İYS's own first, then what spreadsheets in Turkish make of it (day
// first).
var dateLayouts = []string{
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02",
	"02.01.2006 15:04:05", "02.01.2006 15:04", "02.01.2006", "2.1.2006 15:04:05", "2.1.2006 15:04", "2.1.2006",
	"02/01/2006 15:04:05", "02/01/2006 15:04", "02/01/2006",
}

// date reads a consent date: one of dateLayouts in Türkiye time, an
// RFC 3339 time with its own offset, or (in XLSX) a date cell's serial
// number, a Türkiye wall time.
func (f *File) date(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, v, f.loc); err == nil {
			return t, nil
		}
	}
	if f.Format == "xlsx" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
			wall, err := excelize.ExcelDateToTime(n, f.date1904)
			if err == nil {
				return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, f.loc), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", v)
}

// --- CSV ---

type csvSource struct {
	file *os.File
	r    *csv.Reader
}

// openCSV reads UTF-8 (with or without a byte-order mark) or, as Excel in
// Turkish saves "CSV", Windows-1254; fields are separated by commas,
// semicolons (Excel in Turkish again) or tabs, whichever the first line
// has most of.
func openCSV(path string) (*csvSource, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(file, 64<<10)
	peek, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		_ = file.Close()
		return nil, err
	}
	var in io.Reader = br
	switch {
	case bytes.HasPrefix(peek, []byte("\xef\xbb\xbf")):
		_, _ = br.Discard(3)
		peek = peek[3:]
	case !validUTF8(peek, len(peek) == 64<<10):
		in = charmap.Windows1254.NewDecoder().Reader(br)
		peek, _ = charmap.Windows1254.NewDecoder().Bytes(peek)
	}
	r := csv.NewReader(in)
	r.Comma = separator(peek)
	r.FieldsPerRecord = -1 // rows may leave trailing cells out
	r.LazyQuotes = true    // spreadsheets quote loosely
	r.ReuseRecord = true
	return &csvSource{file: file, r: r}, nil
}

// validUTF8 checks a prefix of a file, which may end inside a character.
func validUTF8(b []byte, cut bool) bool {
	if cut {
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if r, _ := utf8.DecodeLastRune(b); r != utf8.RuneError {
				break
			}
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b)
}

func separator(peek []byte) rune {
	line, _, _ := bytes.Cut(peek, []byte("\n"))
	best, n := ',', bytes.Count(line, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if k := bytes.Count(line, []byte(string(c))); k > n {
			best, n = c, k
		}
	}
	return best
}

func (s *csvSource) next() (cells, error) {
	rec, err := s.r.Read()
	if err != nil {
		return cells{}, err
	}
	line, _ := s.r.FieldPos(0)
	// ReuseRecord: copy the strings' slice, not the strings.
	return cells{values: append([]string(nil), rec...), line: int64(line)}, nil
}

func (s *csvSource) close() error { return s.file.Close() }

// --- XLSX ---

type xlsxSource struct {
	f        *excelize.File
	rows     *excelize.Rows
	n        int64
	date1904 bool
}

// openXLSX streams a sheet: excelize keeps a large sheet in a temporary
// file and decodes it a row at a time; only the shared strings table is
// held in memory. Cells are read raw, so a date cell is its serial number,
// whatever its display format.
func openXLSX(path, sheet string) (*xlsxSource, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable XLSX file: %w", path, err)
	}
	if sheet == "" {
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			_ = f.Close()
			return nil, fmt.Errorf("%s: the workbook has no sheet", path)
		}
		sheet = sheets[0]
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: sheet %q: %w", path, sheet, err)
	}
	x := &xlsxSource{f: f, rows: rows}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		x.date1904 = *props.Date1904
	}
	return x, nil
}

func (x *xlsxSource) next() (cells, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return cells{}, err
		}
		return cells{}, io.EOF
	}
	x.n++ // Next counts rows missing from the sheet too: n is the row number
	values, err := x.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return cells{}, err
	}
	return cells{values: values, line: x.n}, nil
}

func (x *xlsxSource) close() error {
	return errors.Join(x.rows.Close(), x.f.Close())
}
