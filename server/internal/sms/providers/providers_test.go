package providers_test

import (
	"slices"
	"testing"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/providers"
)

func TestNames(t *testing.T) {
	want := []string{"netgsm", "sandbox", "twilio", "verimor"}
	if got := providers.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestNew(t *testing.T) {
	creds := sms.Config{Username: "u", Password: "p"}
	tests := []struct {
		name     string
		cfg      sms.Config
		ok       bool
		reporter bool
	}{
		{"netgsm", creds, true, true},
		{"verimor", creds, true, true},
		{"twilio", creds, true, true},
		{"sandbox", sms.Config{}, true, false},
		{"netgsm", sms.Config{}, false, false},
		{"twilio", sms.Config{Username: "AC1"}, false, false},
		{"NetGSM", creds, false, false},
		{"", creds, false, false},
	}
	for _, tt := range tests {
		p, err := providers.New(tt.name, tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("New(%q, %+v) err = %v, want ok=%v", tt.name, tt.cfg, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if p.Name() != tt.name {
			t.Errorf("New(%q).Name() = %q", tt.name, p.Name())
		}
		if _, ok := p.(sms.Reporter); ok != tt.reporter {
			t.Errorf("%s implements Reporter: %v, want %v", tt.name, ok, tt.reporter)
		}
		if _, ok := p.(sms.Callbacks); ok != tt.reporter {
			t.Errorf("%s implements Callbacks: %v, want %v", tt.name, ok, tt.reporter)
		}
	}
}
