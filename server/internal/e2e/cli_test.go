package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/cli"
)

// runCLI runs the izin command line and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// decodeOne decodes out as exactly one JSON object, as --json promises.
func decodeOne(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		t.Fatalf("--json printed more than one JSON object:\n%s", out)
	}
}

// TestCLI sets a tenant up with the izin command line, runs the walkthrough
// against a server over the same database with the keys the CLI printed,
// then verifies the evidence chain, and finds the break after tampering.
// migratedDB is a new SQLite database with the schema applied, as an
// operator makes one: the commands but migrate refuse an unmigrated one.
func migratedDB(t *testing.T) string {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "izin.db")
	if code, out, errOut := runCLI(t, "--database-url", db, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	return db
}

func TestCLI(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	mersis := newMersis()

	code, out, errOut := runCLI(t, "--database-url", db, "--json", "tenant", "create", "--name", "Acme Mağazaları A.Ş.",
		"--mersis", mersis, "--brand-code", "ACME", "--brand-name", "Acme", "--sender", "ACME")
	if code != 0 {
		t.Fatalf("tenant create: exit %d\n%s%s", code, out, errOut)
	}
	var created struct {
		TenantID    string `json:"tenant_id"`
		BrandCode   string `json:"brand_code"`
		AdminAPIKey string `json:"admin_api_key"`
	}
	decodeOne(t, out, &created)
	if created.TenantID == "" || created.BrandCode != "ACME" || !strings.HasPrefix(created.AdminAPIKey, "izin_") {
		t.Fatalf("tenant create printed %+v", created)
	}

	code, out, errOut = runCLI(t, "--database-url", db, "source", "create", "--tenant", created.TenantID,
		"--name", "Çağrı merkezi", "--type", "CALL_CENTER", "--json")
	if code != 0 {
		t.Fatalf("source create: exit %d\n%s%s", code, out, errOut)
	}
	var src struct {
		SourceID string `json:"source_id"`
		APIKey   string `json:"api_key"`
	}
	decodeOne(t, out, &src)
	if src.SourceID == "" || !strings.HasPrefix(src.APIKey, "izin_") {
		t.Fatalf("source create printed %+v", src)
	}

	// Refusals name the flag and exit non-zero.
	code, out, _ = runCLI(t, "--database-url", db, "--json", "source", "create", "--tenant", created.TenantID,
		"--name", "x", "--type", "FAX")
	if code == 0 || !strings.Contains(out, "--type") {
		t.Errorf("source create --type FAX: exit %d, output %q; want a failure naming --type", code, out)
	}
	code, out, _ = runCLI(t, "--database-url", db, "--json", "tenant", "create", "--name", "X", "--mersis", "123",
		"--brand-code", "X", "--brand-name", "X", "--sender", "XX")
	if code == 0 || !strings.Contains(out, "--mersis") {
		t.Errorf("tenant create --mersis 123: exit %d, output %q; want a failure naming --mersis", code, out)
	}

	// The server over the same database takes the keys the CLI printed.
	s := startServerAt(t, sqliteEngine, db)
	tn := &tenant{ID: created.TenantID, Mersis: mersis, BrandCode: "ACME", Sender: "ACME", AdminKey: created.AdminAPIKey}
	for _, tr := range transports {
		if tr == restTransport {
			// The second walk needs a fresh recipient state: a new tenant.
			tn = s.newTenant(t, "CLI REST")
			_, src.APIKey = s.newSource(t, tn, "Çağrı merkezi", 6)
			src.SourceID = ""
		}
		t.Run(string(tr), func(t *testing.T) {
			id := src.SourceID
			if id == "" {
				id = sourceOf(t, s, tn)
			}
			walkthrough(t, s.client(tr, src.APIKey), s.client(tr, tn.AdminKey), tn, id)
		})
	}
	if t.Failed() {
		return
	}

	type auditOut struct {
		OK      bool `json:"ok"`
		Tenants []struct {
			TenantID string `json:"tenant_id"`
			Events   int64  `json:"events"`
			OK       bool   `json:"ok"`
			Break    string `json:"break"`
		} `json:"tenants"`
	}
	code, out, errOut = runCLI(t, "--database-url", db, "audit", "verify", "--json")
	if code != 0 {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
	}
	var audit auditOut
	decodeOne(t, out, &audit)
	if !audit.OK || len(audit.Tenants) != 2 {
		t.Fatalf("audit verify: %s; want ok with 2 tenants", out)
	}
	for _, at := range audit.Tenants {
		if !at.OK || at.Events != 3 || at.Break != "" {
			t.Errorf("audit verify, tenant %s: ok=%v events=%d break=%q; want ok with 3 events", at.TenantID, at.OK, at.Events, at.Break)
		}
	}

	// Tamper: turn the CLI tenant's rejection (sequence 3) back into a grant.
	// SQLite refuses updates of consent_events, so the trigger goes first.
	g := s.App.Store.DB()
	if err := g.Exec("DROP TRIGGER consent_events_no_update").Error; err != nil {
		t.Fatalf("drop trigger: %v", err)
	}
	res := g.Exec("UPDATE consent_events SET status = ? WHERE tenant_id = ? AND seq = 3",
		int(izinv1.ConsentStatus_CONSENT_STATUS_GRANTED), created.TenantID)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("tamper: %v (%d rows)", res.Error, res.RowsAffected)
	}
	code, out, errOut = runCLI(t, "--database-url", db, "audit", "verify", "--json")
	if code == 0 {
		t.Fatalf("audit verify after tampering: exit 0\n%s\n%s", out, errOut)
	}
	audit = auditOut{}
	decodeOne(t, out, &audit)
	if audit.OK {
		t.Errorf("audit verify after tampering says ok: %s", out)
	}
	for _, at := range audit.Tenants {
		switch at.TenantID {
		case created.TenantID:
			if at.OK || !strings.Contains(at.Break, "sequence 3") {
				t.Errorf("tampered tenant: ok=%v break=%q; want a break at sequence 3", at.OK, at.Break)
			}
		default:
			if !at.OK || at.Break != "" {
				t.Errorf("untouched tenant %s: ok=%v break=%q; want ok", at.TenantID, at.OK, at.Break)
			}
		}
	}
	// Removing the newest event of the other tenant shows too: its chain
	// head no longer matches.
	other := tn.ID
	if err := g.Exec("DROP TRIGGER consent_events_no_delete").Error; err != nil {
		t.Fatalf("drop trigger: %v", err)
	}
	if res := g.Exec("DELETE FROM consent_events WHERE tenant_id = ? AND seq = 3", other); res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("delete event: %v (%d rows)", res.Error, res.RowsAffected)
	}
	code, out, _ = runCLI(t, "--database-url", db, "audit", "verify", "--json", "--tenant", other)
	audit = auditOut{}
	decodeOne(t, out, &audit)
	if code == 0 || audit.OK || len(audit.Tenants) != 1 || !strings.Contains(audit.Tenants[0].Break, "removed") {
		t.Errorf("audit verify after deleting the newest event: exit %d\n%s; want a break saying events were removed", code, out)
	}

	// Without --json the break is reported in words, and the exit is non-zero.
	code, out, errOut = runCLI(t, "--database-url", db, "audit", "verify", "--tenant", created.TenantID)
	if code == 0 || !strings.Contains(out, fmt.Sprintf("BROKEN %s", created.TenantID)) || !strings.Contains(out, "sequence 3") {
		t.Errorf("audit verify (text): exit %d\n%s%s; want BROKEN at sequence 3", code, out, errOut)
	}
}

// sourceOf returns the id of the tenant's only source.
func sourceOf(t *testing.T, s *server, tn *tenant) string {
	t.Helper()
	ss, err := s.App.Tenancy.ListSources(context.Background(), tn.ID)
	if err != nil || len(ss) != 1 {
		t.Fatalf("sources of %s: %v (%d)", tn.ID, err, len(ss))
	}
	return ss[0].ID
}
