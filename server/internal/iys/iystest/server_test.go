package iystest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/iys/iystest"
)

var start = time.Date(2026, 1, 14, 12, 0, 0, 0, iys.Istanbul())

func token(t *testing.T, s *iystest.Server) string {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {iystest.DefaultUsername}, "password": {iystest.DefaultPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	if tok.TokenType != "bearer" || tok.ExpiresIn != 7200 {
		t.Errorf("token answer %+v, want bearer and 7200 s", tok)
	}
	return tok.AccessToken
}

type answer struct {
	status int
	body   map[string]any
	errs   []map[string]any
}

func call(t *testing.T, s *iystest.Server, tok, method, path, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode}
	_ = json.Unmarshal(b, &a.body)
	if list, ok := a.body["errors"].([]any); ok {
		for _, e := range list {
			a.errs = append(a.errs, e.(map[string]any))
		}
	}
	return a
}

const consents = "/sps/" + iystest.DefaultIYSCode + "/brands/" + iystest.DefaultBrand + "/consents"

func TestTokensExpire(t *testing.T) {
	s := iystest.New(t, iystest.WithStart(start))
	tok := token(t, s)
	if a := call(t, s, tok, "POST", consents+"/status", `{"recipient":"+905320000001","recipientType":"BIREYSEL","type":"MESAJ"}`); a.status != 404 {
		t.Fatalf("fresh token: %d, want 404 (no record)", a.status)
	}
	s.Advance(2*time.Hour + time.Second)
	a := call(t, s, tok, "POST", consents+"/status", `{"recipient":"+905320000001","recipientType":"BIREYSEL","type":"MESAJ"}`)
	if a.status != 401 || len(a.errs) != 1 || a.errs[0]["code"] != "H351" {
		t.Fatalf("expired token: %d %v, want 401 H351", a.status, a.errs)
	}
}

func TestTokenAcceptsJSON(t *testing.T) {
	s := iystest.New(t)
	resp, err := http.Post(s.URL+"/oauth2/token", "application/json",
		strings.NewReader(`{"grant_type":"password","username":"`+iystest.DefaultUsername+`","password":"`+iystest.DefaultPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || s.TokenRequests("password") != 1 {
		t.Fatalf("JSON token request: %d", resp.StatusCode)
	}
}

func TestConsentRules(t *testing.T) {
	s := iystest.New(t, iystest.WithStart(start))
	tok := token(t, s)
	at := func(d time.Duration) string { return iys.FormatDate(start.Add(d)) }
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"unknown field", `{"recipient":"+905320000001","recipientType":"BIREYSEL","type":"MESAJ","status":"ONAY","source":"HS_WEB","consentDate":"` + at(-time.Hour) + `","name":"Ali"}`, 422, "H118"},
		{"missing status", `{"recipient":"+905320000001","recipientType":"BIREYSEL","type":"MESAJ","source":"HS_WEB","consentDate":"` + at(-time.Hour) + `"}`, 422, "H110"},
		{"bad date format", `{"recipient":"+905320000001","recipientType":"BIREYSEL","type":"MESAJ","status":"ONAY","source":"HS_WEB","consentDate":"14.01.2026 10:00"}`, 422, "H158"},
		{"bad e-mail", `{"recipient":"örnek@mail.com","recipientType":"BIREYSEL","type":"EPOSTA","status":"ONAY","source":"HS_WEB","consentDate":"` + at(-time.Hour) + `"}`, 422, "H120"},
		{"HS_KARAR must be RET", `{"recipient":"+905320000001","recipientType":"BIREYSEL","type":"MESAJ","status":"ONAY","source":"HS_KARAR","consentDate":"` + at(-time.Hour) + `"}`, 422, "H408"},
		{"HS_2015 on its date is fine", `{"recipient":"+905320000009","recipientType":"BIREYSEL","type":"MESAJ","status":"ONAY","source":"HS_2015","consentDate":"2015-05-01 00:00:00"}`, 200, ""},
		{"TACIR first record needs no date or source", `{"recipient":"+905320000002","recipientType":"TACIR","type":"MESAJ","status":"ONAY"}`, 200, ""},
		{"TACIR update needs a date", `{"recipient":"+905320000002","recipientType":"TACIR","type":"MESAJ","status":"RET","source":"HS_WEB"}`, 400, "H462"},
		{"TACIR update with date and source", `{"recipient":"+905320000002","recipientType":"TACIR","type":"MESAJ","status":"RET","source":"HS_WEB","consentDate":"{now}"}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Advance(2 * time.Second)
			a := call(t, s, tok, "POST", consents, strings.ReplaceAll(tt.body, "{now}", iys.FormatDate(s.Now())))
			if a.status != tt.status {
				t.Fatalf("status %d, want %d (%v)", a.status, tt.status, a.errs)
			}
			if tt.code != "" && (len(a.errs) == 0 || a.errs[0]["code"] != tt.code || a.errs[0]["message"] == "") {
				t.Fatalf("errors %v, want %s with a message", a.errs, tt.code)
			}
			if tt.status == 200 && (a.body["transactionId"] == "" || a.body["creationDate"] == "") {
				t.Fatalf("answer %v", a.body)
			}
		})
	}
	h := s.History(iystest.Key{IYSCode: iystest.DefaultIYSCode, BrandCode: iystest.DefaultBrand, Recipient: "+905320000002", RecipientType: iys.Merchant, Type: iys.SMS})
	if len(h) != 2 || h[0].Status != iys.Granted || h[1].Status != iys.Rejected {
		t.Errorf("TACIR history %+v", h)
	}
}

func TestBulkLimitAndForbiddenBrand(t *testing.T) {
	s := iystest.New(t, iystest.WithStart(start), iystest.WithMaxBatch(2))
	tok := token(t, s)
	item := `{"recipient":"+90532000000%d","recipientType":"BIREYSEL","type":"MESAJ","status":"ONAY","source":"HS_WEB","consentDate":"` + iys.FormatDate(start.Add(-time.Hour)) + `"}`
	body := "[" + strings.Join([]string{strings.Replace(item, "%d", "1", 1), strings.Replace(item, "%d", "2", 1), strings.Replace(item, "%d", "3", 1)}, ",") + "]"
	if a := call(t, s, tok, "POST", consents+"/request", body); a.status != 422 || a.errs[0]["code"] != "H091" {
		t.Errorf("3 items over a limit of 2: %d %v, want 422 H091", a.status, a.errs)
	}
	if a := call(t, s, tok, "POST", "/sps/"+iystest.DefaultIYSCode+"/brands/42/consents/request", "[]"); a.status != 403 || a.errs[0]["code"] != "H353" {
		t.Errorf("foreign brand: %d %v, want 403 H353", a.status, a.errs)
	}
}

func TestChangesDelayHidesRecentChanges(t *testing.T) {
	s := iystest.New(t, iystest.WithStart(start), iystest.WithChangesDelay(time.Hour))
	tok := token(t, s)
	s.InjectChange(iystest.DefaultIYSCode, iystest.DefaultBrand, iys.Consent{Recipient: "+905320000001", Type: iys.SMS, Status: iys.Rejected, Source: iys.SourceIYSWeb})
	list := func() int {
		a := call(t, s, tok, "GET", consents+"/changes", "")
		if a.status != 200 {
			t.Fatalf("changes: %d %v", a.status, a.errs)
		}
		return len(a.body["list"].([]any))
	}
	if n := list(); n != 0 {
		t.Errorf("%d changes within the hour, want 0", n)
	}
	s.Advance(61 * time.Minute)
	if n := list(); n != 1 {
		t.Errorf("%d changes after the hour, want 1", n)
	}
}
