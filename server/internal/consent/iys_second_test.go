package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/izinhq/izin/server/internal/consent"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
)

// TestIYSDatesToTheSecond: İYS keeps dates to the second, izin to the
// microsecond. A change made at İYS in the second of izin's record is not
// older than it and applies; one of the second before is older, and so is a
// change from a channel in the same second.
func TestIYSDatesToTheSecond(t *testing.T) {
	for _, tc := range []struct {
		name    string
		source  string
		at      time.Duration // the change's time relative to the record's second
		applies bool
	}{
		{"İYS, the same second", "IYS_MOBIL", 0, true},
		{"İYS, the second before", "IYS_MOBIL", -time.Second, false},
		{"a channel, the same second", "HS_WEB", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			given := e.now.Add(500 * time.Millisecond)
			if _, err := e.svc.Record(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", Types: sms, IYSSource: "HS_WEB", ConsentTime: &given}); err != nil {
				t.Fatal(err)
			}
			e.now = e.now.Add(time.Minute)
			at := e.now.Add(-time.Minute).Truncate(time.Second).Add(tc.at)
			out, err := e.svc.Reject(ctx, e.p, consent.ChangeRequest{Recipient: "05321234567", Types: sms, IYSSource: tc.source, ConsentTime: &at})
			if tc.applies {
				if err != nil || len(out.Events) != 1 || out.Results[0].Status != store.StatusRejected {
					t.Fatalf("Reject = %+v, %v; want it applied", out, err)
				}
				if got := out.Events[0].ConsentTime; !got.Equal(given) {
					t.Errorf("event time %s, want the record's %s (not older than it)", got, given)
				}
				return
			}
			if e, ok := errs.As(err); !ok || e.Reason != errs.ReasonInvalidConsentTime {
				t.Errorf("Reject = %+v, %v; want refused as older than the record", out, err)
			}
		})
	}
}
