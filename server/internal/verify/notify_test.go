package verify_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/store"
)

// notified lists the notifications not yet fanned out, as "type ref".
func (e *env) notified(t *testing.T) []string {
	t.Helper()
	ns, err := e.st.UnfannedNotifications(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		if n.TenantID != e.p.TenantID {
			t.Errorf("notification of tenant %s", n.TenantID)
		}
		out = append(out, n.Type+" "+n.RefID)
	}
	return out
}

// Each way a verification ends writes one notification, in its
// transaction; the sweeper expires the untouched ones once.
func TestEndingsNotify(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ok := e.start(t, "05321234561")
		if _, err := e.svc.Submit(ctx, e.p, ok.ID, e.code(t, ok.ID)); err != nil {
			t.Fatal(err)
		}
		failed := e.start(t, "05321234562")
		bad := wrong(e.code(t, failed.ID))
		for range 4 { // the fourth meets a failed verification: no second notification
			_, _ = e.svc.Submit(ctx, e.p, failed.ID, bad)
		}
		touched := e.start(t, "05321234563")
		untouched := e.start(t, "05321234564")
		e.clock.add(time.Hour)
		if _, err := e.svc.Submit(ctx, e.p, touched.ID, e.code(t, touched.ID)); err == nil {
			t.Fatal("an expired code was accepted")
		}
		n, err := e.svc.SweepExpired(ctx)
		if err != nil || n != 1 {
			t.Errorf("SweepExpired = %d, %v; want the one untouched", n, err)
		}
		if n, _ := e.svc.SweepExpired(ctx); n != 0 {
			t.Errorf("a second sweep expired %d", n)
		}
		want := []string{
			store.NotifyVerificationVerified + " " + ok.ID,
			store.NotifyVerificationFailed + " " + failed.ID,
			store.NotifyVerificationExpired + " " + touched.ID,
			store.NotifyVerificationExpired + " " + untouched.ID,
		}
		got := e.notified(t)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("notifications\n\t%q\nwant\n\t%q", got, want)
		}
		v, err := e.st.GetVerification(ctx, e.p.TenantID, untouched.ID)
		if err != nil || v.Status != store.VerificationExpired {
			t.Errorf("swept verification: %+v, %v", v, err)
		}
	})
}
