package iyssync

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/iys"
	"github.com/izinhq/izin/server/internal/paging"
	"github.com/izinhq/izin/server/internal/store"
)

// ServiceStore is what the admin service reads and writes.
type ServiceStore interface {
	PutIYSConfig(ctx context.Context, c *store.IYSConfig) error
	GetIYSConfig(ctx context.Context, tenantID, brandID string) (*store.IYSConfig, error)
	ListIYSConfigs(ctx context.Context, tenantID string) ([]store.IYSConfig, error)
	ListIYSCursors(ctx context.Context, tenantID string) ([]store.IYSCursor, error)
	ListIYSUploads(ctx context.Context, f store.IYSUploadFilter) ([]store.IYSUpload, error)
	IYSUploadSummary(ctx context.Context, q store.IYSSummaryQuery) ([]store.IYSBrandSummary, error)
}

// Brands resolves a tenant's brands.
type Brands interface {
	Brand(ctx context.Context, tenantID, code string) (*store.Brand, error)
	ListBrands(ctx context.Context, tenantID string) ([]store.Brand, error)
}

// Service is the administration of the İYS link: configuration, status and
// the list of uploads.
type Service struct {
	store     ServiceStore
	brands    Brands
	sealer    *Sealer
	cal       *iys.Calendar
	baseURL   string
	newClient ClientFactory
	now       func() time.Time
}

// NewService returns the İYS administration service. opts supplies the
// calendar, the default base URL, the client factory and the clock.
func NewService(s ServiceStore, b Brands, sealer *Sealer, opts Options) *Service {
	opts = opts.withDefaults()
	return &Service{store: s, brands: b, sealer: sealer, cal: opts.Calendar, baseURL: opts.BaseURL,
		newClient: opts.NewClient, now: opts.Now}
}

// ConfigInput is a brand's İYS configuration as an administrator gives it.
type ConfigInput struct {
	Brand     string // izin brand code; "" is the default brand
	IYSCode   string
	BrandCode string
	Username  string
	// Password is write only; empty keeps the stored one.
	Password string
	BaseURL  string
	Enabled  bool
}

var digitsRE = regexp.MustCompile(`^[0-9]{1,12}$`)

// SetConfig validates and stores a brand's İYS configuration, encrypting
// the password.
func (s *Service) SetConfig(ctx context.Context, tenantID string, in ConfigInput) (*store.IYSConfig, error) {
	in.IYSCode, in.BrandCode = strings.TrimSpace(in.IYSCode), strings.TrimSpace(in.BrandCode)
	in.Username, in.BaseURL = strings.TrimSpace(in.Username), strings.TrimRight(strings.TrimSpace(in.BaseURL), "/")
	switch {
	case !digitsRE.MatchString(in.IYSCode):
		return nil, errs.Invalid("config.iys_code", "must be the İYS code: 1–12 digits, got %q", in.IYSCode)
	case !digitsRE.MatchString(in.BrandCode):
		return nil, errs.Invalid("config.brand_code", "must be the brand's İYS code: 1–12 digits, got %q", in.BrandCode)
	case in.Username == "" || len(in.Username) > 200:
		return nil, errs.Invalid("config.username", "must be 1–200 characters")
	case len(in.Password) > 200:
		return nil, errs.Invalid("config.password", "must be at most 200 characters")
	}
	if in.BaseURL != "" {
		u, err := url.Parse(in.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errs.Invalid("config.base_url", "must be http(s)://host, got %q", in.BaseURL)
		}
	}
	b, err := s.brands.Brand(ctx, tenantID, in.Brand)
	if err != nil {
		return nil, err
	}
	old, err := s.store.GetIYSConfig(ctx, tenantID, b.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, errs.Internal(err, "read İYS configuration")
	}
	now := s.now().UTC()
	c := &store.IYSConfig{BrandID: b.ID, TenantID: tenantID, IYSCode: in.IYSCode, BrandCode: in.BrandCode,
		Username: in.Username, BaseURL: in.BaseURL, Enabled: in.Enabled, CreatedAt: now, UpdatedAt: now}
	switch {
	case in.Password != "":
		if c.PasswordEnc, err = s.sealer.Seal(in.Password, b.ID); err != nil {
			return nil, errs.Internal(err, "encrypt İYS password")
		}
	case old != nil:
		c.PasswordEnc, c.CreatedAt = old.PasswordEnc, old.CreatedAt
	default:
		return nil, errs.Invalid("config.password", "is required when the brand has no İYS configuration yet")
	}
	if err := s.store.PutIYSConfig(ctx, c); err != nil {
		return nil, errs.Internal(err, "store İYS configuration")
	}
	return c, nil
}

