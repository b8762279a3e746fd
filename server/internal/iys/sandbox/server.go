// Package sandbox is an in-memory stand-in for İYS's API, served over real
// HTTP: the token endpoint (password and refresh grants, expiring tokens),
// single and bulk consent uploads with İYS's rules and error codes, bulk
// results, the consent status query, the change feed with a cursor, and the
// daily change file. Tests drive it through package iystest (a clock they
// control, changes made by citizens at İYS, a rate limiter answering 429 and
// H124, injected failures, a look at what was stored); `izin iys sandbox`
// serves it to integrators, accepting any credentials, with a small admin
// API under /sandbox/ (admin.go) to emit citizens' changes, list what it
// holds and start again.
//
// Wire shapes follow the documentation notes in package iys (wire.go); the
// sandbox builds its JSON itself rather than reusing the client's types, so
// a client change that drifts from those shapes shows up in tests.
package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
)

// Default account of a sandbox.
const (
	DefaultUsername = "izin-test"
	DefaultPassword = "s3cret"
	DefaultIYSCode  = "700001"
	DefaultBrand    = "700001"
)

// Key identifies one consent at İYS: İYS keeps one state per brand,
// recipient, recipient type and type.
type Key struct {
	IYSCode       string
	BrandCode     string
	Recipient     string
	RecipientType iys.RecipientType
	Type          iys.ConsentType
}

type account struct {
	password string
	iysCode  string
	brands   map[string]bool
}

type tokenInfo struct {
	user string
	exp  time.Time
}

type record struct {
	current iys.Consent
	history []iys.Consent
}

type event struct {
	seq     int64
	iysCode string
	brand   string
	consent iys.Consent // with CreationDate and TransactionID
}

type bulkItem struct {
	consent  iys.Consent
	hasDate  bool
	subID    string
	result   string // "", success, failure
	txID     string
	creation time.Time
	err      *apiErr
}

type bulk struct {
	iysCode, brand string
	items          []*bulkItem
	polls          int
	processed      bool
}

// Server is a fake İYS and the http.Handler that serves it. Its methods are
// safe for concurrent use.
type Server struct {
	handler http.Handler
	mu      sync.Mutex

	offset   time.Duration
	cal      *iys.Calendar
	accounts map[string]*account
	anyCreds bool
	// brandIYS is the İYS code last used with each brand code, so that the
	// admin API can leave it out.
	brandIYS   map[string]string
	access     map[string]tokenInfo
	refresh    map[string]tokenInfo
	tokenTTL   time.Duration
	refreshTTL time.Duration
	tokenDelay time.Duration

	rateN        int
	rateWindow   time.Duration
	rateWinStart time.Time
	rateCount    int

	failNext   int
	failStatus int
	dropNext   int
	rejectAll  bool

	asyncPolls   int
	changesDelay time.Duration
	maxBatch     int

	records  map[Key]*record
	events   []event
	seq      int64
	requests map[string]*bulk

	grants      map[string]int
	tokenHits   int
	apiRequests int
	rateLimited int
}

// Option configures New.
type Option func(*Server)

// WithAccount adds an API account allowed to act for iysCode and the brands.
func WithAccount(username, password, iysCode string, brands ...string) Option {
	return func(s *Server) {
		a := &account{password: password, iysCode: iysCode, brands: map[string]bool{}}
		for _, b := range brands {
			a.brands[b] = true
		}
		s.accounts[username] = a
	}
}

// WithTokenTTL sets the lifetimes of access and refresh tokens (İYS: 2 h and
// 4 h, the defaults).
func WithTokenTTL(access, refresh time.Duration) Option {
	return func(s *Server) { s.tokenTTL, s.refreshTTL = access, refresh }
}

// WithTokenDelay makes the token endpoint take d (real time) to answer, so
// that tests can make concurrent callers overlap a refresh.
func WithTokenDelay(d time.Duration) Option { return func(s *Server) { s.tokenDelay = d } }

// WithStart sets the fake clock's current time.
func WithStart(t time.Time) Option { return func(s *Server) { s.offset = time.Until(t) } }

// WithCalendar sets the business-day calendar of the 3-business-day rule
// (default iys.DefaultCalendar).
func WithCalendar(c *iys.Calendar) Option { return func(s *Server) { s.cal = c } }

// WithRateLimit answers 429 (H124) to API requests beyond n in a window of
// the fake clock. Off by default.
func WithRateLimit(n int, window time.Duration) Option {
	return func(s *Server) { s.rateN, s.rateWindow = n, window }
}

// WithAsyncPolls makes bulk requests stay queued ("enqueue") for the first n
// result queries; they are processed at query n+1. Default 0: processed when
// submitted.
func WithAsyncPolls(n int) Option { return func(s *Server) { s.asyncPolls = n } }

// WithChangesDelay hides changes younger than d from the change feed (İYS
// hides the last hour). Default 0.
func WithChangesDelay(d time.Duration) Option { return func(s *Server) { s.changesDelay = d } }

// WithMaxBatch sets the largest bulk request accepted (İYS: 1000).
func WithMaxBatch(n int) Option { return func(s *Server) { s.maxBatch = n } }

// WithAnyCredentials accepts any non-empty user name and password, acting
// for any İYS code and brand code: what an integrator trying izin against
// the sandbox wants.
func WithAnyCredentials() Option { return func(s *Server) { s.anyCreds = true } }

// New returns a fake İYS with the default account (DefaultUsername,
// DefaultPassword, DefaultIYSCode, DefaultBrand) plus any WithAccount; serve
// it with an http.Server or httptest.
func New(opts ...Option) *Server {
	s := &Server{
		cal:        iys.DefaultCalendar,
		accounts:   map[string]*account{},
		brandIYS:   map[string]string{},
		access:     map[string]tokenInfo{},
		refresh:    map[string]tokenInfo{},
		tokenTTL:   2 * time.Hour,
		refreshTTL: 4 * time.Hour,
		failStatus: http.StatusInternalServerError,
		maxBatch:   1000,
		records:    map[Key]*record{},
		requests:   map[string]*bulk{},
		grants:     map[string]int{},
	}
	WithAccount(DefaultUsername, DefaultPassword, DefaultIYSCode, DefaultBrand)(s)
	for _, o := range opts {
		o(s)
	}
	s.handler = s.routes()
	return s
}

// ServeHTTP serves İYS's API and the admin API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Credentials returns the default account's credentials.
func (s *Server) Credentials() iys.Credentials {
	return iys.Credentials{Username: DefaultUsername, Password: DefaultPassword}
}

// Now returns the fake clock's time. The clock runs with real time, shifted
// by Advance and SetNow.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.offset) }

// Advance moves the fake clock forward.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// SetNow sets the fake clock.
func (s *Server) SetNow(t time.Time) {
	s.mu.Lock()
	s.offset = time.Until(t)
	s.mu.Unlock()
}

// Calendar returns the business-day calendar the server applies.
func (s *Server) Calendar() *iys.Calendar { return s.cal }

// SetRateLimit changes the rate limit (n <= 0 turns it off).
func (s *Server) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	s.rateN, s.rateWindow, s.rateCount, s.rateWinStart = n, window, 0, time.Time{}
	s.mu.Unlock()
}

// FailNext makes the next k API requests (not token requests) answer 500
// with H470.
func (s *Server) FailNext(k int) { s.FailNextWith(k, http.StatusInternalServerError) }

// FailNextWith makes the next k API requests answer the given status.
func (s *Server) FailNextWith(k, status int) {
	s.mu.Lock()
	s.failNext, s.failStatus = k, status
	s.mu.Unlock()
}

// DropNext makes the server close the connection of the next k API requests
// without answering (a network error for the client).
func (s *Server) DropNext(k int) {
	s.mu.Lock()
	s.dropNext = k
	s.mu.Unlock()
}

// RevokeTokens invalidates every access token issued so far (refresh tokens
// stay valid), as when İYS drops sessions.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	s.access = map[string]tokenInfo{}
	s.mu.Unlock()
}

// RevokeRefreshTokens invalidates every refresh token issued so far.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	s.refresh = map[string]tokenInfo{}
	s.mu.Unlock()
}

// RejectAllTokens makes every API request answer 401 while on.
func (s *Server) RejectAllTokens(on bool) {
	s.mu.Lock()
	s.rejectAll = on
	s.mu.Unlock()
}

// TokenRequests counts the grants issued of a type ("password",
// "refresh_token"), or of all types for "".
func (s *Server) TokenRequests(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if grantType != "" {
		return s.grants[grantType]
	}
	n := 0
	for _, v := range s.grants {
		n += v
	}
	return n
}

// TokenEndpointHits counts requests to the token endpoint, granted or not.
func (s *Server) TokenEndpointHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenHits
}

// APIRequests counts the requests to endpoints other than the token one,
// whatever their answer.
func (s *Server) APIRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiRequests
}

// RateLimited counts the requests answered 429.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// Stored returns the consent İYS holds for the key.
func (s *Server) Stored(k Key) (iys.Consent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[k]
	if !ok {
		return iys.Consent{}, false
	}
	return r.current, true
}

// History returns every consent stored for the key, oldest first.
func (s *Server) History(k Key) []iys.Consent {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[k]
	if !ok {
		return nil
	}
	return append([]iys.Consent(nil), r.history...)
}

// InjectChange records a change a citizen made at İYS (source IYS_*, for
// example iys.SourceIYSWeb), bypassing the rules companies are held to; it
// appears in the change feed and the daily file. A zero ConsentDate means
// now. It returns the consent as stored, with TransactionID and CreationDate.
func (s *Server) InjectChange(iysCode, brandCode string, c iys.Consent) iys.Consent {
	if !c.Source.FromIYS() {
		panic("sandbox: InjectChange wants an IYS_* source, got " + string(c.Source))
	}
	return s.Emit(iysCode, brandCode, c, time.Time{})
}

// storeLocked records the consent and its change event.
func (s *Server) storeLocked(iysCode, brand string, c iys.Consent, now time.Time) iys.Consent {
	c.ConsentDate = c.ConsentDate.Truncate(time.Second)
	c.CreationDate = now.Truncate(time.Second)
	c.TransactionID = randomHex(32)
	k := Key{IYSCode: iysCode, BrandCode: brand, Recipient: c.Recipient, RecipientType: c.RecipientType, Type: c.Type}
	r := s.records[k]
	if r == nil {
		r = &record{}
		s.records[k] = r
	}
	r.current = c
	r.history = append(r.history, c)
	s.seq++
	s.events = append(s.events, event{seq: s.seq, iysCode: iysCode, brand: brand, consent: c})
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func uuidish() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
