package outbox

import (
	"testing"
	"time"
)

// A failed send is retried after about 4 s, twice as long after each next
// failure, at most 10 min; half of each wait is random.
func TestRetryDelay(t *testing.T) {
	tests := []struct {
		attempts int
		ceiling  time.Duration
	}{
		{0, 2 * time.Second},
		{1, 4 * time.Second},
		{2, 8 * time.Second},
		{8, 512 * time.Second},
		{9, 10 * time.Minute},
		{100, 10 * time.Minute},
	}
	w := NewWorker(nil, nil, nil)
	for _, tt := range tests {
		for range 200 {
			if d := w.retryDelay(tt.attempts); d < tt.ceiling/2 || d > tt.ceiling {
				t.Fatalf("retryDelay(%d) = %s, want within [%s, %s]", tt.attempts, d, tt.ceiling/2, tt.ceiling)
			}
		}
	}
}
