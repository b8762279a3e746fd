package smsconfig_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/seal"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/store/sqlstore/sqlitetest"
	"github.com/izinhq/izin/server/internal/tenancy"
)

type fixture struct {
	st      *sqlstore.Store
	svc     *smsconfig.Service
	router  *smsconfig.Router
	tenants [2]string
	built   []sms.Config
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	ten := tenancy.New(st, nil, time.Minute)
	f := &fixture{st: st}
	for i, mersis := range []string{"0123456789012345", "0123456789012346"} {
		c, err := ten.CreateTenant(ctx, tenancy.NewTenant{Name: "Acme", Mersis: mersis,
			Brand: store.Brand{Code: "ACME", Name: "Acme", Sender: "ACME"}})
		if err != nil {
			t.Fatal(err)
		}
		f.tenants[i] = c.Tenant.ID
	}
	sealer, err := seal.New([]byte(strings.Repeat("k", 32)), "izin sms-credentials v1")
	if err != nil {
		t.Fatal(err)
	}
	public := func() string { return "https://izin.example.com.tr" }
	f.svc = smsconfig.New(st, ten, sealer, public, time.Now)
	f.router = smsconfig.NewRouter(st, sealer, func(name string, cfg sms.Config) (sms.Provider, error) {
		f.built = append(f.built, cfg)
		return sms.NewSandbox(0), nil
	}, sms.NewSandbox(0), public, time.Hour)
	f.svc.OnChange(f.router.Forget)
	return f
}

func TestConfigureRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ok := smsconfig.Input{Provider: "netgsm", Username: "8503330000", Password: "p", Enabled: true}
	tests := []struct {
		name  string
		edit  func(in *smsconfig.Input)
		field string
	}{
		{"unknown provider", func(in *smsconfig.Input) { in.Provider = "kuş" }, "config.provider"},
		{"no user", func(in *smsconfig.Input) { in.Username = "" }, "config.username"},
		{"no password", func(in *smsconfig.Input) { in.Password = "" }, "config.password"},
		{"bad address", func(in *smsconfig.Input) { in.BaseURL = "ftp://x" }, "config.base_url"},
		{"credentials in the address", func(in *smsconfig.Input) { in.BaseURL = "https://u:p@x" }, "config.base_url"},
		{"two words", func(in *smsconfig.Input) { in.OptinKeyword = "EVET LÜTFEN" }, "config.optin_keyword"},
		{"a country that is no code", func(in *smsconfig.Input) { in.AllowedCountries = []string{"+90"} }, "config.allowed_countries"},
		{"a reject type that is none", func(in *smsconfig.Input) { in.RejectTypes = []store.ConsentType{9} }, "config.reject_types"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := f.svc.Configure(ctx, f.tenants[0], in)
			if e, isDomain := errs.As(err); !isDomain || e.Field != tc.field {
				t.Fatalf("err = %v, want a refusal of %s", err, tc.field)
			}
		})
	}
}

func TestConfigureKeepsHookAndGuardsThePassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := smsconfig.Input{Provider: "verimor", Username: "908501234567", Password: "secret-1", Enabled: true,
		OptinKeyword: "katıl"}
	first, err := f.svc.Configure(ctx, f.tenants[0], in)
	if err != nil {
		t.Fatal(err)
	}
	if string(first.PasswordEnc) == "secret-1" || first.OptinKeyword != "KATIL" {
		t.Fatalf("stored %+v", first)
	}
	route, err := f.router.Route(ctx, f.tenants[0], first.BrandID)
	if err != nil || route.Name != "verimor" || f.built[0].Password != "secret-1" ||
		!strings.HasPrefix(f.built[0].ReportURL, "https://izin.example.com.tr/v1/sms/verimor/"+first.HookID+"/reports?secret=") {
		t.Fatalf("route %+v, built %+v, %v", route, f.built, err)
	}
	// The same destination keeps the password when none is given, and
	// the hook stays.
	in.Password, in.Sender = "", "ACMEOUTLET"
	second, err := f.svc.Configure(ctx, f.tenants[0], in)
	if err != nil {
		t.Fatal(err)
	}
	if second.HookID != first.HookID || string(second.PasswordEnc) != string(first.PasswordEnc) {
		t.Error("an update without a password changed the hook or the password")
	}
	// The router forgot the old route at once.
	if route, _ := f.router.Route(ctx, f.tenants[0], first.BrandID); route.Sender != "ACMEOUTLET" {
		t.Errorf("the route still has sender %q", route.Sender)
	}
	// A new address (or user, or provider) needs the password again:
	// stored credentials never follow a configuration elsewhere.
	for _, edit := range []func(*smsconfig.Input){
		func(in *smsconfig.Input) { in.BaseURL = "https://listener.example" },
		func(in *smsconfig.Input) { in.Username = "908509999999" },
		func(in *smsconfig.Input) { in.Provider = "netgsm" },
	} {
		moved := in
		edit(&moved)
		if _, err := f.svc.Configure(ctx, f.tenants[0], moved); err == nil {
			t.Errorf("%+v kept the stored password", moved)
		}
	}
	// Another tenant's brand of the same code is its own.
	if _, err := f.svc.Configure(ctx, f.tenants[1], smsconfig.Input{Provider: "sandbox"}); err != nil {
		t.Fatal(err)
	}
	sts, err := f.svc.Status(ctx, f.tenants[1])
	if err != nil || len(sts) != 1 || sts[0].Provider != "sandbox" {
		t.Fatalf("other tenant's status %+v, %v", sts, err)
	}
	sts, _ = f.svc.Status(ctx, f.tenants[0])
	if len(sts) != 1 || sts[0].Provider != "verimor" || sts[0].Callbacks == nil ||
		!strings.Contains(sts[0].Callbacks.InboundURL, "/v1/inbound/verimor/"+first.HookID+"?secret=") {
		t.Fatalf("status %+v", sts)
	}
}
