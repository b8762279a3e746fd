// Package backoff is izin's one retry policy: exponential waits, capped,
// with "equal jitter" (half of each wait fixed, half random), computed from
// the number of the retry, so that a count kept in the database is enough
// to know the next wait.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy waits about Base before the first retry and twice as long before
// each next one, never more than Max.
type Policy struct {
	Base, Max time.Duration
}

// Ceiling is the longest wait before retry n (1-based; below 1 counts as
// 1): Base·2ⁿ⁻¹, at most Max.
func (p Policy) Ceiling(n int) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Delay is the wait before retry n: between half of Ceiling(n) and all of
// it, at random, so that callers that failed together do not retry
// together.
func (p Policy) Delay(n int) time.Duration {
	d := p.Ceiling(n)
	return d/2 + rand.N(d/2+1)
}
