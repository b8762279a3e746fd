package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// parallel runs n calls at once and returns how many succeeded; every
// failure must be RESOURCE_EXHAUSTED (a limit), nothing else.
func parallel(t *testing.T, n int, call func(i int) error) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := call(i)
			mu.Lock()
			defer mu.Unlock()
			switch status.Code(err) {
			case codes.OK:
				ok++
			case codes.ResourceExhausted:
			default:
				t.Errorf("call %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	return ok
}

// TestSendLimitsUnderConcurrency: the send and start limits hold when the
// calls come at once, on both engines and across two servers of one
// PostgreSQL, for every kind of SMS (codes and confirmations alike).
func TestSendLimitsUnderConcurrency(t *testing.T) {
	t.Parallel()
	defaults := store.DefaultTenantSettings()
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			db := databaseURL(t, eng)
			servers := []*server{startServerAt(t, eng, db)}
			if eng == postgresEngine {
				servers = append(servers, startServerAt(t, eng, db))
			}
			s := servers[0]
			tn := s.newTenant(t, "Limits "+string(eng))
			_, key := s.newSource(t, tn, "Web", store.SourceEcommerce)
			ctx := testCtx(t)
			auth := func(k string) context.Context {
				return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+k)
			}
			verifyC := func(i int) izinv1.VerificationServiceClient {
				return izinv1.NewVerificationServiceClient(servers[i%len(servers)].conn)
			}
			consentC := func(i int) izinv1.ConsentServiceClient {
				return izinv1.NewConsentServiceClient(servers[i%len(servers)].conn)
			}
			admin := s.client(grpcTransport, tn.AdminKey)
			sentTo := func(to string) int {
				return len(must(admin.ListMessages(ctx, &izinv1.ListMessagesRequest{Recipient: to, PageSize: 1000}))(t).GetMessages())
			}

			t.Run("per number", func(t *testing.T) {
				const to = "+905325000001"
				got := parallel(t, 50, func(i int) error {
					_, err := verifyC(i).StartVerification(auth(key), &izinv1.StartVerificationRequest{Recipient: to,
						Types: smsAndCall, Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE})
					return err
				})
				if want := defaults.MaxSendsPerRecipientHour; got != want || sentTo(to) != want {
					t.Errorf("50 parallel starts to one number: %d accepted, %d SMS; want %d", got, sentTo(to), want)
				}
			})

			t.Run("confirmations count too", func(t *testing.T) {
				const to = "+905325000002"
				got := parallel(t, 20, func(i int) error {
					_, err := consentC(i).RecordConsent(auth(key), &izinv1.RecordConsentRequest{Recipient: to,
						Types: smsAndCall, SendConfirmation: true})
					return err
				})
				if want := defaults.MaxSendsPerRecipientHour; got != want || sentTo(to) != want {
					t.Errorf("20 parallel records with a confirmation: %d accepted, %d SMS; want %d", got, sentTo(to), want)
				}
				// The number's hour is used up: a verification is refused too.
				_, err := verifyC(0).StartVerification(auth(key), &izinv1.StartVerificationRequest{Recipient: to,
					Types: smsAndCall, Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE})
				if status.Code(err) != codes.ResourceExhausted {
					t.Errorf("a start after the confirmations: %v, want RESOURCE_EXHAUSTED", err)
				}
			})

			t.Run("per key without a source", func(t *testing.T) {
				n := defaults.MaxStartsPerSourceMinute + 30
				got := parallel(t, n, func(i int) error {
					// Numbers of many blocks, so that only the start limit answers.
					to := fmt.Sprintf("+905%02d%07d", 30+i%60, i)
					_, err := verifyC(i).StartVerification(auth(tn.AdminKey), &izinv1.StartVerificationRequest{Recipient: to,
						Types: smsAndCall, Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE})
					return err
				})
				if want := defaults.MaxStartsPerSourceMinute; got != want {
					t.Errorf("%d parallel starts by an admin key: %d accepted, want %d", n, got, want)
				}
			})
		})
	}
}
