// Package fault is the failure switchboard the provider test servers share:
// refuse the next requests, or accept a message and then drop the
// connection or hang before answering, so tests can produce an outage and a
// send of unknown outcome against any provider.
package fault

import (
	"net/http"
	"net/http/httptest"
	"sync"
)

// Kind is what happens to one request.
type Kind int

const (
	// None: the request is served normally.
	None Kind = iota
	// Refuse: the server answers with the provider's "system error" answer
	// and keeps nothing.
	Refuse
	// Drop: the message is accepted and recorded, then the connection is
	// closed without an answer.
	Drop
	// Hang: the message is accepted and recorded, then the server holds
	// the request without answering until the client gives up.
	Hang
)

// Switch holds the faults a test server still has to inject; test servers
// embed it, so its three methods are theirs. The zero value injects none;
// it is safe for concurrent use.
type Switch struct {
	mu                 sync.Mutex
	refuse, drop, hang int
	closing            chan struct{}
	closed             bool
}

// RefuseNext makes the next n API requests (sends and queries) fail with
// the provider's system-error answer, keeping nothing: an outage.
func (s *Switch) RefuseNext(n int) { s.mu.Lock(); s.refuse = n; s.mu.Unlock() }

// DropNext makes the next n sends accepted and recorded, then answered by
// closing the connection: the client cannot know the outcome.
func (s *Switch) DropNext(n int) { s.mu.Lock(); s.drop = n; s.mu.Unlock() }

// HangNext makes the next n sends accepted and recorded, then never
// answered until the client gives up (its timeout or context).
func (s *Switch) HangNext(n int) { s.mu.Lock(); s.hang = n; s.mu.Unlock() }

// Request takes the fault, if any, for a request that is not a send: only
// refusals apply.
func Request(s *Switch) Kind {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse > 0 {
		s.refuse--
		return Refuse
	}
	return None
}

// Send takes the fault, if any, for a send: refusals first, then drops,
// then hangs.
func Send(s *Switch) Kind {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.refuse > 0:
		s.refuse--
		return Refuse
	case s.drop > 0:
		s.drop--
		return Drop
	case s.hang > 0:
		s.hang--
		return Hang
	}
	return None
}

func closing(s *Switch) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing == nil {
		s.closing = make(chan struct{})
	}
	return s.closing
}

// Apply acts out Drop or Hang on an accepted send and reports whether it
// did (then the handler must not write an answer).
func Apply(s *Switch, k Kind, w http.ResponseWriter, r *http.Request) bool {
	switch k {
	case Drop:
		hangUp(w)
		return true
	case Hang:
		select {
		case <-r.Context().Done():
		case <-closing(s):
		}
		hangUp(w)
		return true
	}
	return false
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection quietly
}

// Release frees hanging requests; test servers call it before closing.
func Release(s *Switch) {
	ch := closing(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(ch)
	}
}

// Server is a test server with a Switch. Provider test servers embed it:
// URL and the Switch methods are theirs, and Close frees hanging requests
// before it stops the server.
type Server struct {
	*httptest.Server
	Switch
}

// Start serves h on a local port.
func Start(h http.Handler) *Server { return &Server{Server: httptest.NewServer(h)} }

// Close releases hanging requests and stops the server.
func (s *Server) Close() {
	Release(&s.Switch)
	s.Server.Close()
}
