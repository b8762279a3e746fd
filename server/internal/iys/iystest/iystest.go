// Package iystest serves the fake İYS of package sandbox to tests, on an
// httptest server closed when the test ends. The fake's controls (the
// clock, citizens' changes, rate limits, failures, what was stored) are the
// sandbox's methods, promoted.
package iystest

import (
	"net/http/httptest"
	"testing"

	"github.com/izinhq/izin/server/internal/iys/sandbox"
)

// The default account of a fake server.
const (
	DefaultUsername = sandbox.DefaultUsername
	DefaultPassword = sandbox.DefaultPassword
	DefaultIYSCode  = sandbox.DefaultIYSCode
	DefaultBrand    = sandbox.DefaultBrand
)

// Key identifies one consent at İYS.
type Key = sandbox.Key

// Option configures New.
type Option = sandbox.Option

// Options of New; see package sandbox.
var (
	WithAccount        = sandbox.WithAccount
	WithTokenTTL       = sandbox.WithTokenTTL
	WithTokenDelay     = sandbox.WithTokenDelay
	WithStart          = sandbox.WithStart
	WithCalendar       = sandbox.WithCalendar
	WithRateLimit      = sandbox.WithRateLimit
	WithAsyncPolls     = sandbox.WithAsyncPolls
	WithChangesDelay   = sandbox.WithChangesDelay
	WithMaxBatch       = sandbox.WithMaxBatch
	WithAnyCredentials = sandbox.WithAnyCredentials
)

// Server is a fake İYS on a test HTTP server.
type Server struct {
	*sandbox.Server
	// URL is the base URL to give iys.New.
	URL string
	srv *httptest.Server
}

// New starts a fake İYS with the default account plus any WithAccount. With
// a non-nil tb it is closed when the test ends; otherwise call Close.
func New(tb testing.TB, opts ...Option) *Server {
	s := &Server{Server: sandbox.New(opts...)}
	s.srv = httptest.NewServer(s.Server)
	s.URL = s.srv.URL
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }
