package iyssync

import (
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/iys"
)

// The upload retries wait 30 s after the first failure, twice as long after
// each next one, at most 30 min; half of each wait is random.
func TestRetryDelay(t *testing.T) {
	tests := []struct {
		attempts int
		err      error
		lo, hi   time.Duration
	}{
		{0, nil, 30 * time.Second / 2, 30 * time.Second},
		{1, nil, 30 * time.Second / 2, 30 * time.Second},
		{2, nil, time.Minute / 2, time.Minute},
		{3, nil, 2 * time.Minute / 2, 2 * time.Minute},
		{6, nil, 16 * time.Minute / 2, 16 * time.Minute},
		{7, nil, 30 * time.Minute / 2, 30 * time.Minute},
		{100, nil, 30 * time.Minute / 2, 30 * time.Minute},
		// A longer Retry-After from İYS wins, as it is.
		{1, &iys.Error{RetryAfter: time.Hour}, time.Hour, time.Hour},
	}
	for _, tt := range tests {
		for range 200 {
			if d := retryDelay(tt.err, tt.attempts); d < tt.lo || d > tt.hi {
				t.Fatalf("retryDelay(%v, %d) = %s, want within [%s, %s]", tt.err, tt.attempts, d, tt.lo, tt.hi)
			}
		}
	}
}
