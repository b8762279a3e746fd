package e2e

import (
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iys/iystest"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
)

// TestIYSSync connects a tenant to a fake İYS through the admin API, runs
// the walkthrough (a consent by SMS code, then a rejection) and a consent
// recorded by an ERP, and checks that every change reached İYS, with the
// outcome visible through ListIysUploads and GetIysStatus.
func TestIYSSync(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			s := startServer(t, e)
			fake := iystest.New(t)
			tn := s.newTenant(t, "İYS "+string(e))
			srcID, key := s.newSource(t, tn, "Call centre", store.SourceCallCenter)
			admin := izinv1.NewAdminServiceClient(s.conn)
			actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tn.AdminKey)

			cfg, err := admin.SetIysConfig(actx, &izinv1.SetIysConfigRequest{Brand: tn.BrandCode, Config: &izinv1.IysConfig{
				IysCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand, Username: iystest.DefaultUsername,
				Password: iystest.DefaultPassword, BaseUrl: fake.URL, Enabled: true}})
			if err != nil {
				t.Fatalf("SetIysConfig: %v", err)
			}
			if c := cfg.GetConfig(); c.GetPassword() != "" || !c.GetHasPassword() || !c.GetEnabled() || c.GetBrand() != tn.BrandCode {
				t.Errorf("SetIysConfig answered %v: want the password hidden, has_password, enabled", c)
			}
			// A source key may not configure İYS.
			if _, err := admin.SetIysConfig(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key),
				&izinv1.SetIysConfigRequest{Brand: tn.BrandCode, Config: &izinv1.IysConfig{IysCode: "1", BrandCode: "1", Username: "u"}}); err == nil {
				t.Error("SetIysConfig with a source key succeeded")
			}

			walkthrough(t, s.client(grpcTransport, key), s.client(grpcTransport, tn.AdminKey), tn, srcID)
			erp := s.client(grpcTransport, key)
			must(erp.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "ali@example.com.tr",
				Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_EMAIL}, IysSource: "HS_ISLAK_IMZA"}))(t)

			st, err := admin.GetIysStatus(actx, &izinv1.GetIysStatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if b := st.GetBrands(); len(b) != 1 || b[0].GetPending()+b[0].GetSubmitted() != 4 || b[0].GetNearestDeadline() == nil {
				t.Errorf("status before synchronising: %v, want 4 on their way with a deadline", b)
			}

			w := iyssync.NewWorker(s.App.Store, s.App.Tenancy, sealer(t), slog.New(slog.NewTextHandler(&testLog{t: t}, nil)),
				iyssync.Options{PollDelay: -1})
			for i := 0; i < 20; i++ {
				rep, err := w.RunOnce(ctx, tn.ID)
				if err != nil {
					t.Fatal(err)
				}
				st, err = admin.GetIysStatus(actx, &izinv1.GetIysStatusRequest{})
				if err != nil {
					t.Fatal(err)
				}
				if b := st.GetBrands()[0]; b.GetPending()+b.GetSubmitted() == 0 {
					break
				}
				t.Logf("run %d: %+v", i, rep.Brands)
				time.Sleep(250 * time.Millisecond) // the RET waits for its date (seconds) to pass
			}
			b := st.GetBrands()[0]
			if b.GetAccepted() != 4 || b.GetRefused() != 0 || b.GetLastPullTime() == nil || b.GetLastError() != "" {
				t.Fatalf("status after synchronising: %v, want 4 accepted", b)
			}
			k := func(r string, typ iys.ConsentType) iystest.Key {
				return iystest.Key{IYSCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand, Recipient: r, RecipientType: iys.Individual, Type: typ}
			}
			for _, tc := range []struct {
				key     iystest.Key
				status  iys.Status
				source  iys.Source
				history int
			}{
				{k(walkE164, iys.SMS), iys.Rejected, iys.SourceCallCenter, 2},
				{k(walkE164, iys.Call), iys.Granted, iys.SourceCallCenter, 1},
				{k("ali@example.com.tr", iys.Email), iys.Granted, iys.SourceWetSig, 1},
			} {
				got, ok := fake.Stored(tc.key)
				if !ok || got.Status != tc.status || got.Source != tc.source || len(fake.History(tc.key)) != tc.history {
					t.Errorf("İYS holds %+v for %s %s (history %d), want %s from %s, history %d", got, tc.key.Recipient, tc.key.Type,
						len(fake.History(tc.key)), tc.status, tc.source, tc.history)
				}
			}
			list, err := admin.ListIysUploads(actx, &izinv1.ListIysUploadsRequest{State: izinv1.IysUploadState_IYS_UPLOAD_STATE_ACCEPTED})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.GetUploads()) != 4 {
				t.Fatalf("ListIysUploads(ACCEPTED): %d uploads, want 4", len(list.GetUploads()))
			}
			for _, u := range list.GetUploads() {
				if u.GetTransactionId() == "" || u.GetDeadline() == nil || u.GetBrand() != tn.BrandCode {
					t.Errorf("upload %v: want a transaction id, a deadline and the brand", u)
				}
			}
			if l, err := admin.ListIysUploads(actx, &izinv1.ListIysUploadsRequest{State: izinv1.IysUploadState_IYS_UPLOAD_STATE_PENDING}); err != nil || len(l.GetUploads()) != 0 {
				t.Errorf("ListIysUploads(PENDING) = %v, %v; want none", l.GetUploads(), err)
			}
		})
	}
}

