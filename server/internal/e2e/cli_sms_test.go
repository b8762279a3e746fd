package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/izinhq/izin/server/internal/sms/verimor/verimortest"
)

// TestCLISMS: a brand configured with izin sms configure sends through its
// provider from a server over the same database; izin sms test queues a
// message that server sends, and izin sms status shows it.
func TestCLISMS(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	fake := verimortest.New("908501234567", "verimor-pass")
	t.Cleanup(fake.Close)
	cli := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"--database-url", db, "--secret", testSecret, "--json"}, args...)...)
		if code != wantCode {
			t.Fatalf("izin %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out, out + errOut // --json prints errors as JSON on stdout
	}
	var created struct {
		TenantID string `json:"tenant_id"`
	}
	out, _ := cli(0, "tenant", "create", "--name", "Acme A.Ş.", "--mersis", newMersis(), "--brand-code", "ACME",
		"--brand-name", "Acme", "--sender", "ACME")
	decodeOne(t, out, &created)
	pass := filepath.Join(t.TempDir(), "verimor.pass")
	if err := os.WriteFile(pass, []byte("verimor-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Refusals name the flag at fault.
	_, errOut := cli(1, "sms", "configure", "--tenant", created.TenantID, "--provider", "kuşgüvercini")
	if !strings.Contains(errOut, "--provider") {
		t.Errorf("unknown provider: %q", errOut)
	}
	_, errOut = cli(1, "sms", "configure", "--tenant", created.TenantID, "--provider", "verimor", "--username", "908501234567",
		"--base-url", fake.URL)
	if !strings.Contains(errOut, "--password-file") {
		t.Errorf("missing password: %q", errOut)
	}

	var conf configOut
	out, _ = cli(0, "sms", "configure", "--tenant", created.TenantID, "--provider", "verimor", "--username", "908501234567",
		"--password-file", pass, "--base-url", fake.URL, "--reject-types", "SMS", "--enable")
	decodeOne(t, out, &conf)
	if conf.Provider != "verimor" || !conf.Enabled || !conf.HasPassword || strings.Contains(out, "verimor-pass") ||
		!strings.Contains(conf.Callbacks.InboundURL, "/v1/inbound/verimor/") {
		t.Fatalf("configure printed %s", out)
	}

	s := startServerAt(t, sqliteEngine, db, fastOutbox)
	var queued struct {
		MessageID string `json:"message_id"`
	}
	out, _ = cli(0, "sms", "test", "--tenant", created.TenantID, "--to", "0532 111 00 99")
	decodeOne(t, out, &queued)
	s.App.Worker.Wake()
	waitUntil(t, "the test message reached Verimor", func() bool { return len(fake.Messages()) == 1 })
	if m := fake.Messages()[0]; m.Dest != "905321110099" || m.IsCommercial == nil || *m.IsCommercial {
		t.Fatalf("Verimor received %+v", m)
	}
	var status struct {
		Brands []struct {
			Brand         string `json:"brand"`
			Provider      string `json:"provider"`
			LastSuccessAt string `json:"last_success_time"`
		} `json:"brands"`
	}
	waitUntil(t, "the status shows the success", func() bool {
		out, _ = cli(0, "sms", "status", "--tenant", created.TenantID)
		decodeOne(t, out, &status)
		return len(status.Brands) == 1 && status.Brands[0].LastSuccessAt != ""
	})
	if status.Brands[0].Provider != "verimor" || status.Brands[0].Brand != "ACME" {
		t.Fatalf("status %s", out)
	}
	_, errOut = cli(1, "sms", "test", "--tenant", created.TenantID, "--to", "not a number")
	if !strings.Contains(errOut, "--to") {
		t.Errorf("a bad --to: %q", errOut)
	}
}

type configOut struct {
	Provider    string `json:"provider"`
	Enabled     bool   `json:"enabled"`
	HasPassword bool   `json:"has_password"`
	Callbacks   struct {
		InboundURL string `json:"inbound_url"`
	} `json:"callbacks"`
}
