package cli_test

import (
	"strings"
	"testing"
)

type sourceRow struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	CreateTime string `json:"create_time"`
}

type keyRow struct {
	ID         string `json:"id"`
	Prefix     string `json:"prefix"`
	Name       string `json:"name"`
	Scope      string `json:"scope"`
	SourceID   string `json:"source_id"`
	CreateTime string `json:"create_time"`
	Revoked    bool   `json:"revoked"`
	RevokeTime string `json:"revoke_time"`
}

func TestSourceAndKeyList(t *testing.T) {
	db, tenant, source := setup(t)

	var sources struct{ Sources []sourceRow }
	decode(t, must(t, "--database-url", db, "source", "list", "--tenant", tenant, "--json"), &sources)
	if len(sources.Sources) != 1 {
		t.Fatalf("source list: %+v, want the one source", sources)
	}
	if s := sources.Sources[0]; s.ID != source || s.Name != "Kadıköy mağazası" || s.Type != "STORE" || s.CreateTime == "" {
		t.Errorf("source list: %+v", s)
	}
	if out := must(t, "--database-url", db, "source", "list", "--tenant", tenant); !strings.Contains(out, source) ||
		!strings.Contains(out, "STORE") {
		t.Errorf("source list (text): %q", out)
	}

	var created struct {
		KeyID  string `json:"key_id"`
		APIKey string `json:"api_key"`
	}
	decode(t, must(t, "--database-url", db, "--json", "key", "create", "--tenant", tenant, "--name", "reports", "--scope", "check"), &created)
	must(t, "--database-url", db, "key", "revoke", "--tenant", tenant, created.KeyID)

	out := must(t, "--database-url", db, "key", "list", "--tenant", tenant, "--json")
	if strings.Contains(out, created.APIKey) || strings.Contains(strings.ToLower(out), "hash") {
		t.Errorf("key list shows a secret or a hash:\n%s", out)
	}
	var keys struct {
		Keys []keyRow `json:"api_keys"`
	}
	decode(t, out, &keys)
	byName := map[string]keyRow{}
	for _, k := range keys.Keys {
		if k.ID == "" || k.Prefix == "" || k.CreateTime == "" || (k.ID == created.KeyID && !strings.HasPrefix(created.APIKey, k.Prefix)) {
			t.Errorf("key list row %+v", k)
		}
		byName[k.Name] = k
	}
	for name, want := range map[string]keyRow{
		"admin":            {Scope: "admin"},
		"Kadıköy mağazası": {Scope: "write", SourceID: source},
		"reports":          {Scope: "check", Revoked: true},
	} {
		got, ok := byName[name]
		if !ok || got.Scope != want.Scope || got.SourceID != want.SourceID || got.Revoked != want.Revoked ||
			(got.RevokeTime != "") != want.Revoked {
			t.Errorf("key %q: %+v, want %+v", name, got, want)
		}
	}
	if len(keys.Keys) != 3 {
		t.Errorf("key list: %d keys, want 3", len(keys.Keys))
	}

	for _, cmd := range []string{"source", "key", "brand"} {
		if msg := refused(t, "--database-url", db, cmd, "list", "--tenant", "no-such-tenant"); !strings.Contains(msg, "--tenant") {
			t.Errorf("%s list of an unknown tenant: %q, want it to name --tenant", cmd, msg)
		}
	}
}

type brandRow struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Sender      string `json:"sender"`
	RejectRoute string `json:"reject_route"`
	RejectText  string `json:"reject_text"`
	IsDefault   bool   `json:"is_default"`
	CreateTime  string `json:"create_time"`
}