func sealer(t *testing.T) *iyssync.Sealer {
	t.Helper()
	secret, err := hex.DecodeString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	s, err := iyssync.NewSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIYSCLI configures İYS, shows the status and synchronises with the
// command line.
func TestIYSCLI(t *testing.T) {
	t.Parallel()
	fake := iystest.New(t)
	db := migratedDB(t)
	common := []string{"--database-url", db, "--secret", testSecret, "--json"}
	code, out, errOut := runCLI(t, append(common, "tenant", "create", "--name", "Acme", "--mersis", newMersis(),
		"--brand-code", "ACME", "--brand-name", "Acme", "--sender", "ACME")...)
	if code != 0 {
		t.Fatalf("tenant create: exit %d\n%s%s", code, out, errOut)
	}
	var created struct {
		TenantID string `json:"tenant_id"`
	}
	decodeOne(t, out, &created)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(iystest.DefaultPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, append(common, "iys", "configure", "--tenant", created.TenantID, "--brand", "ACME",
		"--iys-code", iystest.DefaultIYSCode, "--brand-code", iystest.DefaultBrand, "--username", iystest.DefaultUsername,
		"--password-file", pwFile, "--base-url", fake.URL, "--enable")...)
	if code != 0 || !strings.Contains(out, `"has_password": true`) || strings.Contains(out, iystest.DefaultPassword) {
		t.Fatalf("iys configure: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, append(common, "iys", "configure", "--tenant", created.TenantID,
		"--iys-code", "12x", "--brand-code", "1", "--username", "u", "--password", "p")...)
	if code == 0 || !strings.Contains(out, "--iys-code") {
		t.Errorf("iys configure with a bad code: exit %d, %s%s; want a failure naming --iys-code", code, out, errOut)
	}

	code, out, errOut = runCLI(t, append(common, "iys", "sync", "--tenant", created.TenantID)...)
	if code != 0 {
		t.Fatalf("iys sync: exit %d\n%s%s", code, out, errOut)
	}
	var rep iyssync.Report
	decodeOne(t, out, &rep)
	if len(rep.Brands) != 1 || rep.Brands[0].BrandCode != "ACME" || len(rep.Brands[0].Errors) > 0 || len(rep.Brands[0].Reconciled) != 7 {
		t.Errorf("iys sync printed %+v: want ACME synchronised, 7 daily files reconciled", rep)
	}

	code, out, errOut = runCLI(t, append(common, "iys", "status")...)
	if code != 0 {
		t.Fatalf("iys status: exit %d\n%s%s", code, out, errOut)
	}
	var status struct {
		Tenants []struct {
			TenantID string                `json:"tenant_id"`
			Brands   []iyssync.BrandStatus `json:"brands"`
		} `json:"tenants"`
	}
	decodeOne(t, out, &status)
	if len(status.Tenants) != 1 || len(status.Tenants[0].Brands) != 1 {
		t.Fatalf("iys status printed %s", out)
	}
	if b := status.Tenants[0].Brands[0]; b.Connectivity != "ok" || !b.Enabled || b.LastPull == nil || b.Pending != 0 {
		t.Errorf("iys status: %+v, want connectivity ok, enabled, pulled, nothing pending", b)
	}
	// Text output.
	code, out, _ = runCLI(t, "--database-url", db, "--secret", testSecret, "iys", "status", "--offline")
	if code != 0 || !strings.Contains(out, "ACME") || !strings.Contains(out, "PENDING") {
		t.Errorf("iys status (text): exit %d\n%s", code, out)
	}
}
