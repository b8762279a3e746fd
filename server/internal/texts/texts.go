// Package texts publishes and reads the versioned legal texts of a brand:
// the ETK consent statement, the KVKK privacy notice (aydınlatma metni) and
// the KVKK explicit-consent text (açık rıza), each in Turkish and English.
//
// A published version is never changed: publishing again adds version n+1,
// and the newest version of each brand, kind and language is the current
// one, the one the consent page shows. Evidence refers to a version by its
// id and its SHA-256 (see Hash).
package texts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// Languages are the languages a text may be published in. Turkish is the
// one the consent page needs; English is shown when asked for and present.
var Languages = []string{"tr", "en"}

// Limits of a text, in characters (as the API counts them).
const (
	MaxTitle = 200
	MaxBody  = 50000
)

// Store is what the service reads and writes.
type Store interface {
	Publisher
	ConsentTexts(ctx context.Context, tenantID string, ids []string) ([]store.ConsentText, error)
}

// Publisher publishes texts and lists them; it is all Seed needs.
type Publisher interface {
	CreateConsentText(ctx context.Context, t *store.ConsentText) error
	Lister
}

// Directory resolves a tenant's brands (cached).
type Directory interface {
	// Brand resolves a brand code of the tenant; "" is the default brand.
	Brand(ctx context.Context, tenantID, code string) (*store.Brand, error)
	BrandByID(ctx context.Context, tenantID, id string) (*store.Brand, error)
}

// Service publishes and reads consent texts.
type Service struct {
	store Store
	dir   Directory
	now   func() time.Time
}

// New returns a texts service; now nil means time.Now.
func New(s Store, d Directory, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: s, dir: d, now: now}
}

// NewText is a text to publish.
type NewText struct {
	// Brand is the brand code; "" is the tenant's default brand.
	Brand    string
	Kind     store.TextKind
	Language string
	Title    string
	// Body is plain text; a blank line separates paragraphs.
	Body string
}

// Text is a published version with the code of its brand.
type Text struct {
	store.ConsentText
	BrandCode string
}

// Create publishes in as the next version of its brand, kind and language.
// The title and body are stored normalised (see Normalize), and the hash
// is computed over what is stored.
func (s *Service) Create(ctx context.Context, p auth.Principal, in NewText) (*Text, error) {
	n, err := Normalize(in)
	if err != nil {
		return nil, err
	}
	b, err := s.dir.Brand(ctx, p.TenantID, n.Brand)
	if err != nil {
		return nil, err
	}
	t, err := publish(ctx, s.store, p.TenantID, b.ID, n, s.now())
	if err != nil {
		return nil, err
	}
	return &Text{ConsentText: *t, BrandCode: b.Code}, nil
}

// publish writes n (already normalised) as the next version. Two
// publishers of the same brand, kind and language may race for a version
// number; the loser tries once more with the next one.
func publish(ctx context.Context, st Publisher, tenantID, brandID string, n NewText, now time.Time) (*store.ConsentText, error) {
	for attempt := 0; attempt < 2; attempt++ {
		t := &store.ConsentText{ID: uuid.NewString(), TenantID: tenantID, BrandID: brandID, Kind: n.Kind,
			Language: n.Language, Title: n.Title, Body: n.Body, SHA256: Hash(n.Title, n.Body),
			CreatedAt: now.UTC().Truncate(time.Microsecond)}
		err := st.CreateConsentText(ctx, t)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, errs.Internal(err, "publish consent text")
		}
	}
	// Not wrapped: the store's error names database constraints.
	return nil, &errs.Error{Kind: errs.KindUnavailable,
		Message: "another version of this text was being published at the same time; try again"}
}

// List lists the tenant's texts: of one brand (by code) or, with "", of
// every brand; only the current version of each kind and language, or with
// all every version. Texts come grouped by brand, kind and language, newest
// version first.
func (s *Service) List(ctx context.Context, p auth.Principal, brandCode string, all bool) ([]Text, error) {
	f := store.ConsentTextFilter{TenantID: p.TenantID, AllVersions: all}
	if brandCode != "" {
		b, err := s.dir.Brand(ctx, p.TenantID, brandCode)
		if err != nil {
			return nil, err
		}
		f.BrandID = b.ID
	}
	ts, err := s.store.ListConsentTexts(ctx, f)
	if err != nil {
		return nil, errs.Internal(err, "list consent texts")
	}
	return s.withCodes(ctx, p.TenantID, ts)
}

// Get returns one version of the tenant's texts by id. Another tenant's
// text is NotFound, exactly as an unknown id.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (*Text, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, errs.Invalid("id", "must be a UUID, got %q", id)
	}
	ts, err := s.store.ConsentTexts(ctx, p.TenantID, []string{id})
	if err != nil {
		return nil, errs.Internal(err, "read consent text")
	}
	if len(ts) == 0 {
		return nil, errs.NotFound("consent text %s not found", id)
	}
	out, err := s.withCodes(ctx, p.TenantID, ts[:1])
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

func (s *Service) withCodes(ctx context.Context, tenantID string, ts []store.ConsentText) ([]Text, error) {
	out := make([]Text, len(ts))
	codes := map[string]string{}
	for i := range ts {
		code, ok := codes[ts[i].BrandID]
		if !ok {
			b, err := s.dir.BrandByID(ctx, tenantID, ts[i].BrandID)
			if err != nil {
				return nil, errs.Wrap(err, "resolve brand of consent text")
			}
			code = b.Code
			codes[ts[i].BrandID] = code
		}
		out[i] = Text{ConsentText: ts[i], BrandCode: code}
	}
	return out, nil
}

