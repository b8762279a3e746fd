// Package tenancy manages tenants, brands, sources and API keys, and keeps
// a short-lived cache of tenants and brands for the request path.
package tenancy

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/texts"
)

// Store is what tenancy reads and writes.
type Store interface {
	CreateTenant(ctx context.Context, t *store.Tenant, b *store.Brand) error
	GetTenant(ctx context.Context, id string) (*store.Tenant, error)
	ListTenants(ctx context.Context) ([]store.Tenant, error)
	CreateBrand(ctx context.Context, b *store.Brand) error
	ListBrands(ctx context.Context, tenantID string) ([]store.Brand, error)
	UpdateBrand(ctx context.Context, b *store.Brand) error
	CreateSource(ctx context.Context, s *store.Source, k *store.APIKey) error
	GetSource(ctx context.Context, tenantID, id string) (*store.Source, error)
	ListSources(ctx context.Context, tenantID string) ([]store.Source, error)
	CreateAPIKey(ctx context.Context, k *store.APIKey) error
	ListAPIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, tenantID, id string, at time.Time) (*store.APIKey, error)
	// Publisher publishes a new brand's default consent texts.
	texts.Publisher
}

// Service manages tenancy records.
type Service struct {
	store Store
	keys  *auth.Authenticator // purged on revocation; may be nil in CLI use
	now   func() time.Time

	mu      sync.Mutex
	tenants map[string]cachedTenant
	ttl     time.Duration
}

type cachedTenant struct {
	tenant  *store.Tenant
	brands  map[string]*store.Brand // by code
	def     *store.Brand
	loaded  time.Time
	expires time.Time
}

// New returns a tenancy service. Tenants and brands are cached for ttl.
func New(s Store, keys *auth.Authenticator, ttl time.Duration) *Service {
	return &Service{store: s, keys: keys, now: time.Now, tenants: map[string]cachedTenant{}, ttl: ttl}
}

var (
	mersisRE = regexp.MustCompile(`^[0-9]{16}$`)
	iysRE    = regexp.MustCompile(`^[0-9]{0,12}$`)
	codeRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	senderRE = regexp.MustCompile(`^[A-Za-z0-9 .-]{2,11}$`)
)

// NewTenant is what creating a tenant needs.
type NewTenant struct {
	Name, Mersis, IYSCode string
	Brand                 store.Brand // Code, Name, Sender, RejectRoute
}

// Created is a new tenant with its default brand and first admin key.
type Created struct {
	Tenant   *store.Tenant
	Brand    *store.Brand
	AdminKey string
	KeyInfo  *store.APIKey
}

// CreateTenant creates a tenant, its default brand with version 1 of its
// consent texts (texts.Defaults) and an admin API key.
func (s *Service) CreateTenant(ctx context.Context, in NewTenant) (*Created, error) {
	switch {
	case strings.TrimSpace(in.Name) == "":
		return nil, errs.Invalid("name", "must not be empty")
	case !mersisRE.MatchString(in.Mersis):
		return nil, errs.Invalid("mersis", "must be the 16-digit MERSIS number, got %q", in.Mersis)
	case !iysRE.MatchString(in.IYSCode):
		return nil, errs.Invalid("iys_code", "must be digits, got %q", in.IYSCode)
	}
	now := s.now().UTC()
	t := &store.Tenant{ID: uuid.NewString(), Name: strings.TrimSpace(in.Name), Mersis: in.Mersis,
		IYSCode: in.IYSCode, CreatedAt: now, TenantSettings: store.DefaultTenantSettings()}
	b := in.Brand
	b.TenantID, b.IsDefault = t.ID, true
	if err := s.prepareBrand(&b, now); err != nil {
		return nil, err
	}
	if err := s.store.CreateTenant(ctx, t, &b); err != nil {
		return nil, errs.Internal(err, "create tenant")
	}
	if err := s.seedTexts(ctx, t, &b); err != nil {
		return nil, err
	}
	secret, info, err := s.createKey(ctx, t.ID, "admin", store.ScopeAdmin, nil)
	if err != nil {
		return nil, err
	}
	return &Created{Tenant: t, Brand: &b, AdminKey: secret, KeyInfo: info}, nil
}

// RejectRoute is the text telling a customer how to reject, for a brand.
func RejectRoute(b *store.Brand) string {
	if b.RejectRoute != "" {
		return b.RejectRoute
	}
	return sms.DefaultRejectRoute(strings.ToUpper(strings.ReplaceAll(b.Sender, " ", "")), "3338")
}

