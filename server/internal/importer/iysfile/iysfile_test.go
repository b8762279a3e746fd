package iysfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/store"
)

var istanbul = time.FixedZone("TRT", 3*3600)

func write(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll opens path and reads every row.
func readAll(t *testing.T, path string) (*File, []importer.Row) {
	t.Helper()
	f, err := Open(path, "")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	var rows []importer.Row
	for r, err := range f.Rows() {
		if err != nil {
			t.Fatalf("Rows: %v", err)
		}
		rows = append(rows, r)
	}
	return f, rows
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"İZİN TARİHİ": "izintarihi", "Izin Tarihi": "izintarihi", "izin_tarihi": "izintarihi", "IZIN TARIHI": "izintarihi",
		"ALICI TİPİ": "alicitipi", "Alıcı Tipi": "alicitipi", "recipientType": "recipienttype", " KANIT ": "kanit",
		"E-POSTA": "eposta", "ONAY": "onay", "Bayİ Kodu": "bayikodu", "KAYNAĞI": "kaynagi", "ÇÖĞÜŞ": "cogus",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCSV reads a file with Turkish headers in another order, an ignored
// column, a blank line and every kind of value.
func TestCSV(t *testing.T) {
	content := "\xef\xbb\xbf" + // Excel's UTF-8 byte-order mark
		"ALICI;Alıcı Tipi;izin tipi;DURUM;Kaynak;İZİN TARİHİ;KANIT;Müşteri Adı\n" +
		"0532 123 45 67;BIREYSEL;MESAJ;ONAY;HS_ISLAK_IMZA;2019-03-14 15:09:26;kutu 12/form 7;Ayşe\n" +
		";;;;;;;\n" +
		"05321234567;tacir;Arama;ret;hs_ıslak_imza;14.03.2019 15:09;kutu 12/form 8;\n" +
		"ali@example.com;;E-POSTA;Onay;HS_WEB;2019-03-14;crm:991;\n" +
		"05321234567;BİREYSEL;FAKS;ONAY;HS_WEB;2019-03-14;x;\n" +
		"05321234567;ŞİRKET;MESAJ;ONAY;HS_WEB;2019-03-14;x;\n" +
		"05321234567;;MESAJ;EVET;HS_WEB;2019-03-14;x;\n" +
		"05321234567;;MESAJ;ONAY;HS_WEB;dün;x;\n" +
		"05321234567;;MESAJ;ONAY;;;\n" +
		"\"0532, 123\";;SMS;GRANTED;HS_WEB;2019-03-14T15:09:26+03:00;\"a;b\"\n"
	f, rows := readAll(t, write(t, "arsiv.csv", []byte(content)))
	if f.Format != "csv" || !f.Header || len(f.Ignored) != 1 || f.Ignored[0] != "Müşteri Adı" {
		t.Errorf("file %+v", f)
	}
	at := time.Date(2019, 3, 14, 15, 9, 26, 0, istanbul)
	midnight := time.Date(2019, 3, 14, 0, 0, 0, 0, istanbul)
	want := []struct {
		line    int64
		to      string
		rtype   store.RecipientType
		typ     store.ConsentType
		status  store.ConsentStatus
		source  string
		at      *time.Time
		ref     string
		refused string // the field of a refusal
	}{
		{2, "0532 123 45 67", store.Individual, store.ConsentSMS, store.StatusGranted, "HS_ISLAK_IMZA", &at, "kutu 12/form 7", ""},
		{4, "05321234567", store.Merchant, store.ConsentCall, store.StatusRejected, "HS_ISLAK_IMZA", ptr(at.Truncate(time.Minute)), "kutu 12/form 8", ""},
		{5, "ali@example.com", 0, store.ConsentEmail, store.StatusGranted, "HS_WEB", &midnight, "crm:991", ""},
		{6, "", 0, 0, 0, "", nil, "", "type"},
		{7, "", 0, 0, 0, "", nil, "", "recipient_type"},
		{8, "", 0, 0, 0, "", nil, "", "status"},
		{9, "", 0, 0, 0, "", nil, "", "consent_time"},
		{10, "05321234567", 0, store.ConsentSMS, store.StatusGranted, "", nil, "", ""}, // the importer refuses it
		{11, "0532, 123", 0, store.ConsentSMS, store.StatusGranted, "HS_WEB", &at, "a;b", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Line != w.line {
			t.Errorf("row %d: line %d, want %d", i, r.Line, w.line)
		}
		if w.refused != "" {
			if r.Refused == nil || r.Refused.Field != w.refused || r.Refused.Message == "" {
				t.Errorf("line %d: refused %+v, want field %s", w.line, r.Refused, w.refused)
			}
			continue
		}
		if r.Refused != nil {
			t.Errorf("line %d: refused %+v", w.line, r.Refused)
			continue
		}
		if r.Recipient != w.to || r.RecipientType != w.rtype || r.Type != w.typ || r.Status != w.status ||
			r.IYSSource != w.source || r.EvidenceReference != w.ref {
			t.Errorf("line %d: %+v", w.line, r)
		}
		if (r.ConsentTime == nil) != (w.at == nil) || r.ConsentTime != nil && !r.ConsentTime.Equal(*w.at) {
			t.Errorf("line %d: consent time %v, want %v", w.line, r.ConsentTime, w.at)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestCSVWindows1254 reads what Excel in Turkish saves as "CSV": Windows-1254
// text separated by semicolons.
func TestCSVWindows1254(t *testing.T) {
	text := "ALICI;İZİN TİPİ;DURUM;KAYNAK;İZİN TARİHİ;KANIT\n05321234567;MESAJ;ONAY;HS_ISLAK_IMZA;2019-03-14 15:09:26;Şişli şubesi, kutu 3\n"
	enc, err := charmap.Windows1254.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	_, rows := readAll(t, write(t, "eski.csv", []byte(enc)))
	if len(rows) != 1 || rows[0].Refused != nil || rows[0].EvidenceReference != "Şişli şubesi, kutu 3" || rows[0].Type != store.ConsentSMS {
		t.Errorf("rows %+v", rows)
	}
}

// TestNoHeader reads a file in İYS's uploader order: type, source,
// recipient, status, consentDate, recipientType, then the evidence.
func TestNoHeader(t *testing.T) {
	content := "MESAJ,HS_ISLAK_IMZA,05321234567,ONAY,2019-03-14 15:09:26,BIREYSEL,kutu 1\n" +
		"EPOSTA,HS_WEB,ali@example.com,RET,2020-01-02 03:04:05,TACIR,crm 2\n"
	f, rows := readAll(t, write(t, "iys.csv", []byte(content)))
	if f.Header || len(rows) != 2 {
		t.Fatalf("header %v, %d rows", f.Header, len(rows))
	}
	if r := rows[1]; r.Line != 2 || r.Type != store.ConsentEmail || r.IYSSource != "HS_WEB" || r.Recipient != "ali@example.com" ||
		r.Status != store.StatusRejected || r.RecipientType != store.Merchant || r.EvidenceReference != "crm 2" ||
		!r.ConsentTime.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, istanbul)) {
		t.Errorf("row %+v", r)
	}
}

func TestBadFiles(t *testing.T) {
	for name, tc := range map[string]struct{ file, content, want string }{
		"empty":             {"a.csv", "\n\n", "empty"},
		"no header":         {"a.csv", "foo,bar\n1,2\n", "no header row"},
		"missing columns":   {"a.csv", "ALICI,DURUM,KANIT\n0532,ONAY,x\n", "consent_time"},
		"duplicate columns": {"a.csv", "ALICI,recipient,İZİN TİPİ,DURUM,İZİN TARİHİ\n", "both the recipient"},
		"unknown extension": {"a.json", "{}", ".csv or .xlsx"},
		"not a workbook":    {"a.xlsx", "ALICI,DURUM\n", "not a readable XLSX"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(write(t, tc.file, []byte(tc.content)), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

// TestXLSX reads a workbook as Excel writes it: shared strings, dates as
// date cells (serial numbers) or as text, phone numbers as numbers, a gap
// between rows, and the data on a named sheet.
func TestXLSX(t *testing.T) {
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "İzinler"
	if _, err := x.NewSheet(sheet); err != nil {
		t.Fatal(err)
	}
	set := func(cell string, v any) {
		if err := x.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range []string{"İZİN TİPİ", "KAYNAK", "ALICI", "DURUM", "İZİN TARİHİ", "ALICI TİPİ", "KANIT"} {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		set(cell, h)
	}
	at := time.Date(2019, 3, 14, 15, 9, 26, 0, time.UTC) // a wall time: the cell has no zone
	for i, v := range []any{"MESAJ", "HS_ISLAK_IMZA", 905321234567, "ONAY", at, "BIREYSEL", "kutu 12"} {
		cell, _ := excelize.CoordinatesToCellName(i+1, 2)
		set(cell, v)
	}
	// Row 3 is empty; row 4 has its date as text.
	for i, v := range []any{"ARAMA", "HS_FIZIKSEL_ORTAM", "0533 765 43 21", "RET", "2020-01-02 03:04:05", "TACIR", "kutu 13"} {
		cell, _ := excelize.CoordinatesToCellName(i+1, 4)
		set(cell, v)
	}
	style, err := x.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm: a display format the reader must not depend on
	if err != nil {
		t.Fatal(err)
	}
	if err := x.SetCellStyle(sheet, "E2", "E2", style); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "arsiv.xlsx")
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []importer.Row
	for r, err := range f.Rows() {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.Refused != nil || r.Line != 2 || r.Recipient != "905321234567" || r.Type != store.ConsentSMS || r.Status != store.StatusGranted ||
		r.RecipientType != store.Individual || r.IYSSource != "HS_ISLAK_IMZA" || r.EvidenceReference != "kutu 12" ||
		r.ConsentTime == nil || !r.ConsentTime.Equal(time.Date(2019, 3, 14, 15, 9, 26, 0, istanbul)) {
		t.Errorf("row 2: %+v (time %v)", r, r.ConsentTime)
	}
	r = rows[1]
	if r.Refused != nil || r.Line != 4 || r.Type != store.ConsentCall || r.RecipientType != store.Merchant ||
		!r.ConsentTime.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, istanbul)) {
		t.Errorf("row 4: %+v", r)
	}
	// The first sheet is the default one, and it is empty here.
	if _, err := Open(path, ""); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Open of the first, empty sheet: %v", err)
	}
}

// TestIstanbulBefore2016 reads dates in Türkiye's zone as it was: UTC+2 in
// winter until 2016.
func TestIstanbulBefore2016(t *testing.T) {
	_, rows := readAll(t, write(t, "a.csv", []byte("ALICI,İZİN TİPİ,DURUM,İZİN TARİHİ\n05321234567,MESAJ,ONAY,2015-12-01 12:00:00\n")))
	if want := time.Date(2015, 12, 1, 10, 0, 0, 0, time.UTC); !rows[0].ConsentTime.Equal(want) {
		t.Errorf("consent time %v, want %v", rows[0].ConsentTime.UTC(), want)
	}
}
