package backoff

import (
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	p := Policy{Base: 30 * time.Second, Max: 30 * time.Minute}
	tests := []struct {
		policy Policy
		n      int
		want   time.Duration
	}{
		{p, -1, 30 * time.Second},
		{p, 0, 30 * time.Second},
		{p, 1, 30 * time.Second},
		{p, 2, time.Minute},
		{p, 6, 16 * time.Minute},
		{p, 7, 30 * time.Minute},
		{p, 1 << 20, 30 * time.Minute},
		{Policy{Base: 2 * time.Second, Max: 10 * time.Minute}, 10, 10 * time.Minute},
		{Policy{Base: time.Second, Max: time.Millisecond}, 1, time.Millisecond},
		{Policy{}, 5, 0},
	}
	for _, tt := range tests {
		if got := tt.policy.Ceiling(tt.n); got != tt.want {
			t.Errorf("%+v.Ceiling(%d) = %s, want %s", tt.policy, tt.n, got, tt.want)
		}
	}
}

func TestDelay(t *testing.T) {
	p := Policy{Base: time.Second, Max: time.Minute}
	for _, n := range []int{1, 2, 3, 10} {
		c := p.Ceiling(n)
		lo, hi := c, time.Duration(0)
		for range 500 {
			d := p.Delay(n)
			if d < c/2 || d > c {
				t.Fatalf("Delay(%d) = %s, want within [%s, %s]", n, d, c/2, c)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// 500 draws over the upper half: both ends of it are reached.
		if lo > c/2+c/8 || hi < c-c/8 {
			t.Errorf("Delay(%d) drew only [%s, %s] of [%s, %s]", n, lo, hi, c/2, c)
		}
	}
	if d := (Policy{}).Delay(3); d != 0 {
		t.Errorf("zero policy: Delay = %s, want 0", d)
	}
}