func (s *Service) prepareBrand(b *store.Brand, now time.Time) error {
	if err := validateBrand(b); err != nil {
		return err
	}
	b.ID = uuid.NewString()
	b.CreatedAt = now
	return nil
}

// validateBrand trims a brand's fields and checks them, for a new brand and
// for a changed one alike.
func validateBrand(b *store.Brand) error {
	b.Code, b.Name, b.Sender, b.RejectRoute = strings.TrimSpace(b.Code), strings.TrimSpace(b.Name),
		strings.TrimSpace(b.Sender), strings.TrimSpace(b.RejectRoute)
	switch {
	case !codeRE.MatchString(b.Code):
		return errs.Invalid("brand.code", "must be 1–64 letters, digits, _ or -, got %q", b.Code)
	case b.Name == "":
		return errs.Invalid("brand.name", "must not be empty")
	case !senderRE.MatchString(b.Sender):
		return errs.Invalid("brand.sender", "SMS sender title must be 2–11 letters, digits, spaces, dots or dashes, got %q", b.Sender)
	}
	// Refuse now a brand whose consent SMS could not fit one segment,
	// rather than fail later when a customer is waiting for a code.
	if err := sms.ValidateWorstCase(sms.DefaultTemplates(), b.Sender, RejectRoute(b)); err != nil {
		return errs.Invalid("brand.reject_route", "the consent SMS would not fit one message: %v", err)
	}
	return nil
}

// CreateBrand adds a brand to a tenant, with version 1 of its consent
// texts (texts.Defaults).
func (s *Service) CreateBrand(ctx context.Context, tenantID string, b store.Brand) (*store.Brand, error) {
	b.TenantID = tenantID
	if err := s.prepareBrand(&b, s.now().UTC()); err != nil {
		return nil, err
	}
	if err := s.store.CreateBrand(ctx, &b); err != nil {
		if errors.Is(err, store.ErrConflict) {
			if b.IsDefault {
				return nil, errs.AlreadyExists("the tenant already has a default brand, or brand %q exists", b.Code)
			}
			return nil, errs.AlreadyExists("brand %q already exists", b.Code)
		}
		return nil, errs.Internal(err, "create brand")
	}
	s.forget(tenantID)
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if err := s.seedTexts(ctx, t, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// seedTexts publishes a new brand's default consent texts, so that the
// consent page works for it at once. The brand is already written: a
// failure here is reported, and texts.Seed, which publishes only what is
// missing, can be run again (izin text seed).
func (s *Service) seedTexts(ctx context.Context, t *store.Tenant, b *store.Brand) error {
	if _, err := texts.Seed(ctx, s.store, t, b, s.now()); err != nil {
		return errs.Wrap(err, "publish the default consent texts of brand "+b.Code)
	}
	return nil
}

// ListBrands lists a tenant's brands.
func (s *Service) ListBrands(ctx context.Context, tenantID string) ([]store.Brand, error) {
	out, err := s.store.ListBrands(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list brands")
	}
	return out, nil
}

// CreateSource adds a source and a CHECK+WRITE key bound to it.
func (s *Service) CreateSource(ctx context.Context, tenantID, name string, typ store.SourceType) (*store.Source, string, *store.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", nil, errs.Invalid("name", "must not be empty")
	}
	if typ < store.SourceEcommerce || typ > store.SourceOther {
		return nil, "", nil, errs.Invalid("type", "unknown source type %d", typ)
	}
	now := s.now().UTC()
	src := &store.Source{ID: uuid.NewString(), TenantID: tenantID, Name: name, Type: typ, CreatedAt: now}
	secret, prefix, hash := auth.NewKey()
	k := &store.APIKey{ID: uuid.NewString(), TenantID: tenantID, SourceID: &src.ID, Name: name,
		Prefix: prefix, Hash: hash, Scope: store.ScopeWrite, CreatedAt: now}
	if err := s.store.CreateSource(ctx, src, k); err != nil {
		return nil, "", nil, errs.Internal(err, "create source")
	}
	return src, secret, k, nil
}

// ListSources lists a tenant's sources.
func (s *Service) ListSources(ctx context.Context, tenantID string) ([]store.Source, error) {
	out, err := s.store.ListSources(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list sources")
	}
	return out, nil
}

// CreateAPIKey creates a key; the secret is returned once.
func (s *Service) CreateAPIKey(ctx context.Context, tenantID, name string, scope store.Scope, sourceID string) (string, *store.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, errs.Invalid("name", "must not be empty")
	}
	if scope < store.ScopeCheck || scope > store.ScopeAdmin {
		return "", nil, errs.Invalid("scopes", "unknown scope %d", scope)
	}
	var src *string
	if sourceID != "" {
		if _, err := s.store.GetSource(ctx, tenantID, sourceID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return "", nil, errs.Invalid("source_id", "no source %s in this tenant", sourceID)
			}
			return "", nil, errs.Internal(err, "look up source")
		}
		src = &sourceID
	}
	return s.createKey(ctx, tenantID, name, scope, src)
}

