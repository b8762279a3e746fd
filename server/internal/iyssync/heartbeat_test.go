package iyssync

import (
	"context"
	"path/filepath"
	"testing"
)

// Run beats after every synchronisation run, also one that İYS failed:
// İYS being down is not the worker being stuck.
func TestRunHeartbeat(t *testing.T) {
	for _, tc := range []struct {
		name string
		down bool
	}{
		{name: "a run that succeeds"},
		{name: "a run that İYS fails", down: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "izin.db"))
			if tc.down {
				f.fake.Close()
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			beats := 0
			f.w.SetHeartbeat(func() { beats++; cancel() })
			f.w.Run(ctx) // returns once the first beat cancels it
			if beats != 1 {
				t.Errorf("%d beats after one run, want 1", beats)
			}
		})
	}
}
