package e2e

import (
	"strings"
	"testing"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// TestCLIWebhook: a webhook made with the command line receives what a
// server over the same database sends, signed with the secret the command
// printed; rotate and replay work from the command line too.
func TestCLIWebhook(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append([]string{"--database-url", db, "--secret", testSecret, "--json"}, args...)...)
	}
	cli := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(args...)
		if code != 0 {
			t.Fatalf("izin %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	var created struct {
		TenantID    string `json:"tenant_id"`
		AdminAPIKey string `json:"admin_api_key"`
	}
	decodeOne(t, cli("tenant", "create", "--name", "Hook A.Ş.", "--mersis", newMersis(), "--brand-code", "ACME",
		"--brand-name", "Acme", "--sender", "ACME"), &created)
	rcv := newReceiver(t, ok200)

	// Without --webhook-allow-private the receiver on loopback is refused.
	if code, out, _ := run("webhook", "create", "--tenant", created.TenantID, "--url", rcv.srv.URL, "--events", "consent.granted"); code == 0 ||
		!strings.Contains(out, "--url") {
		t.Errorf("create on loopback without the flag: exit %d %s", code, out)
	}
	var made struct {
		ID     string   `json:"id"`
		Events []string `json:"events"`
		Secret string   `json:"secret"`
	}
	decodeOne(t, cli("webhook", "create", "--webhook-allow-private", "--tenant", created.TenantID, "--url", rcv.srv.URL,
		"--events", "consent.granted,consent.rejected"), &made)
	if !strings.HasPrefix(made.Secret, "whsec_") || len(made.Events) != 2 {
		t.Fatalf("webhook create printed %+v", made)
	}
	if out := cli("webhook", "list", "--tenant", created.TenantID); !strings.Contains(out, made.ID) || strings.Contains(out, "whsec_") {
		t.Errorf("webhook list: %s (the secret is shown only at creation)", out)
	}

	s := startServerAt(t, sqliteEngine, db, webhookConfig)
	tn := &tenant{ID: created.TenantID, AdminKey: created.AdminAPIKey}
	_, key := s.newSource(t, tn, "Web", store.SourceEcommerce)
	must(s.client(grpcTransport, key).RecordConsent(testCtx(t), &izinv1.RecordConsentRequest{Recipient: "0532 555 05 05",
		Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}}))(t)
	rcv.waitFor(t, "the delivery", func(hs []hook) bool { return len(hs) == 1 })
	requireVerified(t, made.Secret, rcv.all())

	var rotated struct {
		Secret string `json:"secret"`
	}
	decodeOne(t, cli("webhook", "rotate", "--tenant", created.TenantID, "--id", made.ID), &rotated)
	var replayed struct {
		Replayed int `json:"replayed"`
	}
	decodeOne(t, cli("webhook", "replay", "--tenant", created.TenantID, "--id", made.ID, "--delivery", rcv.all()[0].ID), &replayed)
	if replayed.Replayed != 1 {
		t.Errorf("replayed %d", replayed.Replayed)
	}
	// The CLI cannot wake the server's dispatcher: its poll finds the replay.
	rcv.waitFor(t, "the replay", func(hs []hook) bool { return len(hs) == 2 })
	h := rcv.all()[1]
	if h.ID != rcv.all()[0].ID || len(strings.Fields(h.Signature)) != 2 {
		t.Errorf("replay: id %s (want %s), signature %q (want two)", h.ID, rcv.all()[0].ID, h.Signature)
	}
	requireVerified(t, made.Secret, []hook{h})
	requireVerified(t, rotated.Secret, []hook{h})
	cli("webhook", "delete", "--tenant", created.TenantID, "--id", made.ID)
	if code, _, _ := run("webhook", "delete", "--tenant", created.TenantID, "--id", made.ID); code == 0 {
		t.Error("deleting twice succeeded")
	}
}
