package e2e

import (
	"strings"
	"testing"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
)

// TestCLIBrand: a brand made and changed with the command line is the one
// the server sends consent SMS for, with the new sender title and the
// rejection route that goes with it.
func TestCLIBrand(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cli := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"--database-url", db, "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("izin %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	var created struct {
		TenantID    string `json:"tenant_id"`
		AdminAPIKey string `json:"admin_api_key"`
	}
	decodeOne(t, cli("tenant", "create", "--name", "Acme A.Ş.", "--mersis", newMersis(), "--brand-code", "ACME",
		"--brand-name", "Acme", "--sender", "ACME"), &created)
	var src struct {
		APIKey string `json:"api_key"`
	}
	decodeOne(t, cli("source", "create", "--tenant", created.TenantID, "--name", "Outlet kasası", "--type", "STORE"), &src)
	cli("brand", "create", "--tenant", created.TenantID, "--code", "OUTLET", "--name", "Acme Outlet", "--sender", "OUTLET")
	var updated struct {
		Sender     string `json:"sender"`
		RejectText string `json:"reject_text"`
	}
	decodeOne(t, cli("brand", "update", "--tenant", created.TenantID, "--code", "OUTLET", "--sender", "ACMEOUTLET"), &updated)
	if updated.Sender != "ACMEOUTLET" || !strings.Contains(updated.RejectText, "RET ACMEOUTLET") {
		t.Fatalf("brand update printed %+v", updated)
	}

	s := startServerAt(t, sqliteEngine, db)
	ctx := testCtx(t)
	v := must(s.client(grpcTransport, src.APIKey).StartVerification(ctx, &izinv1.StartVerificationRequest{
		Recipient: walkRecipient, Types: smsAndCall, Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE,
		Brand: "OUTLET",
	}))(t).GetVerification()
	if v.GetBrandCode() != "OUTLET" {
		t.Fatalf("verification for brand %q, want OUTLET", v.GetBrandCode())
	}
	msgs := must(s.client(grpcTransport, created.AdminAPIKey).ListMessages(ctx,
		&izinv1.ListMessagesRequest{Recipient: walkRecipient}))(t).GetMessages()
	if len(msgs) != 1 || msgs[0].GetSender() != "ACMEOUTLET" || !strings.Contains(msgs[0].GetBody(), updated.RejectText) {
		t.Fatalf("messages %v: want one from ACMEOUTLET saying %q", msgs, updated.RejectText)
	}
}
