// Package fault is the failure switchboard the provider test servers share:
// refuse the next requests, or accept a message and then drop the
// connection or hang before answering, so tests can produce an outage and a
// send of unknown outcome against any provider.
package fault

import (
	"net/http"
	"sync"
)

// Kind is what happens to one request.
type Kind int

const (
	// None: the request is served normally.
	None Kind = iota
	// Refuse: the server answers with its "system error" answer and keeps
	// nothing.
	Refuse
	// Drop: the message is accepted and recorded, then the connection is
	// closed without an answer.
	Drop
	// Hang: the message is accepted and recorded, then the server holds
	// the request without answering until the client gives up.
	Hang
)

// Plan counts the faults still to inject. The zero value injects none and
// is ready to use; it is safe for concurrent use.
type Plan struct {
	mu                 sync.Mutex
	refuse, drop, hang int
	closing            chan struct{}
	once               sync.Once
}

// RefuseNext makes the next n API requests fail as refused.
func (p *Plan) RefuseNext(n int) { p.mu.Lock(); p.refuse = n; p.mu.Unlock() }

// DropNext makes the next n sends accepted but answered by a closed
// connection.
func (p *Plan) DropNext(n int) { p.mu.Lock(); p.drop = n; p.mu.Unlock() }

// HangNext makes the next n sends accepted but never answered.
func (p *Plan) HangNext(n int) { p.mu.Lock(); p.hang = n; p.mu.Unlock() }

// Request takes the fault, if any, for a request that is not a send: only
// refusals apply.
func (p *Plan) Request() Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse > 0 {
		p.refuse--
		return Refuse
	}
	return None
}

// Send takes the fault, if any, for a send: refusals first, then drops,
// then hangs.
func (p *Plan) Send() Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.refuse > 0:
		p.refuse--
		return Refuse
	case p.drop > 0:
		p.drop--
		return Drop
	case p.hang > 0:
		p.hang--
		return Hang
	}
	return None
}

func (p *Plan) closingCh() chan struct{} {
	p.once.Do(func() { p.closing = make(chan struct{}) })
	return p.closing
}

// Apply acts out Drop or Hang on an accepted send and reports whether it
// did (then the handler must not write an answer).
func (p *Plan) Apply(k Kind, w http.ResponseWriter, r *http.Request) bool {
	switch k {
	case Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case Hang:
		select {
		case <-r.Context().Done():
		case <-p.closingCh():
		}
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return true
	}
	return false
}

// Close releases hanging requests; call it before closing the server.
func (p *Plan) Close() {
	ch := p.closingCh()
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}
