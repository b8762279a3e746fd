package iyssync

import (
	"context"
	"testing"
)

// A run cut short by shutdown still records what went wrong: the status
// is written on a context that outlives the cancelled one.
func TestFinishRunAfterShutdown(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		cfg, err := f.st.GetIYSConfig(t.Context(), f.tenant, f.brand.ID)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		rep := BrandReport{TenantID: f.tenant, BrandID: f.brand.ID, Errors: []string{"upload: context canceled"}}
		if err := f.w.finishRun(ctx, cfg, &rep, false); err != nil {
			t.Fatalf("finishRun on a cancelled context: %v", err)
		}
		sts, err := f.svc.Status(t.Context(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if len(sts) != 1 || sts[0].LastError != "upload: context canceled" {
			t.Errorf("status after a cancelled run: %+v, want the run's error recorded", sts)
		}
	})
}
