// Package smsconfig connects brands to SMS providers: the administration
// of a brand's provider (credentials sealed at rest, callback hooks), its
// status, and the Router the outbox worker asks which provider sends a
// brand's messages.
package smsconfig

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/paging"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
)

// Provider names, as stored and as the CLI takes them.
const (
	Sandbox = "sandbox"
	Netgsm  = "netgsm"
	Verimor = "verimor"
	Twilio  = "twilio"
)

// Names are the providers a brand can use.
var Names = []string{Sandbox, Netgsm, Verimor, Twilio}

// Sealer encrypts credentials at rest, bound to a brand.
type Sealer interface {
	Seal(secret, brandID string) ([]byte, error)
	Open(sealed []byte, brandID string) (string, error)
}

// Store is what the service reads and writes.
type Store interface {
	PutSMSConfig(ctx context.Context, c *store.SMSConfig) error
	GetSMSConfig(ctx context.Context, tenantID, brandID string) (*store.SMSConfig, error)
	ListSMSConfigs(ctx context.Context, tenantID string) ([]store.SMSConfig, error)
	SMSQueueDepth(ctx context.Context, tenantID string) ([]store.QueueDepth, error)
	ListInboundMessages(ctx context.Context, f store.InboundFilter) ([]store.InboundMessage, error)
}

// Brands resolves a tenant's brands.
type Brands interface {
	Tenant(ctx context.Context, tenantID string) (*store.Tenant, error)
	Brand(ctx context.Context, tenantID, code string) (*store.Brand, error)
	ListBrands(ctx context.Context, tenantID string) ([]store.Brand, error)
}

// Service administers brands' SMS providers.
type Service struct {
	store     Store
	brands    Brands
	sealer    Sealer
	publicURL func() string
	now       func() time.Time
	changed   func(brandID string)
	tx        store.Transactor
	tester    Tester
}

// New returns the service. publicURL gives where providers reach izin's
// callbacks (the server's public URL).
func New(s Store, b Brands, sealer Sealer, publicURL func() string, now func() time.Time) *Service {
	return &Service{store: s, brands: b, sealer: sealer, publicURL: publicURL, now: now,
		changed: func(string) {}}
}

// OnChange sets what to call after a brand's configuration changed (the
// router's cache of this process forgets it).
func (s *Service) OnChange(f func(brandID string)) { s.changed = f }

// Input is a brand's provider as an administrator gives it.
type Input struct {
	Brand    string // izin brand code; "" is the default brand
	Provider string
	BaseURL  string
	Username string
	// Password is write only; empty keeps the stored one, unless the
	// provider or the address changes: credentials never follow a
	// configuration to a new destination.
	Password         string
	Sender           string
	Enabled          bool
	RejectTypes      []store.ConsentType
	OptinKeyword     string
	AllowedCountries []string
}

// Configure validates and stores a brand's provider.
func (s *Service) Configure(ctx context.Context, tenantID string, in Input) (*store.SMSConfig, error) {
	in.Provider = strings.ToLower(strings.TrimSpace(in.Provider))
	in.Username, in.Sender = strings.TrimSpace(in.Username), strings.TrimSpace(in.Sender)
	in.BaseURL = strings.TrimRight(strings.TrimSpace(in.BaseURL), "/")
	if err := validate(&in); err != nil {
		return nil, err
	}
	b, err := s.brands.Brand(ctx, tenantID, in.Brand)
	if err != nil {
		return nil, err
	}
	old, err := s.store.GetSMSConfig(ctx, tenantID, b.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, errs.Internal(err, "read SMS configuration")
	}
	now := s.now().UTC()
	c := &store.SMSConfig{BrandID: b.ID, TenantID: tenantID, Provider: in.Provider, BaseURL: in.BaseURL,
		Username: in.Username, Sender: in.Sender, Enabled: in.Enabled, RejectTypes: store.JoinTypes(in.RejectTypes),
		OptinKeyword:     sms.NormalizeKeyword(in.OptinKeyword),
		AllowedCountries: strings.Join(in.AllowedCountries, ","), CreatedAt: now, UpdatedAt: now}
	switch {
	case in.Password != "":
		if c.PasswordEnc, err = s.sealer.Seal(in.Password, sealContext(b.ID)); err != nil {
			return nil, errs.Internal(err, "encrypt SMS password")
		}
	case old != nil && old.Provider == c.Provider && old.BaseURL == c.BaseURL && old.Username == c.Username:
		c.PasswordEnc = old.PasswordEnc
	case in.Provider != Sandbox:
		return nil, errs.Invalid("config.password", "is required for a new provider, address or user")
	}
	if old != nil {
		c.HookID, c.HookSecretEnc, c.CreatedAt = old.HookID, old.HookSecretEnc, old.CreatedAt
	} else if c.HookID, c.HookSecretEnc, err = s.newHook(b.ID); err != nil {
		return nil, err
	}
	if err := s.store.PutSMSConfig(ctx, c); err != nil {
		return nil, errs.Internal(err, "store SMS configuration")
	}
	s.changed(b.ID)
	return c, nil
}