// ConfigView is a configuration as the API shows it: without the password.
type ConfigView struct {
	Brand       string    `json:"brand"`
	IYSCode     string    `json:"iys_code"`
	BrandCode   string    `json:"brand_code"`
	Username    string    `json:"username"`
	BaseURL     string    `json:"base_url,omitempty"`
	Enabled     bool      `json:"enabled"`
	HasPassword bool      `json:"has_password"`
	UpdateTime  time.Time `json:"update_time"`
}

// View returns the shown form of a configuration of the brand code.
func View(c *store.IYSConfig, brandCode string) ConfigView {
	return ConfigView{Brand: brandCode, IYSCode: c.IYSCode, BrandCode: c.BrandCode, Username: c.Username,
		BaseURL: c.BaseURL, Enabled: c.Enabled, HasPassword: len(c.PasswordEnc) > 0, UpdateTime: c.UpdatedAt}
}

// BrandStatus is how far izin and İYS are in step for a brand.
type BrandStatus struct {
	Brand      string `json:"brand"`
	BrandID    string `json:"-"`
	Configured bool   `json:"configured"`
	Enabled    bool   `json:"enabled"`
	Pending    int64  `json:"pending"`
	Submitted  int64  `json:"submitted"`
	Accepted   int64  `json:"accepted"`
	Refused    int64  `json:"refused"`
	// Skipped counts changes never to be sent: İYS held them already, or its
	// upload window had closed when they were imported.
	Skipped int64 `json:"skipped"`
	// OldestOpen is the consent time of the oldest change on its way
	// (pending or submitted); NearestDeadline is its deadline.
	OldestOpen      *time.Time `json:"oldest_pending_consent_time,omitempty"`
	NearestDeadline *time.Time `json:"nearest_deadline,omitempty"`
	NearDeadline    int64      `json:"near_deadline"`
	Overdue         int64      `json:"overdue"`
	LastPull        *time.Time `json:"last_pull_time,omitempty"`
	LastError       string     `json:"last_error,omitempty"`
	// Connectivity is set by CheckConnectivity: "ok" or the error.
	Connectivity string `json:"connectivity,omitempty"`
}

// Status tells, per brand of the tenant that has a configuration or
// uploads, the backlog, refusals, deadlines and the state of the pull.
func (s *Service) Status(ctx context.Context, tenantID string) ([]BrandStatus, error) {
	now := s.now()
	dl := DeadlinesAt(s.cal, now)
	sums, err := s.store.IYSUploadSummary(ctx, store.IYSSummaryQuery{TenantID: tenantID, NearBefore: dl.NearBefore, OverdueBefore: dl.OverdueBefore})
	if err != nil {
		return nil, errs.Internal(err, "count İYS uploads")
	}
	cfgs, err := s.store.ListIYSConfigs(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list İYS configurations")
	}
	curs, err := s.store.ListIYSCursors(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "read İYS cursors")
	}
	brands, err := s.brands.ListBrands(ctx, tenantID)
	if err != nil {
		return nil, errs.Internal(err, "list brands")
	}
	byID := map[string]*store.IYSBrandSummary{}
	for i := range sums {
		byID[sums[i].BrandID] = &sums[i]
	}
	cfgByID := map[string]*store.IYSConfig{}
	for i := range cfgs {
		cfgByID[cfgs[i].BrandID] = &cfgs[i]
	}
	curByID := map[string]*store.IYSCursor{}
	for i := range curs {
		curByID[curs[i].BrandID] = &curs[i]
	}
	out := []BrandStatus{}
	for _, b := range brands {
		sum, cfg := byID[b.ID], cfgByID[b.ID]
		if sum == nil && cfg == nil {
			continue
		}
		st := BrandStatus{Brand: b.Code, BrandID: b.ID, Configured: cfg != nil, Enabled: cfg != nil && cfg.Enabled}
		if sum != nil {
			st.Pending, st.Submitted, st.Accepted, st.Refused, st.Skipped = sum.Pending, sum.Submitted, sum.Accepted, sum.Refused, sum.Skipped
			st.NearDeadline, st.Overdue = sum.Near, sum.Overdue
			if sum.OldestOpen != nil {
				oldest := *sum.OldestOpen
				deadline := s.cal.Deadline(oldest)
				st.OldestOpen, st.NearestDeadline = &oldest, &deadline
			}
		}
		if c := curByID[b.ID]; c != nil {
			st.LastPull, st.LastError = c.LastPullAt, c.LastError
		}
		out = append(out, st)
	}
	return out, nil
}

