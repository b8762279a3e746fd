package iys

import (
	"testing"
	"time"
)

// Retry n (1-based) waits about BaseDelay·2ⁿ⁻¹, at most MaxDelay; half of
// each wait is random.
func TestBackoff(t *testing.T) {
	tests := []struct {
		policy  RetryPolicy
		n       int
		ceiling time.Duration
	}{
		{RetryPolicy{}, 1, 250 * time.Millisecond},
		{RetryPolicy{}, 2, 500 * time.Millisecond},
		{RetryPolicy{}, 7, 15 * time.Second},
		{RetryPolicy{}, 1000, 15 * time.Second},
		{RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}, 2, 200 * time.Millisecond},
		{RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}, 3, 300 * time.Millisecond},
		// A maximum below the base is raised to it.
		{RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Millisecond}, 5, time.Second},
	}
	for _, tt := range tests {
		c := &Client{retry: tt.policy.withDefaults()}
		for range 200 {
			if d := c.backoff(tt.n); d < tt.ceiling/2 || d > tt.ceiling {
				t.Fatalf("%+v: backoff(%d) = %s, want within [%s, %s]", tt.policy, tt.n, d, tt.ceiling/2, tt.ceiling)
			}
		}
	}
}
