package cli_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// TestIYSPull takes a brand's state from İYS's file: the sandbox holds
// consents another integrator uploaded and a citizen's RET, its change
// file is pulled, checks answer what İYS holds and nothing is queued; the
// same file pulled again changes nothing.
func TestIYSPull(t *testing.T) {
	db, tenant, _ := setup(t)
	url := startSandbox(t)
	sandboxJSON(t, "POST", url+"/sandbox/changes", `[
		{"iysCode":"123456","brandCode":"654321","recipient":"+905321110001","type":"MESAJ","status":"ONAY","source":"HS_WEB","consentDate":"2024-01-10 10:00:00"},
		{"iysCode":"123456","brandCode":"654321","recipient":"+905321110002","type":"ARAMA","status":"ONAY","source":"HS_ISLAK_IMZA","consentDate":"2023-05-05 12:00:00"},
		{"iysCode":"123456","brandCode":"654321","recipient":"+905321110003","type":"MESAJ","status":"RET","source":"IYS_MOBIL"}]`)
	resp, err := http.Get(url + "/sandbox/consents?brandCode=654321&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A row izin cannot read is skipped, not fatal.
	csv = append(csv, []byte("2024-01-01 00:00:00,tx-x,+905321110004,BIREYSEL,FAKS,ONAY,2024-01-01 00:00:00,HS_WEB\n")...)
	file := filepath.Join(t.TempDir(), "iys-654321.csv")
	if err := os.WriteFile(file, csv, 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, "--database-url", db, "--json", "iys", "pull", "--tenant", tenant, "--brand", "ACME", "--from-file", file)
	if code != 0 {
		t.Fatalf("iys pull: exit %d\n%s%s", code, out, errOut)
	}
	var rep iyssync.PullReport
	decode(t, out, &rep)
	if rep.Rows != 4 || rep.Applied != 3 || rep.Skipped != 1 || rep.SkippedBy[iyssync.SkipUnreadable] != 1 || rep.Name != "iys-654321.csv" {
		t.Fatalf("iys pull: %+v, want 3 of 4 rows applied and the FAKS row skipped", rep)
	}

	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := consent.New(st, tenancy.New(st, nil, time.Second), nil, time.Now)
	p := auth.Principal{TenantID: tenant, Scope: store.ScopeAdmin}
	for _, c := range []struct {
		rcpt   string
		typ    store.ConsentType
		want   store.ConsentStatus
		source string
	}{
		{"+905321110001", store.ConsentSMS, store.StatusGranted, "HS_WEB"},
		{"+905321110002", store.ConsentCall, store.StatusGranted, "HS_ISLAK_IMZA"},
		{"+905321110003", store.ConsentSMS, store.StatusRejected, "IYS_MOBIL"},
	} {
		res, err := svc.Check(ctx, p, consent.CheckRequest{Recipient: c.rcpt, Types: []store.ConsentType{c.typ}})
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Results[0]; r.Status != c.want || r.IYSSource != c.source {
			t.Errorf("check %s: %+v, want %v from %s", c.rcpt, r, c.want, c.source)
		}
	}
	if ups, err := st.ListIYSUploads(ctx, store.IYSUploadFilter{TenantID: tenant, Limit: 100}); err != nil || len(ups) != 0 {
		t.Errorf("uploads after the pull: %v, %v; want none", ups, err)
	}

	code, out, errOut = run(t, "--database-url", db, "iys", "pull", "--tenant", tenant, "--from-file", file)
	if code != 0 || !strings.Contains(out, "4 rows: 0 applied, 3 unchanged, 1 skipped") || !strings.Contains(out, "line 5  [unreadable] type:") {
		t.Errorf("iys pull again: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := run(t, "--database-url", db, "iys", "pull", "--tenant", tenant, "--from-file", filepath.Join(t.TempDir(), "none.csv")); code == 0 {
		t.Errorf("iys pull of a missing file: exit 0\n%s", out)
	}
}