// CheckConnectivity fetches a token for every enabled brand of the status
// and sets Connectivity. It uses fresh clients: İYS allows about 10 token
// requests an hour, so this is for operators, not for probes.
func (s *Service) CheckConnectivity(ctx context.Context, tenantID string, sts []BrandStatus) error {
	cfgs, err := s.store.ListIYSConfigs(ctx, tenantID)
	if err != nil {
		return errs.Internal(err, "list İYS configurations")
	}
	for i := range sts {
		for j := range cfgs {
			c := &cfgs[j]
			if c.BrandID != sts[i].BrandID || !c.Enabled {
				continue
			}
			sts[i].Connectivity = s.ping(ctx, c)
		}
	}
	return nil
}

func (s *Service) ping(ctx context.Context, c *store.IYSConfig) string {
	pw, err := s.sealer.Open(c.PasswordEnc, c.BrandID)
	if err != nil {
		return err.Error()
	}
	base := c.BaseURL
	if base == "" {
		base = s.baseURL
	}
	cl, err := s.newClient(base, iys.Credentials{Username: c.Username, Password: pw})
	if err != nil {
		return err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cl.Authenticate(ctx); err != nil {
		return err.Error()
	}
	return "ok"
}

// ListUploadsRequest selects uploads.
type ListUploadsRequest struct {
	State     store.IYSUploadState // 0: every state
	Brand     string               // izin brand code; "" every brand
	PageSize  int
	PageToken string
}

// Upload is an upload as the API shows it.
type Upload struct {
	store.IYSUpload
	BrandCode string
	Deadline  time.Time
}

// ListUploads lists a tenant's uploads, oldest consent (nearest deadline)
// first.
func (s *Service) ListUploads(ctx context.Context, tenantID string, req ListUploadsRequest) ([]Upload, string, error) {
	f := store.IYSUploadFilter{TenantID: tenantID, State: req.State, Limit: paging.Size(req.PageSize)}
	brands, err := s.brands.ListBrands(ctx, tenantID)
	if err != nil {
		return nil, "", errs.Internal(err, "list brands")
	}
	codes := map[string]string{}
	for _, b := range brands {
		codes[b.ID] = b.Code
	}
	if req.Brand != "" {
		b, err := s.brands.Brand(ctx, tenantID, req.Brand)
		if err != nil {
			return nil, "", err
		}
		f.BrandID = b.ID
	}
	if req.PageToken != "" {
		if f.AfterTime, f.AfterEventID, err = paging.ParseTimeIDToken(req.PageToken); err != nil {
			return nil, "", err
		}
	}
	ups, err := s.store.ListIYSUploads(ctx, f)
	if err != nil {
		return nil, "", errs.Internal(err, "list İYS uploads")
	}
	out := make([]Upload, len(ups))
	for i := range ups {
		out[i] = Upload{IYSUpload: ups[i], BrandCode: codes[ups[i].BrandID], Deadline: s.cal.Deadline(ups[i].ConsentTime)}
	}
	next := ""
	if len(ups) == f.Limit {
		last := ups[len(ups)-1]
		next = paging.TimeIDToken(last.ConsentTime, last.EventID)
	}
	return out, next, nil
}
