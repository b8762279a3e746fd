package outbox

import (
	"sync"
	"time"

	"github.com/izinhq/izin/server/internal/backoff"
)

// breaker is a circuit breaker per route: after Threshold failures in a
// row it opens, and messages of the route wait (without using an attempt)
// until it half-opens and lets one send through to try the provider. An
// open circuit spares a provider that is down the full load of retries,
// and the queue keeps every message meanwhile. It is per process: each
// replica finds out for itself.
type breaker struct {
	threshold int
	open      backoff.Policy

	mu     sync.Mutex
	routes map[string]*circuit
}

type circuit struct {
	failures int       // in a row
	opens    int       // times opened in a row, for the growing wait
	until    time.Time // open until
	trial    bool      // a half-open trial send is out
}

func newBreaker(threshold int, open backoff.Policy) *breaker {
	return &breaker{threshold: threshold, open: open, routes: map[string]*circuit{}}
}

// allow tells whether a send on the route may go now; if not, the time to
// try again.
func (b *breaker) allow(key string, now time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.routes[key]
	if c == nil || c.failures < b.threshold {
		return true, time.Time{}
	}
	if now.Before(c.until) {
		return false, c.until
	}
	if c.trial {
		return false, now.Add(b.open.Base)
	}
	c.trial = true
	return true, time.Time{}
}

// done records the outcome of a send the breaker allowed.
func (b *breaker) done(key string, ok bool, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.routes[key]
	if ok {
		delete(b.routes, key)
		return
	}
	if c == nil {
		c = &circuit{}
		b.routes[key] = c
	}
	c.failures++
	c.trial = false
	if c.failures >= b.threshold {
		c.opens++
		c.until = now.Add(b.open.Delay(c.opens))
	}
}
