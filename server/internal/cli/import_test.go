package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/izinhq/izin/server/internal/cli"
)

// run runs the izin command line and returns its exit code and output.
// migrated is a new SQLite database with the schema applied, as an
// operator makes one: the other commands refuse an unmigrated database.
func migrated(t *testing.T) string {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "izin.db")
	if code, out, errOut := run(t, "--database-url", db, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	return db
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// decode decodes out as exactly one JSON object.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("--json printed more than one JSON object:\n%s", out)
	}
}

type report struct {
	ImportID  string `json:"import_id"`
	Name      string `json:"name"`
	Brand     string `json:"brand"`
	Rows      int64  `json:"rows"`
	Accepted  int64  `json:"accepted"`
	Unchanged int64  `json:"unchanged"`
	Refused   int64  `json:"refused"`
	Errors    []struct {
		Line    int64  `json:"line"`
		Field   string `json:"field"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"errors"`
	Ignored []string `json:"ignored_columns"`
}

// setup makes a database with a tenant and a store source.
func setup(t *testing.T) (db, tenant, source string) {
	t.Helper()
	dir := t.TempDir()
	db = migrated(t)
	// The CLI creates a secret file when none is given; keep it in the
	// test's directory.
	t.Setenv("IZIN_SECRET_FILE", filepath.Join(dir, "secret"))
	code, out, errOut := run(t, "--database-url", db, "--json", "tenant", "create", "--name", "Acme A.Ş.",
		"--mersis", "0123456789012345", "--brand-code", "ACME", "--brand-name", "Acme", "--sender", "ACME")
	if code != 0 {
		t.Fatalf("tenant create: %s%s", out, errOut)
	}
	var c struct {
		TenantID string `json:"tenant_id"`
	}
	decode(t, out, &c)
	code, out, errOut = run(t, "--database-url", db, "--json", "source", "create", "--tenant", c.TenantID,
		"--name", "Kadıköy mağazası", "--type", "STORE")
	if code != 0 {
		t.Fatalf("source create: %s%s", out, errOut)
	}
	var s struct {
		SourceID string `json:"source_id"`
	}
	decode(t, out, &s)
	return db, c.TenantID, s.SourceID
}

// lines are the rows of the fixture, in the İYS column order: type,
// source, recipient, status, date, recipient type, evidence.
var lines = [][]string{
	{"İZİN TİPİ", "KAYNAK", "ALICI", "DURUM", "İZİN TARİHİ", "ALICI TİPİ", "KANIT"},
	{"MESAJ", "HS_ISLAK_IMZA", "0532 123 45 67", "ONAY", "2019-03-14 15:09:26", "BIREYSEL", "kutu 12/form 7"},
	{"ARAMA", "HS_ISLAK_IMZA", "0532 123 45 67", "ONAY", "2019-03-14 15:09:26", "BIREYSEL", "kutu 12/form 7"},
	{"MESAJ", "HS_ISLAK_IMZA", "0532 123 45 67", "RET", "2021-06-01 10:00:00", "BIREYSEL", "dilekçe 2021/44"},
	{"EPOSTA", "", "ayse@example.com.tr", "ONAY", "2020-01-02 03:04:05", "", "kutu 13/form 1"},
	{"FAKS", "HS_ISLAK_IMZA", "0532 123 45 68", "ONAY", "2019-03-14 15:09:26", "BIREYSEL", "kutu 12/form 8"},
	{"MESAJ", "HS_ISLAK_IMZA", "0532 123 45", "ONAY", "2019-03-14 15:09:26", "BIREYSEL", "kutu 12/form 9"},
	{"MESAJ", "HS_ISLAK_IMZA", "0532 123 45 69", "RET", "2019-03-14 15:09:26", "BIREYSEL", "kutu 12/form 10"},
	{"MESAJ", "HS_ISLAK_IMZA", "0532 123 45 70", "EVET", "2019-03-14 15:09:26", "BIREYSEL", "kutu 12/form 11"},
	{"MESAJ", "HS_ISLAK_IMZA", "0532 123 45 71", "ONAY", "2014-12-31 12:00:00", "BIREYSEL", "kutu 1/form 1"},
}

// wantRefused are the refused fixture rows: line → field.
var wantRefused = map[int64]string{6: "type", 7: "recipient", 8: "status", 9: "status", 10: "consent_time"}

func writeCSV(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.Join(l, ";") + "\r\n")
	}
	path := filepath.Join(t.TempDir(), "ıslak-imza.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeXLSX(t *testing.T) string {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for r, l := range lines {
		for c, v := range l {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			var val any = v
			// Dates as date cells, as a spreadsheet keeps them.
			if t2, err := time.Parse("2006-01-02 15:04:05", v); err == nil {
				val = t2
			}
			if err := x.SetCellValue("Sheet1", cell, val); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "arşiv.xlsx")
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImport imports the fixture as CSV and as XLSX into fresh databases,
// then again: the second run changes nothing.
func TestImport(t *testing.T) {
	for name, file := range map[string]func(*testing.T) string{"csv": writeCSV, "xlsx": writeXLSX} {
		t.Run(name, func(t *testing.T) {
			db, tenant, source := setup(t)
			path := file(t)
			args := []string{"--database-url", db, "--json", "import", path, "--tenant", tenant, "--source", source}
			code, out, errOut := run(t, args...)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
			}
			var rep report
			decode(t, out, &rep)
			if rep.ImportID == "" || rep.Name != filepath.Base(path) || rep.Brand != "ACME" ||
				rep.Rows != 9 || rep.Accepted != 4 || rep.Unchanged != 0 || rep.Refused != 5 {
				t.Errorf("first import: %+v", rep)
			}
			for _, e := range rep.Errors {
				if wantRefused[e.Line] != e.Field || e.Message == "" {
					t.Errorf("line %d refused as %s (%s), want %q", e.Line, e.Field, e.Message, wantRefused[e.Line])
				}
			}
			if len(rep.Errors) != len(wantRefused) {
				t.Errorf("%d errors, want %d: %+v", len(rep.Errors), len(wantRefused), rep.Errors)
			}

			code, out, errOut = run(t, args...)
			if code != 0 {
				t.Fatalf("second import: exit %d\n%s%s", code, out, errOut)
			}
			var again report
			decode(t, out, &again)
			if again.Rows != 9 || again.Accepted != 0 || again.Unchanged != 4 || again.Refused != 5 || again.ImportID == rep.ImportID {
				t.Errorf("second import: %+v", again)
			}

			// The chain of the imported events verifies.
			if code, out, errOut := run(t, "--database-url", db, "audit", "verify", "--tenant", tenant); code != 0 ||
				!strings.Contains(out, "ok") {
				t.Errorf("audit verify: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// TestImportText checks the report for people, and the errors of the
// command itself.
func TestImportText(t *testing.T) {
	db, tenant, source := setup(t)
	path := writeCSV(t)
	// Without --source, the row without KAYNAK has no default source.
	code, out, errOut := run(t, "--database-url", db, "import", path, "--tenant", tenant)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"9 rows: 3 accepted, 0 unchanged, 6 refused", "line 5  iys_source: required",
		"line 8  status:", "[FIRST_RECORD_REJECTED]", "line 10  consent_time: must not be before 2015-05-01"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown tenant": {[]string{"import", path, "--tenant", "nope"}, "--tenant nope: no such tenant"},
		"unknown source": {[]string{"import", path, "--tenant", tenant, "--source", "nope"}, "--source nope"},
		"unknown brand":  {[]string{"import", path, "--tenant", tenant, "--source", source, "--brand", "NOPE"}, "--brand: no brand"},
		"missing file":   {[]string{"import", path + ".missing.csv", "--tenant", tenant}, "no such file"},
		"no tenant":      {[]string{"import", path}, "tenant"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"--database-url", db}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q, want an error about %q (stdout %q)", code, errOut, tc.want, out)
			}
		})
	}
	// With --json, a failed import is one JSON object too.
	code, out, _ = run(t, "--database-url", db, "--json", "import", path, "--tenant", "nope")
	var e struct {
		Error string `json:"error"`
	}
	decode(t, out, &e)
	if code == 0 || !strings.Contains(e.Error, "no such tenant") {
		t.Errorf("exit %d, %s", code, out)
	}
}