func validate(in *Input) error {
	switch {
	case !slices.Contains(Names, in.Provider):
		return errs.Invalid("config.provider", "must be one of %s, got %q", strings.Join(Names, ", "), in.Provider)
	case in.Provider != Sandbox && (in.Username == "" || len(in.Username) > 200):
		return errs.Invalid("config.username", "must be 1–200 characters for %s", in.Provider)
	case len(in.Password) > 500:
		return errs.Invalid("config.password", "must be at most 500 characters")
	case len(in.Sender) > 64:
		return errs.Invalid("config.sender", "must be at most 64 characters")
	case len([]rune(in.OptinKeyword)) > 32 || strings.ContainsAny(in.OptinKeyword, " \t\r\n"):
		return errs.Invalid("config.optin_keyword", "must be one word of at most 32 letters")
	}
	if in.BaseURL != "" {
		u, err := url.Parse(in.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return errs.Invalid("config.base_url", "must be http(s)://host[/path], got %q", in.BaseURL)
		}
	}
	for i, t := range in.RejectTypes {
		if t != store.ConsentSMS && t != store.ConsentCall && t != store.ConsentEmail {
			return errs.Invalid("config.reject_types", "item %d is not a consent type", i)
		}
	}
	for _, cc := range in.AllowedCountries {
		if cc == "" || len(cc) > 4 || strings.Trim(cc, "0123456789") != "" || cc[0] == '0' {
			return errs.Invalid("config.allowed_countries", "%q is not a calling code such as 90", cc)
		}
	}
	return nil
}

// sealContext binds a sealed SMS secret to its brand and to its purpose,
// so that a sealed İYS password of the brand does not open as one.
func sealContext(brandID string) string { return "sms:" + brandID }

func (s *Service) newHook(brandID string) (id string, secretEnc []byte, err error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", nil, errs.Internal(err, "callback hook")
	}
	id, secret := hex.EncodeToString(buf[:16]), hex.EncodeToString(buf[16:])
	if secretEnc, err = s.sealer.Seal(secret, sealContext(brandID)); err != nil {
		return "", nil, errs.Internal(err, "encrypt callback secret")
	}
	return id, secretEnc, nil
}

// Callbacks are the URLs a provider calls for a brand.
type Callbacks struct {
	ReportURL  string `json:"report_url"`
	InboundURL string `json:"inbound_url"`
}

// CallbacksOf gives a configuration's callback URLs. Providers without a
// signature (Netgsm, Verimor) carry the secret in the URL.
func (s *Service) CallbacksOf(c *store.SMSConfig) (Callbacks, error) {
	secret, err := s.sealer.Open(c.HookSecretEnc, sealContext(c.BrandID))
	if err != nil {
		return Callbacks{}, errs.Internal(err, "open callback secret")
	}
	return CallbackURLs(s.publicURL(), c.Provider, c.HookID, secret), nil
}

// CallbackURLs builds the callback URLs of a hook.
func CallbackURLs(publicURL, provider, hookID, secret string) Callbacks {
	publicURL = strings.TrimRight(publicURL, "/")
	q := "?secret=" + url.QueryEscape(secret)
	return Callbacks{
		ReportURL:  publicURL + "/v1/sms/" + provider + "/" + hookID + "/reports" + q,
		InboundURL: publicURL + "/v1/inbound/" + provider + "/" + hookID + q,
	}
}

// BrandStatus is how a brand's SMS fare.
type BrandStatus struct {
	Brand         string     `json:"brand"`
	Provider      string     `json:"provider"`
	Enabled       bool       `json:"enabled"`
	LastSuccessAt *time.Time `json:"last_success_time,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorAt   *time.Time `json:"last_error_time,omitempty"`
	Queued        int64      `json:"queued"`
	OldestQueued  *time.Time `json:"oldest_queued_time,omitempty"`
	Callbacks     *Callbacks `json:"callbacks,omitempty"`
}

// Status reports every brand of the tenant, configured or not.
func (s *Service) Status(ctx context.Context, tenantID string) ([]BrandStatus, error) {
	brands, err := s.brands.ListBrands(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	configs, err := s.store.ListSMSConfigs(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list SMS configurations")
	}
	depth, err := s.store.SMSQueueDepth(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "count queued SMS")
	}
	byBrand := map[string]*store.SMSConfig{}
	for i := range configs {
		byBrand[configs[i].BrandID] = &configs[i]
	}
	queued := map[string]store.QueueDepth{}
	for _, d := range depth {
		queued[d.BrandID] = d
	}
	out := make([]BrandStatus, 0, len(brands))
	for _, b := range brands {
		st := BrandStatus{Brand: b.Code, Provider: Sandbox, Queued: queued[b.ID].Queued, OldestQueued: queued[b.ID].Oldest}
		if c := byBrand[b.ID]; c != nil {
			st.Provider, st.Enabled, st.LastSuccessAt, st.LastError, st.LastErrorAt =
				c.Provider, c.Enabled, c.LastSuccessAt, c.LastError, c.LastErrorAt
			cb, err := s.CallbacksOf(c)
			if err != nil {
				return nil, err
			}
			st.Callbacks = &cb
		}
		out = append(out, st)
	}
	return out, nil
}

// ListInbound lists a tenant's inbound SMS, newest first; brand and action
// are optional filters.
func (s *Service) ListInbound(ctx context.Context, tenantID, brand string, action store.InboundAction, pageSize int,
	pageToken string) ([]store.InboundMessage, string, error) {
	f := store.InboundFilter{TenantID: tenantID, Action: action, Limit: paging.Size(pageSize)}
	if brand != "" {
		b, err := s.brands.Brand(ctx, tenantID, brand)
		if err != nil {
			return nil, "", err
		}
		f.BrandID = b.ID
	}
	if pageToken != "" {
		id, err := paging.ParseIDToken(pageToken)
		if err != nil {
			return nil, "", err
		}
		f.BeforeID = id
	}
	msgs, err := s.store.ListInboundMessages(ctx, f)
	if err != nil {
		return nil, "", errs.Internal(err, "list inbound SMS")
	}
	next := ""
	if len(msgs) == f.Limit {
		next = paging.IDToken(msgs[len(msgs)-1].ID)
	}
	return msgs, next, nil
}
