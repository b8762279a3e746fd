package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/cli"
	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
)

// lockedBuffer is written by the sandbox's request log while a test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSandbox runs `izin iys sandbox` on a free port until the test ends,
// and returns its URL.
func startSandbox(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errOut := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		code := cli.Execute(ctx, []string{"--json", "iys", "sandbox", "--addr", "127.0.0.1:0"}, pw, errOut)
		_ = pw.Close() // a PipeWriter closes without error
		done <- code
	}()
	var banner struct {
		URL string `json:"url"`
	}
	dec := json.NewDecoder(pr)
	if err := dec.Decode(&banner); err != nil || !strings.HasPrefix(banner.URL, "http://127.0.0.1:") {
		cancel()
		t.Fatalf("iys sandbox printed %+v, %v; stderr:\n%s", banner, err, errOut)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 || !strings.Contains(errOut.String(), "stopped") {
			t.Errorf("iys sandbox: exit %d on cancel\n%s", code, errOut)
		}
	})
	return banner.URL
}

func sandboxJSON(t *testing.T, method, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v %v", method, url, resp.StatusCode, m, err)
	}
	return m
}

func syncOnce(t *testing.T, db, tenant string) iyssync.BrandReport {
	t.Helper()
	code, out, errOut := run(t, "--database-url", db, "--json", "iys", "sync", "--tenant", tenant, "--iys-poll-delay=-1s")
	if code != 0 {
		t.Fatalf("iys sync: exit %d\n%s%s", code, out, errOut)
	}
	var rep iyssync.Report
	decode(t, out, &rep)
	if len(rep.Brands) != 1 {
		t.Fatalf("iys sync: %s", out)
	}
	return rep.Brands[0]
}

// TestIYSSandbox points a brand at `izin iys sandbox`, records a consent
// and synchronises: the sandbox holds it; a RET a citizen makes there comes
// back with the next synchronisation and the check says REJECTED.
func TestIYSSandbox(t *testing.T) {
	db, tenant, _ := setup(t)
	url := startSandbox(t)
	code, out, errOut := run(t, "--database-url", db, "iys", "configure", "--tenant", tenant, "--iys-code", "123456",
		"--brand-code", "654321", "--username", "sandbox", "--password", "sandbox", "--base-url", url, "--enable")
	if code != 0 {
		t.Fatalf("iys configure: exit %d\n%s%s", code, out, errOut)
	}

	ctx := context.Background()
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := consent.New(st, tenancy.New(st, nil, time.Second), nil, time.Now)
	p := auth.Principal{TenantID: tenant, Scope: store.ScopeAdmin}
	const phone = "+905321234567"
	// A minute ago: İYS dates have whole seconds, so a citizen's RET in the
	// same second as the consent could read as older than it.
	given := time.Now().Add(-time.Minute)
	if _, err := svc.Record(ctx, p, consent.ChangeRequest{Recipient: "0532 123 45 67", Types: []store.ConsentType{store.ConsentSMS},
		IYSSource: "HS_WEB", ConsentTime: &given}); err != nil {
		t.Fatal(err)
	}

	if br := syncOnce(t, db, tenant); br.Sent != 1 || br.Accepted != 1 || len(br.Errors) > 0 {
		t.Fatalf("first sync: %+v, want the consent sent and accepted", br)
	}
	held := sandboxJSON(t, "GET", url+"/sandbox/consents?brandCode=654321&recipient="+phone, "")["consents"].([]any)
	if len(held) != 1 || held[0].(map[string]any)["status"] != "ONAY" || held[0].(map[string]any)["source"] != "HS_WEB" {
		t.Fatalf("the sandbox holds %v, want the ONAY from HS_WEB", held)
	}

	sandboxJSON(t, "POST", url+"/sandbox/changes",
		`{"brandCode":"654321","recipient":"`+phone+`","type":"MESAJ","status":"RET","source":"IYS_MOBIL"}`)
	if br := syncOnce(t, db, tenant); br.Applied != 1 || len(br.Errors) > 0 {
		t.Fatalf("second sync: %+v, want the citizen's RET applied", br)
	}
	res, err := svc.Check(ctx, p, consent.CheckRequest{Recipient: phone, Types: []store.ConsentType{store.ConsentSMS}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Results[0]; r.Status != store.StatusRejected || r.IYSSource != "IYS_MOBIL" {
		t.Errorf("check after the pull: %+v, want REJECTED from IYS_MOBIL", r)
	}
	// İYS made the RET: nothing goes back.
	if br := syncOnce(t, db, tenant); br.Sent != 0 {
		t.Errorf("third sync sent %d, want nothing", br.Sent)
	}
}
