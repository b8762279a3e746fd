// Package providers builds an SMS provider from its configured name, the
// one place that knows every provider izin ships: "netgsm", "verimor",
// "twilio" and "sandbox" (the default, which delivers nothing).
package providers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/sms/netgsm"
	"github.com/izinhq/izin/server/internal/sms/twilio"
	"github.com/izinhq/izin/server/internal/sms/verimor"
)

// Sandbox is the name of the provider that delivers nothing.
const Sandbox = "sandbox"

// constructors maps each name to its client. It is built per call, so the
// package keeps no state.
func constructors() map[string]func(sms.Config) (sms.Provider, error) {
	return map[string]func(sms.Config) (sms.Provider, error){
		"netgsm":  func(c sms.Config) (sms.Provider, error) { return netgsm.New(c) },
		"verimor": func(c sms.Config) (sms.Provider, error) { return verimor.New(c) },
		"twilio":  func(c sms.Config) (sms.Provider, error) { return twilio.New(c) },
		Sandbox:   func(sms.Config) (sms.Provider, error) { return sms.NewSandbox(0), nil },
	}
}

// Names returns the provider names New accepts, sorted.
func Names() []string {
	var out []string
	for name := range constructors() {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// New returns the named provider configured with cfg. The sandbox ignores
// cfg. Each real provider validates cfg (credentials are required).
func New(name string, cfg sms.Config) (sms.Provider, error) {
	build, ok := constructors()[name]
	if !ok {
		return nil, fmt.Errorf("sms: unknown provider %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	p, err := build(cfg)
	if err != nil {
		// not p: a constructor's typed nil would be a non-nil interface
		return nil, err
	}
	return p, nil
}
