package smsconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

// Factory builds a provider client from a configuration.
type Factory func(name string, cfg sms.Config) (sms.Provider, error)

// Route is how a brand's messages leave: the provider and what it needs.
type Route struct {
	// Key names the configuration (brand and version): the circuit
	// breaker and the provider client are per key.
	Key      string
	Name     string
	Provider sms.Provider
	// Sender overrides the message's sender title when set.
	Sender string
	// Countries are the calling codes messages may go to.
	Countries []string
}

// Allows tells whether a route may send to an E.164 number.
func (r *Route) Allows(e164 string) bool {
	for _, cc := range r.Countries {
		if strings.HasPrefix(e164, "+"+cc) {
			return true
		}
	}
	return false
}

// RouterStore reads configurations.
type RouterStore interface {
	GetSMSConfig(ctx context.Context, tenantID, brandID string) (*store.SMSConfig, error)
}

// Router tells the outbox worker which provider sends a brand's messages.
// Routes are cached for a few seconds, so that a configuration changed on
// another replica is used soon without a read per message.
type Router struct {
	store     RouterStore
	sealer    Sealer
	factory   Factory
	sandbox   sms.Provider
	publicURL func() string
	ttl       time.Duration
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]cachedRoute
}

type cachedRoute struct {
	route  *Route
	loaded time.Time
}

// DefaultCountries is where SMS may go when a brand names no countries.
var DefaultCountries = []string{"90"}

// NewRouter returns a router; sandbox carries the messages of brands
// without an enabled provider.
func NewRouter(s RouterStore, sealer Sealer, factory Factory, sandbox sms.Provider, publicURL func() string, ttl time.Duration) *Router {
	return &Router{store: s, sealer: sealer, factory: factory, sandbox: sandbox, publicURL: publicURL,
		ttl: ttl, now: time.Now, cache: map[string]cachedRoute{}}
}

// Forget drops a brand's cached route.
func (r *Router) Forget(brandID string) {
	r.mu.Lock()
	delete(r.cache, brandID)
	r.mu.Unlock()
}

// Route returns the route of a brand's messages.
func (r *Router) Route(ctx context.Context, tenantID, brandID string) (*Route, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.cache[brandID]
	r.mu.Unlock()
	if ok && now.Sub(c.loaded) < r.ttl {
		return c.route, nil
	}
	route, err := r.load(ctx, tenantID, brandID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cache[brandID] = cachedRoute{route: route, loaded: now}
	r.mu.Unlock()
	return route, nil
}

func (r *Router) load(ctx context.Context, tenantID, brandID string) (*Route, error) {
	cfg, err := r.store.GetSMSConfig(ctx, tenantID, brandID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!cfg.Enabled || cfg.Provider == Sandbox)) {
		countries := DefaultCountries
		if cfg != nil && cfg.AllowedCountries != "" {
			countries = strings.Split(cfg.AllowedCountries, ",")
		}
		return &Route{Key: "sandbox", Name: Sandbox, Provider: r.sandbox, Countries: countries}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("smsconfig: read configuration of brand %s: %w", brandID, err)
	}
	password, err := r.sealer.Open(cfg.PasswordEnc, sealContext(brandID))
	if err != nil {
		return nil, fmt.Errorf("smsconfig: open password of brand %s: %w", brandID, err)
	}
	secret, err := r.sealer.Open(cfg.HookSecretEnc, sealContext(brandID))
	if err != nil {
		return nil, fmt.Errorf("smsconfig: open callback secret of brand %s: %w", brandID, err)
	}
	p, err := r.factory(cfg.Provider, sms.Config{BaseURL: cfg.BaseURL, Username: cfg.Username, Password: password,
		Sender: cfg.Sender, ReportURL: CallbackURLs(r.publicURL(), cfg.Provider, cfg.HookID, secret).ReportURL})
	if err != nil {
		return nil, fmt.Errorf("smsconfig: provider of brand %s: %w", brandID, err)
	}
	countries := DefaultCountries
	if cfg.AllowedCountries != "" {
		countries = strings.Split(cfg.AllowedCountries, ",")
	}
	return &Route{Key: brandID + "@" + cfg.UpdatedAt.UTC().Format(time.RFC3339Nano), Name: cfg.Provider, Provider: p,
		Sender: cfg.Sender, Countries: countries}, nil
}

// Hook is a brand's callback endpoint: its configuration and the secrets
// a callback is checked against.
type Hook struct {
	Config   *store.SMSConfig
	Provider sms.Provider
	Auth     sms.CallbackAuth
}

// HookStore finds a configuration by its hook id.
type HookStore interface {
	SMSConfigByHook(ctx context.Context, hookID string) (*store.SMSConfig, error)
}

// OpenHook finds the brand of a callback URL and its credentials. The
// provider in the URL must be the brand's; store.ErrNotFound otherwise.
func (r *Router) OpenHook(ctx context.Context, hs HookStore, provider, hookID string) (*Hook, error) {
	cfg, err := hs.SMSConfigByHook(ctx, hookID)
	if err != nil {
		return nil, err
	}
	if cfg.Provider != provider {
		return nil, store.ErrNotFound
	}
	password, err := r.sealer.Open(cfg.PasswordEnc, sealContext(cfg.BrandID))
	if err != nil && cfg.Provider != Sandbox {
		return nil, fmt.Errorf("smsconfig: open password: %w", err)
	}
	secret, err := r.sealer.Open(cfg.HookSecretEnc, sealContext(cfg.BrandID))
	if err != nil {
		return nil, fmt.Errorf("smsconfig: open callback secret: %w", err)
	}
	route, err := r.Route(ctx, cfg.TenantID, cfg.BrandID)
	if err != nil {
		return nil, err
	}
	p := route.Provider
	if route.Name != provider { // disabled: callbacks of messages sent before still count
		if p, err = r.factory(cfg.Provider, sms.Config{BaseURL: cfg.BaseURL, Username: cfg.Username, Password: password,
			Sender: cfg.Sender}); err != nil {
			return nil, fmt.Errorf("smsconfig: provider: %w", err)
		}
	}
	return &Hook{Config: cfg, Provider: p, Auth: sms.CallbackAuth{Username: cfg.Username, Password: password, Secret: secret}}, nil
}