// Current returns the current version of each of a brand's texts, by kind
// and then language. A kind or language without any version is absent;
// Require tells whether the page can be shown.
func (s *Service) Current(ctx context.Context, tenantID, brandID string) (map[store.TextKind]map[string]store.ConsentText, error) {
	return Current(ctx, s.store, tenantID, brandID)
}

// Lister lists texts; it is all Current needs.
type Lister interface {
	ListConsentTexts(ctx context.Context, f store.ConsentTextFilter) ([]store.ConsentText, error)
}

// Current is Service.Current for readers that hold only a Lister.
func Current(ctx context.Context, l Lister, tenantID, brandID string) (map[store.TextKind]map[string]store.ConsentText, error) {
	if tenantID == "" || brandID == "" {
		return nil, errs.Internal(errors.New("texts.Current: tenant and brand are required"), "read current consent texts")
	}
	ts, err := l.ListConsentTexts(ctx, store.ConsentTextFilter{TenantID: tenantID, BrandID: brandID})
	if err != nil {
		return nil, errs.Internal(err, "read current consent texts")
	}
	out := map[store.TextKind]map[string]store.ConsentText{}
	for _, t := range ts {
		byLang := out[t.Kind]
		if byLang == nil {
			byLang = map[string]store.ConsentText{}
			out[t.Kind] = byLang
		}
		// The store lists only the newest of each; keep the highest version
		// should it ever list more.
		if cur, ok := byLang[t.Language]; !ok || t.Version > cur.Version {
			byLang[t.Language] = t
		}
	}
	return out, nil
}

// Require checks that current (from Current) holds every kind the consent
// page shows in language. Otherwise it is FailedPrecondition with reason
// CONSENT_TEXT_MISSING and metadata "kind" (see RefName) and "language" of
// the first missing one.
func Require(current map[store.TextKind]map[string]store.ConsentText, language string) error {
	for _, k := range store.TextKinds {
		if _, ok := current[k][language]; !ok {
			return errs.FailedPrecondition(errs.ReasonConsentTextMissing,
				"the brand has no %s text in language %q; publish one with CreateConsentText", KindName(k), language).
				With("kind", RefName(k)).With("language", language)
		}
	}
	return nil
}

// Hash is the hex SHA-256 of title, a newline and body: what evidence
// refers to, and what a customer's copy of a text can be checked against.
func Hash(title, body string) string {
	sum := sha256.Sum256([]byte(title + "\n" + body))
	return hex.EncodeToString(sum[:])
}

var kindNames = map[store.TextKind]string{
	store.TextETK:      "etk",
	store.TextPrivacy:  "privacy",
	store.TextExplicit: "explicit",
}

// refNames name the kinds in evidence references ("kind/<id>:sha256:…")
// and in error metadata, as the verification flow writes them.
var refNames = map[store.TextKind]string{
	store.TextETK:      "etk",
	store.TextPrivacy:  "privacy_notice",
	store.TextExplicit: "explicit_consent",
}

// RefName is the name of a kind in evidence references and error metadata:
// "etk", "privacy_notice" or "explicit_consent".
func RefName(k store.TextKind) string {
	if n, ok := refNames[k]; ok {
		return n
	}
	return "text"
}

// KindName is the short name of a kind: "etk", "privacy" or "explicit".
func KindName(k store.TextKind) string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "unknown"
}

// ParseKind reads a kind name, short (KindName) or long (RefName), in any
// case.
func ParseKind(s string) (store.TextKind, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for k, n := range kindNames {
		if n == s || refNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

// Normalize validates a text and returns it as it is stored: line ends are
// LF, every line loses its trailing white space, the body loses the blank
// lines around it and the title the spaces around it; the language is
// lower-cased. Errors name the field: kind, language, title or body.
func Normalize(in NewText) (NewText, error) {
	out := in
	out.Brand = strings.TrimSpace(in.Brand)
	if _, ok := kindNames[in.Kind]; !ok {
		return out, errs.Invalid("kind", "unknown consent text kind %d; want ETK, privacy notice or explicit consent", in.Kind)
	}
	out.Language = strings.ToLower(strings.TrimSpace(in.Language))
	if !slices.Contains(Languages, out.Language) {
		return out, errs.Invalid("language", "must be \"tr\" or \"en\", got %q", in.Language)
	}
	var err error
	if out.Title, err = clean("title", strings.TrimSpace(in.Title), MaxTitle); err != nil {
		return out, err
	}
	if strings.Contains(out.Title, "\n") {
		return out, errs.Invalid("title", "must be one line")
	}
	if out.Body, err = clean("body", in.Body, MaxBody); err != nil {
		return out, err
	}
	return out, nil
}

// clean normalises white space and checks what is left: valid UTF-8,
// no control characters but line feeds and tabs, 1 to limit characters.
func clean(field, s string, limit int) (string, error) {
	if !utf8.ValidString(s) {
		return "", errs.Invalid(field, "is not valid UTF-8")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	s = strings.Join(lines, "\n")
	if s == "" {
		return "", errs.Invalid(field, "must not be empty")
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return "", errs.Invalid(field, "must be at most %d characters, got %d", limit, n)
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return "", errs.Invalid(field, "must not contain control characters (found U+%04X)", r)
		}
	}
	return s, nil
}
