package iys

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestConsentJSON(t *testing.T) {
	c := Consent{
		Recipient: "+905321234567", RecipientType: Individual, Type: SMS, Status: Granted, Source: SourceWeb,
		// 09:34:56.789 UTC is 12:34:56 in Istanbul; fractions are dropped.
		ConsentDate:   time.Date(2025, 3, 3, 9, 34, 56, 789e6, time.UTC),
		RetailerCode:  11223344,
		CreationDate:  time.Now(), // never sent
		TransactionID: "tx",       // never sent
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"recipient": "+905321234567", "recipientType": "BIREYSEL", "type": "MESAJ", "status": "ONAY",
		"source": "HS_WEB", "consentDate": "2025-03-03 12:34:56", "retailerCode": float64(11223344),
	}
	if len(m) != len(want) {
		t.Fatalf("fields = %v, want exactly %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}

	b, _ = json.Marshal(Consent{Recipient: "a@b.co", Type: Email, Status: Granted, Source: SourceWeb})
	if !strings.Contains(string(b), `"recipientType":"BIREYSEL"`) || strings.Contains(string(b), "consentDate") {
		t.Errorf("defaults: %s, want BIREYSEL and no consentDate", b)
	}

	in := `{"type":"MESAJ","source":"IYS_WEB","recipient":"+905321234567","recipientType":"BIREYSEL","status":"RET",
		"consentDate":"2025-03-04 00:15:00","creationDate":"2025-03-04 00:15:02","transactionId":"abc","retailerAccess":[1,2]}`
	var got Consent
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if !got.ConsentDate.Equal(time.Date(2025, 3, 3, 21, 15, 0, 0, time.UTC)) {
		t.Errorf("ConsentDate = %s, want 2025-03-03 21:15 UTC", got.ConsentDate.UTC())
	}
	if got.TransactionID != "abc" || got.Status != Rejected || !got.Source.FromIYS() || len(got.RetailerAccess) != 2 {
		t.Errorf("decoded %+v", got)
	}
	if err := json.Unmarshal([]byte(`{"consentDate":"03.03.2025 10:00"}`), &got); err == nil {
		t.Error("a malformed consentDate should not decode")
	}
}

func TestIstanbulFallback(t *testing.T) {
	fixed := loadIstanbul(func(string) (*time.Location, error) { return nil, errors.New("no tzdata") })
	zone := Istanbul()
	for _, ts := range []time.Time{
		time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 7, 15, 21, 30, 0, 0, time.UTC),
		time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		if a, b := ts.In(fixed).Format(dateLayout), ts.In(zone).Format(dateLayout); a != b {
			t.Errorf("%s: fixed zone %s, tzdata %s", ts, a, b)
		}
	}
}

func TestParseError(t *testing.T) {
	body := `{"errors":[{"code:":"H353","message":"brandCode, kullanıcı izinleriyle eşleştiriliemiyor"},
		{"code":"H180","message":"retailerCode kullanıcı üzerinde bulunamadı.","location":["retailerAccess",0],"value":73064462,"index":2}]}`
	e := parseError("AddConsent", 403, http.Header{}, []byte(body), time.Now())
	if e.Code != "H353" || len(e.Details) != 2 || !IsAuth(e) {
		t.Fatalf("got %+v", e)
	}
	d := e.Details[1]
	if strings.Join(d.Location, ".") != "retailerAccess.0" || d.Value != "73064462" || d.Index != 2 {
		t.Errorf("detail = %+v", d)
	}
	if !strings.Contains(e.Error(), "H353") || !strings.Contains(e.Error(), "(+1 more)") {
		t.Errorf("Error() = %s", e.Error())
	}

	oauth := parseError("token", 400, http.Header{}, []byte(`{"error":"invalid_request","error_description":"Kullanıcı kimlik bilgileri geçersiz."}`), time.Now())
	if oauth.Code != "invalid_request" || !IsAuth(oauth) || IsRuleViolation(oauth) {
		t.Errorf("oauth error = %+v", oauth)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status                 int
		code                   string
		rule, transient, limit bool
	}{
		{400, "H175", true, false, false},
		{400, "H174", true, false, false},
		{400, "H178", true, false, false},
		{422, "H467", true, false, false},
		{422, "H121", true, false, false},
		{422, "", true, false, false},
		{400, "H123", false, true, false}, // "busy", documented as send again despite 400
		{429, "H124", false, true, true},
		{429, "", false, true, true},
		{500, "H470", false, true, false},
		{503, "", false, true, false},
		{500, "H999", false, true, false}, // unknown code: by status
		{401, "H351", false, false, false},
		{403, "H353", false, false, false},
	}
	for _, tt := range tests {
		e := &Error{HTTPStatus: tt.status, Code: tt.code, Index: -1, kind: classify(tt.status, tt.code)}
		if IsRuleViolation(e) != tt.rule || IsTransient(e) != tt.transient || IsRateLimited(e) != tt.limit {
			t.Errorf("%d %s: rule=%v transient=%v limited=%v", tt.status, tt.code, IsRuleViolation(e), IsTransient(e), IsRateLimited(e))
		}
		if e.Cause() == "" {
			t.Errorf("%d %s: empty cause", tt.status, tt.code)
		}
	}
	if IsRuleViolation(errors.New("x")) || IsTransient(nil) {
		t.Error("plain errors are neither")
	}
	if c, ok := CodeCause("H175"); !ok || !strings.Contains(c, "RET") {
		t.Errorf("CodeCause(H175) = %q", c)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 6, 10, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-1":                            0,
		"Mon, 06 Jan 2025 10:00:30 GMT": 30 * time.Second,
		"garbage":                       0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseDailyFile(t *testing.T) {
	csv := "\xef\xbb\xbfcreationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n" +
		"2020-10-29 23:58:53,f26a,ornek@mail.com,BIREYSEL,EPOSTA,ONAY,2017-06-28 19:39:28,HS_WEB\n" +
		"2020-10-29 23:58:54,576a,+905321234567,BIREYSEL,MESAJ,RET,2020-10-29 23:58:00,IYS_KISAMESAJ\n"
	got, err := parseDailyFile([]byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Source != SourceIYSSMS || got[1].Status != Rejected || got[0].TransactionID != "f26a" {
		t.Fatalf("got %+v", got)
	}
	if _, err := parseDailyFile([]byte("a,b\n1,2\n")); err == nil {
		t.Error("a file without İYS's columns should be refused")
	}
}