func (s *Service) createKey(ctx context.Context, tenantID, name string, scope store.Scope, sourceID *string) (string, *store.APIKey, error) {
	secret, prefix, hash := auth.NewKey()
	k := &store.APIKey{ID: uuid.NewString(), TenantID: tenantID, SourceID: sourceID, Name: name,
		Prefix: prefix, Hash: hash, Scope: scope, CreatedAt: s.now().UTC()}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, errs.Internal(err, "create API key")
	}
	return secret, k, nil
}

// ListAPIKeys lists a tenant's keys (never their secrets).
func (s *Service) ListAPIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error) {
	out, err := s.store.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list API keys")
	}
	return out, nil
}

// RevokeAPIKey revokes a key of the tenant; it stops working at once on
// this replica.
func (s *Service) RevokeAPIKey(ctx context.Context, tenantID, id string) (*store.APIKey, error) {
	k, err := s.store.RevokeAPIKey(ctx, tenantID, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errs.NotFound("API key %s not found", id)
	}
	if errors.Is(err, store.ErrLastAdminKey) {
		return nil, errs.FailedPrecondition("", "key %s is the tenant's last admin key: create another admin key before revoking it", id)
	}
	if err != nil {
		return nil, errs.Internal(err, "revoke API key")
	}
	if s.keys != nil {
		s.keys.Purge()
	}
	return k, nil
}

// ListTenants lists every tenant (operators only: the CLI).
func (s *Service) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	return s.store.ListTenants(ctx)
}

// Tenant returns a tenant, from the cache when fresh.
func (s *Service) Tenant(ctx context.Context, tenantID string) (*store.Tenant, error) {
	c, err := s.load(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return c.tenant, nil
}

// Brand resolves a brand code of a tenant; "" is the default brand.
func (s *Service) Brand(ctx context.Context, tenantID, code string) (*store.Brand, error) {
	c, err := s.load(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if code == "" {
		if c.def == nil {
			return nil, errs.FailedPrecondition("", "the tenant has no default brand; pass brand")
		}
		return c.def, nil
	}
	if b, ok := c.brands[code]; ok {
		return b, nil
	}
	// A brand made on another replica shows up without waiting for the
	// TTL; the reload happens at most once a second per tenant, so a stream
	// of unknown codes cannot turn every check into a database read.
	if s.now().Sub(c.loaded) >= time.Second {
		s.forget(tenantID)
		if c, err = s.load(ctx, tenantID); err != nil {
			return nil, err
		}
		if b, ok := c.brands[code]; ok {
			return b, nil
		}
	}
	return nil, errs.Invalid("brand", "no brand with code %q", code)
}

// BrandByID returns a brand of a tenant by its id.
func (s *Service) BrandByID(ctx context.Context, tenantID, id string) (*store.Brand, error) {
	for attempt := 0; attempt < 2; attempt++ {
		c, err := s.load(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		for _, b := range c.brands {
			if b.ID == id {
				return b, nil
			}
		}
		s.forget(tenantID)
	}
	return nil, errs.NotFound("brand %s not found", id)
}

func (s *Service) load(ctx context.Context, tenantID string) (cachedTenant, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.tenants[tenantID]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c, nil
	}
	t, err := s.store.GetTenant(ctx, tenantID)
	if err != nil {
		return cachedTenant{}, errs.Internal(err, "load tenant")
	}
	brands, err := s.store.ListBrands(ctx, tenantID)
	if err != nil {
		return cachedTenant{}, errs.Internal(err, "load brands")
	}
	c = cachedTenant{tenant: t, brands: map[string]*store.Brand{}, loaded: now, expires: now.Add(s.ttl)}
	for i := range brands {
		b := &brands[i]
		c.brands[b.Code] = b
		if b.IsDefault {
			c.def = b
		}
	}
	s.mu.Lock()
	s.tenants[tenantID] = c
	s.mu.Unlock()
	return c, nil
}

func (s *Service) forget(tenantID string) {
	s.mu.Lock()
	delete(s.tenants, tenantID)
	s.mu.Unlock()
}
