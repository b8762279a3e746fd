package e2e

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// TestConcurrency runs verifications of one tenant at the same time, over
// both transports: every one is recorded, the tenant's hash chain stays one
// unbroken line, and racing submits of one verification are decided once.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			db := databaseURL(t, eng)
			s := startServerAt(t, eng, db)
			tn := s.newTenant(t, "Concurrency "+string(eng))
			_, key := s.newSource(t, tn, "Web", store.SourceEcommerce)
			ctx := testCtx(t)

			const flows = 12
			t.Run("flows", func(t *testing.T) {
				for i := range flows {
					tr := transports[i%len(transports)]
					t.Run(fmt.Sprintf("%02d-%s", i, tr), func(t *testing.T) {
						t.Parallel()
						verifyWithCode(ctx, t, s.client(tr, key), s.client(tr, tn.AdminKey), fmt.Sprintf("0532 400 00 %02d", i))
					})
				}
			})
			if t.Failed() {
				return
			}
			c := s.client(grpcTransport, key)
			evs := must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{PageSize: 1000}))(t).GetEvents()
			if len(evs) != 2*flows {
				t.Fatalf("%d flows wrote %d events, want %d", flows, len(evs), 2*flows)
			}
			for i, e := range evs {
				if want := int64(len(evs) - i); e.GetSequence() != want {
					t.Errorf("event %d has sequence %d, want %d", i, e.GetSequence(), want)
				}
				if i+1 < len(evs) && e.GetPreviousHash() != evs[i+1].GetHash() {
					t.Errorf("event %d does not link to the one before it", e.GetSequence())
				}
			}
			for i := range flows {
				res := must(c.CheckConsent(ctx, &izinv1.CheckConsentRequest{Recipient: fmt.Sprintf("+9053240000%02d", i),
					Types: smsAndCall}))(t)
				for _, r := range res.GetResults() {
					if r.GetStatus() != izinv1.ConsentStatus_CONSENT_STATUS_GRANTED {
						t.Errorf("flow %d: %v is %v, want GRANTED", i, r.GetType(), r.GetStatus())
					}
				}
			}
			code, out, errOut := runCLI(t, "--database-url", db, "--json", "audit", "verify", "--tenant", tn.ID)
			if code != 0 || !strings.Contains(out, `"ok": true`) || !strings.Contains(out, fmt.Sprintf(`"events": %d`, 2*flows)) {
				t.Errorf("audit verify after concurrent writes: exit %d\n%s%s", code, out, errOut)
			}

			t.Run("same right code", func(t *testing.T) {
				admin := s.client(grpcTransport, tn.AdminKey)
				v := must(c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "0532 500 00 01",
					Types: smsAndCall, Method: smsCode}))(t).GetVerification()
				right := codeOf(ctx, t, admin, "0532 500 00 01", v.GetId())
				outcomes := race(ctx, s, key, v.GetId(), right, 8)
				if got := strings.Join(outcomes, " "); got != "ERROR_REASON_VERIFICATION_CLOSED*7 OK" {
					t.Errorf("8 racing right codes: %s; want one OK and 7 VERIFICATION_CLOSED", got)
				}
				evs := must(c.ListConsentEvents(ctx, &izinv1.ListConsentEventsRequest{Recipient: "05325000001"}))(t).GetEvents()
				msgs := must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: "05325000001"}))(t).GetMessages()
				if len(evs) != 2 || len(msgs) != 2 {
					t.Errorf("racing right codes wrote %d events and %d messages, want 2 (SMS, CALL) and 2 (activation, confirmation)",
						len(evs), len(msgs))
				}
			})
			t.Run("same idempotency key", func(t *testing.T) {
				const n = 6
				ids := make([]string, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						resp, err := s.client(transports[i%len(transports)], key).StartVerification(ctx,
							&izinv1.StartVerificationRequest{Recipient: "0532 500 00 03", Types: smsAndCall, Method: smsCode,
								IdempotencyKey: "signup-42"})
						ids[i], errs[i] = resp.GetVerification().GetId(), err
					}()
				}
				wg.Wait()
				for i := range n {
					if errs[i] != nil || ids[i] == "" || ids[i] != ids[0] {
						t.Errorf("start %d with a shared idempotency key: id %q, error %v; want the one id %s", i, ids[i], errs[i], ids[0])
					}
				}
				msgs := must(s.client(grpcTransport, tn.AdminKey).ListMessages(ctx,
					&izinv1.ListMessagesRequest{Recipient: "05325000003"}))(t).GetMessages()
				if len(msgs) != 1 {
					t.Errorf("%d racing starts with one idempotency key queued %d SMS, want 1", n, len(msgs))
				}
			})
			t.Run("wrong codes", func(t *testing.T) {
				admin := s.client(grpcTransport, tn.AdminKey)
				v := must(c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: "0532 500 00 02",
					Types: smsAndCall, Method: smsCode}))(t).GetVerification()
				right := codeOf(ctx, t, admin, "0532 500 00 02", v.GetId())
				outcomes := race(ctx, s, key, v.GetId(), wrongCode(right), 8)
				want := "ERROR_REASON_INVALID_CODE/1 ERROR_REASON_INVALID_CODE/2 ERROR_REASON_TOO_MANY_ATTEMPTS " +
					"ERROR_REASON_VERIFICATION_CLOSED*5"
				if got := strings.Join(outcomes, " "); got != want {
					t.Errorf("8 racing wrong codes: %s; want %s", got, want)
				}
				got := must(c.GetVerification(ctx, &izinv1.GetVerificationRequest{Id: v.GetId()}))(t).GetVerification()
				if got.GetStatus() != izinv1.VerificationStatus_VERIFICATION_STATUS_FAILED {
					t.Errorf("after racing wrong codes the verification is %v, want FAILED", got.GetStatus())
				}
			})
		})
	}
}

// race submits code to verification id n times at once, over both
// transports, and returns the sorted, counted outcomes: "OK", or the error
// reason (with attempts_left for a wrong code), e.g. "X*3" for three X.
func race(ctx context.Context, s *server, key, id, code string, n int) []string {
	var (
		mu  sync.Mutex
		got []string
		wg  sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.client(transports[i%len(transports)], key)
			<-start
			_, err := c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: id, Code: code})
			outcome := "OK"
			var e *apiError
			switch {
			case err == nil:
			case errors.As(err, &e) && e.Reason == "ERROR_REASON_INVALID_CODE" && e.Code == codes.InvalidArgument:
				outcome = e.Reason + "/" + e.Metadata["attempts_left"]
			case errors.As(err, &e) && e.Reason != "" && e.Code == codes.FailedPrecondition:
				outcome = e.Reason
			default:
				outcome = fmt.Sprintf("unexpected %v", err)
			}
			mu.Lock()
			got = append(got, outcome)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	sort.Strings(got)
	var out []string
	for i := 0; i < len(got); {
		j := i
		for j < len(got) && got[j] == got[i] {
			j++
		}
		if j-i == 1 {
			out = append(out, got[i])
		} else {
			out = append(out, fmt.Sprintf("%s*%d", got[i], j-i))
		}
		i = j
	}
	return out
}