func TestBrandCommands(t *testing.T) {
	db, tenant, _ := setup(t)
	cli := func(args ...string) []string { return append([]string{"--database-url", db, "brand"}, args...) }

	var b brandRow
	decode(t, must(t, cli("create", "--tenant", tenant, "--code", "OUTLET", "--name", "Acme Outlet",
		"--sender", "ACMEOUTLET", "--json")...), &b)
	if b.Code != "OUTLET" || b.Name != "Acme Outlet" || b.Sender != "ACMEOUTLET" || b.IsDefault || b.RejectRoute != "" ||
		!strings.Contains(b.RejectText, "ACMEOUTLET") || b.CreateTime == "" {
		t.Errorf("brand create: %+v", b)
	}
	// The new brand's consent page works at once: its texts are published.
	var texts struct {
		Texts []struct {
			BrandCode string `json:"brand_code"`
		}
	}
	decode(t, must(t, "--database-url", db, "text", "list", "--tenant", tenant, "--brand", "OUTLET", "--json"), &texts)
	if len(texts.Texts) == 0 || texts.Texts[0].BrandCode != "OUTLET" {
		t.Errorf("texts of the new brand: %+v", texts)
	}

	for _, tc := range []struct {
		name string
		args []string
		flag string // the flag the refusal names
	}{
		{"duplicate code", []string{"--code", "OUTLET", "--name", "x", "--sender", "XX"}, "--code: brand \"OUTLET\" already exists"},
		{"sender too long", []string{"--code", "B2", "--name", "x", "--sender", "ACMEMARKET12"}, "--sender"},
		{"sender with Turkish letters", []string{"--code", "B2", "--name", "x", "--sender", "ŞEKER"}, "--sender"},
		{"code with spaces", []string{"--code", "B 2", "--name", "x", "--sender", "XX"}, "--code"},
		{"no sender", []string{"--code", "B2", "--name", "x"}, "sender"},
	} {
		if msg := refused(t, cli(append([]string{"create", "--tenant", tenant}, tc.args...)...)...); !strings.Contains(msg, tc.flag) {
			t.Errorf("brand create, %s: %q, want it to name %s", tc.name, msg, tc.flag)
		}
	}

	list := func() map[string]brandRow {
		t.Helper()
		var l struct{ Brands []brandRow }
		decode(t, must(t, cli("list", "--tenant", tenant, "--json")...), &l)
		out := map[string]brandRow{}
		for _, b := range l.Brands {
			out[b.Code] = b
		}
		return out
	}
	before := list()
	if len(before) != 2 || !before["ACME"].IsDefault || before["OUTLET"] != b {
		t.Fatalf("brand list: %+v", before)
	}
	if out := must(t, cli("list", "--tenant", tenant)...); !strings.Contains(out, "OUTLET") || !strings.Contains(out, "ACMEOUTLET") {
		t.Errorf("brand list (text): %q", out)
	}

	// Each update changes only the flags given, and leaves the other brand be.
	want := b
	defaultText := strings.ReplaceAll(b.RejectText, "ACMEOUTLET", "OUTLET") // once the sender is OUTLET
	for _, tc := range []struct {
		name string
		args []string
		edit func(*brandRow)
	}{
		{"name", []string{"--name", "Acme Outlet Mağaza"}, func(b *brandRow) { b.Name = "Acme Outlet Mağaza" }},
		{"sender", []string{"--sender", "OUTLET"}, func(b *brandRow) { b.Sender, b.RejectText = "OUTLET", defaultText }},
		{"reject route", []string{"--reject-route", "RET OUTLET 4455"}, func(b *brandRow) {
			b.RejectRoute, b.RejectText = "RET OUTLET 4455", "RET OUTLET 4455"
		}},
		{"reject route back to the default", []string{"--reject-route", ""}, func(b *brandRow) {
			b.RejectRoute, b.RejectText = "", defaultText
		}},
	} {
		var got brandRow
		decode(t, must(t, cli(append([]string{"update", "--tenant", tenant, "--code", "OUTLET", "--json"}, tc.args...)...)...), &got)
		tc.edit(&want)
		if got != want {
			t.Errorf("brand update %s printed %+v, want %+v", tc.name, got, want)
		}
		if l := list(); l["OUTLET"] != want || l["ACME"] != before["ACME"] {
			t.Errorf("brand list after update %s: %+v, want OUTLET %+v and ACME unchanged", tc.name, l, want)
		}
	}

	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"bad sender", []string{"--code", "OUTLET", "--sender", "ŞEKER"}, "--sender"},
		{"empty name", []string{"--code", "OUTLET", "--name", " "}, "--name"},
		{"too long for one SMS", []string{"--code", "OUTLET", "--reject-route", strings.Repeat("çok uzun bir açıklama ", 5)}, "--reject-route"},
		{"nothing to change", []string{"--code", "OUTLET"}, "--name"},
		{"unknown brand", []string{"--code", "NOPE", "--name", "x"}, "--code"},
	} {
		if msg := refused(t, cli(append([]string{"update", "--tenant", tenant}, tc.args...)...)...); !strings.Contains(msg, tc.flag) {
			t.Errorf("brand update, %s: %q, want it to name %s", tc.name, msg, tc.flag)
		}
		if l := list(); l["OUTLET"] != want {
			t.Errorf("brand update, %s, changed the brand: %+v", tc.name, l["OUTLET"])
		}
	}
}
