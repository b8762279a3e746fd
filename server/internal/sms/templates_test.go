package sms

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	testBrand  = "ACMEMARKET1" // longest sender title (11)
	testMersis = "0123456789012345"
	testCode   = "123456"
)

var allCombos = [][]string{
	{TypeSMS}, {TypeCall}, {TypeEmail},
	{TypeSMS, TypeCall}, {TypeSMS, TypeEmail}, {TypeCall, TypeEmail},
	{TypeSMS, TypeCall, TypeEmail},
}

func TestTypesText(t *testing.T) {
	tests := []struct {
		types   []string
		want    string
		wantErr bool
	}{
		{[]string{"SMS"}, "SMS", false},
		{[]string{"CALL"}, "arama", false},
		{[]string{"EMAIL"}, "e-posta", false},
		{[]string{"SMS", "CALL"}, "SMS ve arama", false},
		{[]string{"CALL", "SMS"}, "SMS ve arama", false},
		{[]string{"EMAIL", "CALL"}, "arama ve e-posta", false},
		{[]string{"SMS", "EMAIL"}, "SMS ve e-posta", false},
		{[]string{"EMAIL", "SMS", "CALL"}, "SMS, arama ve e-posta", false},
		{[]string{"SMS", "SMS"}, "SMS", false},
		{nil, "", true},
		{[]string{"sms"}, "", true},
		{[]string{"SMS", "FAX"}, "", true},
	}
	for _, tt := range tests {
		got, err := TypesText(tt.types)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("TypesText(%q) = %q, %v; want %q, error %v", tt.types, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDefaultRejectRoute(t *testing.T) {
	tests := []struct {
		keyword, number, want string
	}{
		{"ACME", "3338", "RET ACME yazıp 3338'e gönderin"},       // sekiz
		{"ACME", "3330", "RET ACME yazıp 3330'a gönderin"},       // otuz
		{"ACME", "3339", "RET ACME yazıp 3339'a gönderin"},       // dokuz
		{"ACME", "5556", "RET ACME yazıp 5556'ya gönderin"},      // altı
		{"ACME", "7772", "RET ACME yazıp 7772'ye gönderin"},      // iki
		{"ACME", "4444", "RET ACME yazıp 4444'e gönderin"},       // dört
		{"ACME", "4660", "RET ACME yazıp 4660'a gönderin"},       // altmış
		{"ACME", "4670", "RET ACME yazıp 4670'e gönderin"},       // yetmiş
		{"ACME", "4650", "RET ACME yazıp 4650'ye gönderin"},      // elli
		{"ACME", "8210", "RET ACME yazıp 8210'a gönderin"},       // on
		{"ACME", "2200", "RET ACME yazıp 2200'e gönderin"},       // yüz
		{"ACME", "3000", "RET ACME yazıp 3000'e gönderin"},       // bin
		{"ACME", "300000", "RET ACME yazıp 300000'e gönderin"},   // bin
		{"ACME", "2000000", "RET ACME yazıp 2000000'a gönderin"}, // milyon
		{"ACME", "0", "RET ACME yazıp 0'a gönderin"},             // sıfır
		{"ACME", "0850 123 45 67", "RET ACME yazıp 0850 123 45 67'ye gönderin"},
		{" ACME ", " 3338 ", "RET ACME yazıp 3338'e gönderin"},
		{"", "3338", "RET yazıp 3338'e gönderin"},
		{"ACME", "IYS", "RET ACME yazıp IYS numarasına gönderin"},
	}
	for _, tt := range tests {
		if got := DefaultRejectRoute(tt.keyword, tt.number); got != tt.want {
			t.Errorf("DefaultRejectRoute(%q, %q) = %q, want %q", tt.keyword, tt.number, got, tt.want)
		}
	}
}

func TestDefaultTemplatesGolden(t *testing.T) {
	tpl := DefaultTemplates()
	act, err := tpl.Activation(ActivationData{
		Brand: "ACME", Code: testCode, Types: []string{TypeSMS, TypeCall},
		RejectRoute: DefaultRejectRoute("ACME", "3338"), Mersis: testMersis,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantAct := "123456 kodunu ileterek SMS ve arama ile ticari ileti izni verirsiniz. " +
		"Ret: RET ACME yazıp 3338'e gönderin. MERSIS:0123456789012345"
	if act != wantAct {
		t.Errorf("activation =\n%q\nwant\n%q", act, wantAct)
	}
	conf, err := tpl.Confirmation(ConfirmationData{
		Brand: "ACME", Types: []string{TypeSMS, TypeCall},
		Time:        time.Date(2026, time.November, 27, 11, 5, 0, 0, time.UTC),
		RejectRoute: DefaultRejectRoute("ACME", "3338"), Mersis: testMersis,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantConf := "ACME: SMS ve arama izniniz 27.11.2026 14:05 kaydedildi. " +
		"Ret: RET ACME yazıp 3338'e gönderin MERSIS:0123456789012345"
	if conf != wantConf {
		t.Errorf("confirmation =\n%q\nwant\n%q", conf, wantConf)
	}
}

// The default templates must fit one SMS for every type combination at the
// worst case a brand can configure: an 11-character sender used as the RET
// keyword (the route izin uses when a brand sets none).
func TestDefaultTemplatesFitWorstCase(t *testing.T) {
	tpl := DefaultTemplates()
	for _, route := range []string{
		DefaultRejectRoute(testBrand, "3338"),
		"RET ACMEMARKET yazıp 3338'e gönderin",
	} {
		for _, types := range allCombos {
			act, err := tpl.Activation(ActivationData{Brand: testBrand, Code: testCode, Types: types, RejectRoute: route, Mersis: testMersis})
			if err != nil {
				t.Fatalf("activation %v: %v", types, err)
			}
			conf, err := tpl.Confirmation(ConfirmationData{Brand: testBrand, Types: types, Time: time.Now(), RejectRoute: route, Mersis: testMersis})
			if err != nil {
				t.Fatalf("confirmation %v: %v", types, err)
			}
			for kind, body := range map[string]string{"activation": act, "confirmation": conf} {
				m := Measure(body)
				if m.Segments != 1 || m.Units > LimitGSM7Turkish || m.Encoding != EncodingGSM7 {
					t.Errorf("%s %v: %+v", kind, types, m)
				}
				for _, part := range []string{testMersis, route} {
					if !strings.Contains(body, part) {
						t.Errorf("%s %v lacks %q: %s", kind, types, part, body)
					}
				}
				text, _ := TypesText(types)
				if !strings.Contains(body, text) {
					t.Errorf("%s lacks %q: %s", kind, text, body)
				}
				if len(types) == 3 {
					t.Logf("%s worst case (route %q): %d/%d: %s", kind, route, m.Units, m.Limit, body)
				}
			}
			if !strings.Contains(act, testCode) {
				t.Errorf("activation lacks the code: %s", act)
			}
		}
	}
}

func TestRenderRejectsOverLong(t *testing.T) {
	tpl := DefaultTemplates()
	long := strings.Repeat("B", 40)
	_, err := tpl.Confirmation(ConfirmationData{Brand: long, Types: allCombos[6], Time: time.Now(), RejectRoute: DefaultRejectRoute("ACME", "3338"), Mersis: testMersis})
	var le *LengthError
	if !errors.As(err, &le) {
		t.Fatalf("confirmation with a 40-character brand: err = %v, want *LengthError", err)
	}
	_, err = tpl.Activation(ActivationData{Brand: "ACME", Code: testCode, Types: allCombos[6], RejectRoute: "RET " + long + " yazıp 3338'e gönderin", Mersis: testMersis})
	if !errors.As(err, &le) {
		t.Fatalf("activation with a long route: err = %v, want *LengthError", err)
	}
}

func TestRenderValidatesInput(t *testing.T) {
	tpl := DefaultTemplates()
	ok := ActivationData{Brand: "ACME", Code: testCode, Types: []string{TypeSMS}, RejectRoute: "RET ACME yazıp 3338'e gönderin", Mersis: testMersis}
	if _, err := tpl.Activation(ok); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*ActivationData)
	}{
		{"empty brand", func(d *ActivationData) { d.Brand = " " }},
		{"short code", func(d *ActivationData) { d.Code = "12345" }},
		{"long code", func(d *ActivationData) { d.Code = "1234567" }},
		{"non-digit code", func(d *ActivationData) { d.Code = "12345a" }},
		{"no types", func(d *ActivationData) { d.Types = nil }},
		{"unknown type", func(d *ActivationData) { d.Types = []string{"FAX"} }},
		{"empty route", func(d *ActivationData) { d.RejectRoute = " . " }},
		{"short MERSIS", func(d *ActivationData) { d.Mersis = "012345678901234" }},
		{"spaced MERSIS", func(d *ActivationData) { d.Mersis = "0123 4567 8901 2345" }},
	}
	for _, tt := range tests {
		d := ok
		tt.edit(&d)
		if body, err := tpl.Activation(d); err == nil {
			t.Errorf("%s: got %q, want error", tt.name, body)
		}
	}
	_, err := tpl.Confirmation(ConfirmationData{Brand: "ACME", Types: []string{TypeSMS}, RejectRoute: "RET ACME yazıp 3338'e gönderin", Mersis: testMersis})
	if err == nil {
		t.Error("confirmation with zero time: want error")
	}
}

func TestRejectRouteTrailingPeriod(t *testing.T) {
	body, err := DefaultTemplates().Activation(ActivationData{Brand: "ACME", Code: testCode, Types: []string{TypeSMS}, RejectRoute: " RET ACME yazıp 3338'e gönderin. ", Mersis: testMersis})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "..") {
		t.Errorf("double period: %s", body)
	}
}

func TestNewTemplates(t *testing.T) {
	const goodConf = "{{.Brand}} {{.Types}} {{.Time}} {{.RejectRoute}} {{.Mersis}}"
	const goodAct = "{{.Code}} {{.Types}} {{.RejectRoute}} {{.Mersis}}"
	tests := []struct {
		name       string
		act, conf  string
		wantErrSub string // empty: no error
	}{
		{"defaults", DefaultActivationTemplate, DefaultConfirmationTemplate, ""},
		{"minimal", goodAct, goodConf, ""},
		{"activation without code", "{{.Types}} {{.RejectRoute}} {{.Mersis}}", goodConf, ".Code"},
		{"code hidden by if", "{{if false}}{{.Code}}{{end}} {{.Types}} {{.RejectRoute}} {{.Mersis}}", goodConf, ".Code"},
		{"code truncated", `{{printf "%.3s" .Code}} {{.Types}} {{.RejectRoute}} {{.Mersis}}`, goodConf, ".Code"},
		{"activation without MERSIS", "{{.Code}} {{.Types}} {{.RejectRoute}}", goodConf, ".Mersis"},
		{"activation without route", "{{.Code}} {{.Types}} {{.Mersis}}", goodConf, ".RejectRoute"},
		{"activation without types", "{{.Code}} {{.RejectRoute}} {{.Mersis}}", goodConf, ".Types"},
		{"confirmation without MERSIS", goodAct, "{{.Types}} {{.Time}} {{.RejectRoute}}", ".Mersis"},
		{"confirmation without route", goodAct, "{{.Types}} {{.Time}} {{.Mersis}}", ".RejectRoute"},
		{"confirmation without time", goodAct, "{{.Types}} {{.RejectRoute}} {{.Mersis}}", ".Time"},
		{"code in confirmation", goodAct, goodConf + " {{.Code}}", "Code"},
		{"unknown field", goodAct + " {{.Nope}}", goodConf, "Nope"},
		{"parse error", "{{.Code", goodConf, "activation template"},
		{"empty", "", goodConf, ".Code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTemplates(tt.act, tt.conf)
			if tt.wantErrSub == "" {
				if err != nil {
					t.Fatalf("NewTemplates: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
				t.Fatalf("NewTemplates error = %v, want one mentioning %q", err, tt.wantErrSub)
			}
		})
	}
}

func TestCustomTemplate(t *testing.T) {
	tpl, err := NewTemplates(
		"{{.Brand}} onay kodu {{.Code}}: {{.Types}} için. Ret: {{.RejectRoute}}. MERSIS {{.Mersis}}\n",
		"{{.Brand}} {{.Types}} onayı {{.Time}}. Ret: {{.RejectRoute}}. MERSIS {{.Mersis}}",
	)
	if err != nil {
		t.Fatal(err)
	}
	body, err := tpl.Activation(ActivationData{Brand: "ACME", Code: testCode, Types: []string{TypeEmail}, RejectRoute: "RET ACME yazıp 3338'e gönderin", Mersis: testMersis})
	if err != nil {
		t.Fatal(err)
	}
	want := "ACME onay kodu 123456: e-posta için. Ret: RET ACME yazıp 3338'e gönderin. MERSIS 0123456789012345"
	if body != want {
		t.Errorf("got %q, want %q (trailing newline trimmed)", body, want)
	}
}

func TestValidateWorstCase(t *testing.T) {
	tpl := DefaultTemplates()
	tests := []struct {
		name       string
		brand      string
		route      string
		wantLength bool // want a *LengthError
		wantErr    bool
	}{
		{"11-character sender", testBrand, DefaultRejectRoute(testBrand, "3338"), false, false},
		{"short sender", "ACME", DefaultRejectRoute("ACME", "3338"), false, false},
		{"long brand", strings.Repeat("B", 40), DefaultRejectRoute("ACME", "3338"), true, true},
		{"long route", "ACME", "RET ACME yazıp 3338'e ya da 0850 123 45 67'ye SMS gönderin", true, true},
		{"typographic apostrophe forces UCS2", "ACME", "RET ACME yazıp 3338’e gönderin", true, true},
		{"empty route", "ACME", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateWorstCase(tpl, tt.brand, tt.route)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ValidateWorstCase = %v, want error %v", err, tt.wantErr)
			}
			var le *LengthError
			if errors.As(err, &le) != tt.wantLength {
				t.Fatalf("ValidateWorstCase = %v (%T), want LengthError %v", err, err, tt.wantLength)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
	// The margin left at the worst case: one more character in the route
	// must still fit, so brands are not refused at the edge.
	if err := ValidateWorstCase(tpl, testBrand, DefaultRejectRoute(testBrand+"X", "3338")); err != nil {
		t.Errorf("12-character keyword: %v", err)
	}
}

func TestRedactCode(t *testing.T) {
	tests := []struct {
		body, code, want string
	}{
		{"123456 kodunu ileterek", "123456", "****** kodunu ileterek"},
		{"Kod 123456. MERSIS:0123456789012345", "123456", "Kod ******. MERSIS:0123456789012345"},
		{"Kod 234567. MERSIS:0123456789012345", "234567", "Kod ******. MERSIS:0123456789012345"},
		{"MERSIS:0123456789012345", "234567", "MERSIS:0123456789012345"},
		{"123456 ve 123456", "123456", "****** ve ******"},
		{"1234567", "123456", "1234567"},
		{"kod:123456.", "123456", "kod:******."},
		{"no code here", "", "no code here"},
		{"şğı 123456 çö", "123456", "şğı ****** çö"},
	}
	for _, tt := range tests {
		if got := RedactCode(tt.body, tt.code); got != tt.want {
			t.Errorf("RedactCode(%q, %q) = %q, want %q", tt.body, tt.code, got, tt.want)
		}
	}
	// Round trip with the default template and a code that also occurs in the MERSIS number.
	body, err := DefaultTemplates().Activation(ActivationData{Brand: "ACME", Code: "234567", Types: []string{TypeSMS}, RejectRoute: "RET ACME yazıp 3338'e gönderin", Mersis: testMersis})
	if err != nil {
		t.Fatal(err)
	}
	red := RedactCode(body, "234567")
	if strings.Contains(red, "234567 ") || !strings.Contains(red, testMersis) || !strings.HasPrefix(red, "******") {
		t.Errorf("redacted = %q", red)
	}
}

func TestConfirmationTimeIsIstanbul(t *testing.T) {
	tpl := DefaultTemplates()
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, time.November, 27, 11, 5, 0, 0, time.UTC), "27.11.2026 14:05"},
		{time.Date(2026, time.July, 1, 21, 30, 0, 0, time.UTC), "02.07.2026 00:30"},
		{time.Date(2026, time.July, 1, 21, 30, 0, 0, time.FixedZone("x", -5*3600)), "02.07.2026 05:30"},
	} {
		body, err := tpl.Confirmation(ConfirmationData{Brand: "ACME", Types: []string{TypeSMS}, Time: tt.at, RejectRoute: "RET ACME yazıp 3338'e gönderin", Mersis: testMersis})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, tt.want) {
			t.Errorf("time %v: body %q lacks %q", tt.at, body, tt.want)
		}
	}
}

func TestLandingLink(t *testing.T) {
	tm := DefaultTemplates()
	body, err := tm.LandingLink(LandingData{Brand: "ACME", Types: []string{TypeSMS, TypeCall},
		Link: "http://localhost:8080/l/0123456789abcdef", Mersis: "0123456789012345"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ACME", "SMS ve arama", "http://localhost:8080/l/0123456789abcdef ", "MERSIS:0123456789012345"} {
		if !strings.Contains(body, want) {
			t.Errorf("landing SMS %q lacks %q", body, want)
		}
	}
	for _, bad := range []LandingData{
		{Types: []string{TypeSMS}, Link: "x", Mersis: "0123456789012345"},
		{Brand: "ACME", Types: []string{TypeSMS}, Mersis: "0123456789012345"},
		{Brand: "ACME", Link: "x", Mersis: "0123456789012345"},
		{Brand: "ACME", Types: []string{TypeSMS}, Link: "x", Mersis: "12"},
	} {
		if _, err := tm.LandingLink(bad); err == nil {
			t.Errorf("LandingLink(%+v): no error", bad)
		}
	}
}

func TestValidateLinkBase(t *testing.T) {
	tm := DefaultTemplates()
	for _, tc := range []struct {
		base string
		ok   bool
	}{
		{"http://localhost:8080", true},
		{"https://izin.magazam.com.tr", true},
		{"https://" + strings.Repeat("x", MaxLinkBaseLen-8), true},
		{"https://" + strings.Repeat("x", MaxLinkBaseLen-7), false},
	} {
		err := ValidateLinkBase(tm, tc.base)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateLinkBase(%q) = %v, want ok=%v", tc.base, err, tc.ok)
		}
	}
	// The link survives as one word: nothing but a space follows it.
	body, err := tm.Confirmation(ConfirmationData{Brand: "ACME", Types: []string{TypeSMS}, Time: time.Now(),
		RejectRoute: LinkRoute("http://localhost:8080/", "0123456789abcdef"), Mersis: "0123456789012345"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Ret: http://localhost:8080/r/0123456789abcdef MERSIS:") {
		t.Errorf("confirmation %q does not carry the link as a word", body)
	}
}
