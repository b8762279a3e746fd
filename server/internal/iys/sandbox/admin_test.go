package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iys/sandbox"
)

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// With any credentials, an account nobody configured acts for any brand,
// and İYS's rules still apply to it.
func TestAnyCredentials(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(sandbox.WithAnyCredentials()))
	defer srv.Close()
	c, err := iys.New(srv.URL, iys.Credentials{Username: "whoever", Password: "anything"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.AddConsent(ctx, "123456", "654321", iys.Consent{Recipient: "+905321234567", Type: iys.SMS,
		Status: iys.Granted, Source: iys.SourceWeb, ConsentDate: time.Now()}); err != nil {
		t.Fatalf("an ONAY for an unconfigured brand: %v", err)
	}
	_, err = c.AddConsent(ctx, "123456", "654321", iys.Consent{Recipient: "+905321234568", Type: iys.SMS,
		Status: iys.Rejected, Source: iys.SourceWeb, ConsentDate: time.Now()})
	if e := (*iys.Error)(nil); !errors.As(err, &e) || e.Code != "H175" {
		t.Errorf("a first RET: %v, want İYS's refusal H175", err)
	}
	resp, err := http.PostForm(srv.URL+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"whoever"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a token without a password: %d, want 400", resp.StatusCode)
	}
}

func TestAdminChanges(t *testing.T) {
	sb := sandbox.New(sandbox.WithAnyCredentials())
	srv := httptest.NewServer(sb)
	defer srv.Close()

	// Before any İYS request, the İYS code must be given.
	if code, m := post(t, srv.URL+"/sandbox/changes", `{"brandCode":"654321","recipient":"0532 123 45 67","type":"MESAJ","status":"RET","source":"IYS_MOBIL"}`); code != 400 || !strings.Contains(m["error"].(string), "iysCode") {
		t.Errorf("a change without an İYS code before any request: %d %v", code, m)
	}
	c, err := iys.New(srv.URL, iys.Credentials{Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Changes(ctx, "123456", "654321", "", 10); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, body, wantErr string
	}{
		{"no brand", `{"recipient":"+905321234567","type":"MESAJ","status":"RET","source":"IYS_MOBIL"}`, "brandCode"},
		{"bad type", `{"brandCode":"654321","recipient":"+905321234567","type":"FAKS","status":"RET","source":"IYS_MOBIL"}`, "type"},
		{"bad status", `{"brandCode":"654321","recipient":"+905321234567","type":"MESAJ","status":"EVET","source":"IYS_MOBIL"}`, "status"},
		{"bad source", `{"brandCode":"654321","recipient":"+905321234567","type":"MESAJ","status":"RET","source":"WEB"}`, "source"},
		{"mail for SMS", `{"brandCode":"654321","recipient":"ali@example.com","type":"MESAJ","status":"RET","source":"IYS_WEB"}`, "recipient"},
		{"future", `{"brandCode":"654321","recipient":"+905321234567","type":"MESAJ","status":"RET","source":"IYS_WEB","consentDate":"2999-01-01 00:00:00"}`, "consentDate"},
		{"one bad in a list", `[{"brandCode":"654321","recipient":"+905321234567","type":"MESAJ","status":"RET","source":"IYS_WEB"},{"brandCode":"654321"}]`, "change 1"},
	} {
		if code, m := post(t, srv.URL+"/sandbox/changes", tc.body); code != 400 || !strings.Contains(m["error"].(string), tc.wantErr) {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.name, code, m, tc.wantErr)
		}
	}
	if got := sb.Consents(sandbox.Filter{}); len(got) != 0 {
		t.Fatalf("refused changes were stored: %+v", got)
	}

	// The İYS code is the one used with the brand; the recipient is
	// normalised.
	code, m := post(t, srv.URL+"/sandbox/changes", `{"brandCode":"654321","recipient":"0532 123 45 67","type":"MESAJ","status":"RET","source":"IYS_MOBIL"}`)
	if code != 201 || m["iysCode"] != "123456" || m["recipient"] != "+905321234567" || m["transactionId"] == "" {
		t.Fatalf("emit: %d %v", code, m)
	}
	code, m = post(t, srv.URL+"/sandbox/changes", `[{"iysCode":"123456","brandCode":"654321","recipient":"ayse@example.com.tr","type":"EPOSTA","status":"ONAY","source":"HS_WEB","consentDate":"2024-03-01 10:00:00"}]`)
	if code != 201 || len(m["consents"].([]any)) != 1 {
		t.Fatalf("emit a list: %d %v", code, m)
	}

	// The citizen's RET is in the change feed; the HS_WEB consent too (İYS
	// lists a company's own changes as well).
	page, err := c.Changes(ctx, "123456", "654321", "", 10)
	if err != nil || len(page.Changes) != 2 || page.Changes[0].Source != iys.SourceIYSMobile || page.Changes[0].Status != iys.Rejected {
		t.Fatalf("changes: %+v, %v", page, err)
	}
	got, err := c.ConsentStatus(ctx, "123456", "654321", "+905321234567", iys.Individual, iys.SMS)
	if err != nil || got == nil || got.Status != iys.Rejected {
		t.Errorf("status: %+v, %v; want RET", got, err)
	}

	code, body := get(t, srv.URL+"/sandbox/consents?brandCode=654321&recipient=05321234567")
	var list struct {
		Consents []map[string]any `json:"consents"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Consents) != 1 || list.Consents[0]["status"] != "RET" {
		t.Errorf("consents of a recipient: %d %s", code, body)
	}
	code, body = get(t, srv.URL+"/sandbox/consents?brandCode=654321&format=csv")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if code != 200 || len(lines) != 3 || !strings.HasPrefix(lines[0], "creationDate,transactionId,recipient,recipientType,type,status,consentDate,source") ||
		!strings.Contains(lines[1], ",+905321234567,BIREYSEL,MESAJ,RET,") || !strings.Contains(lines[2], "ayse@example.com.tr,BIREYSEL,EPOSTA,ONAY,2024-03-01 10:00:00,HS_WEB") {
		t.Errorf("consents as CSV: %d\n%s", code, body)
	}
	if code, _ := get(t, srv.URL+"/sandbox/consents?format=csv"); code != 400 {
		t.Errorf("CSV of every brand: %d, want 400", code)
	}
	if code, body := get(t, srv.URL+"/sandbox/"); code != 200 || !strings.Contains(body, "/sandbox/changes") {
		t.Errorf("help: %d %s", code, body)
	}

	if code, m := post(t, srv.URL+"/sandbox/reset", ""); code != 200 || m["consents_forgotten"] != float64(2) {
		t.Errorf("reset: %d %v", code, m)
	}
	if got := sb.Consents(sandbox.Filter{}); len(got) != 0 {
		t.Errorf("after reset: %+v", got)
	}
	// The cursor of before the reset still works: new changes come after it.
	sb.InjectChange("123456", "654321", iys.Consent{Recipient: "+905321234569", Type: iys.Call, Status: iys.Rejected, Source: iys.SourceIYSWeb})
	next, err := c.Changes(ctx, "123456", "654321", page.Next, 10)
	if err != nil || len(next.Changes) != 1 || next.Changes[0].Recipient != "+905321234569" {
		t.Errorf("changes after the reset: %+v, %v", next, err)
	}
}
