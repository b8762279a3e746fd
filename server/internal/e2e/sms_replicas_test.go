package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/metadata"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// TestSMSReplicas: three servers on one PostgreSQL share the outbox. Codes
// started on all of them while the provider refuses, then drops answers,
// each reach the provider exactly once.
func TestSMSReplicas(t *testing.T) {
	t.Parallel()
	db := databaseURL(t, postgresEngine)
	servers := []*server{startServerAt(t, postgresEngine, db, fastOutbox, webhookConfig)}
	for range 2 {
		servers = append(servers, startServerAt(t, postgresEngine, db, fastOutbox, webhookConfig))
	}
	fake := newFakeVerimor(t)
	t.Cleanup(fake.close)
	env := newSMSEnv(t, servers[0], fake)
	_, key := servers[0].newSource(t, env.tn, "Kiosk", store.SourceKiosk)
	fake.refuseNext(6)
	fake.dropNext(3)

	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := servers[i%len(servers)]
			ctx := metadata.AppendToOutgoingContext(testCtx(t), "authorization", "Bearer "+key)
			_, err := izinv1.NewVerificationServiceClient(s.conn).StartVerification(ctx, &izinv1.StartVerificationRequest{
				Recipient: fmt.Sprintf("+90532200%04d", i), Types: smsAndCall,
				Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("StartVerification: %v", err)
		}
	}
	waitUntil(t, "every code reached the provider", func() bool { return len(fake.sent()) >= n })
	// Everything is sent: nothing queued stays behind to be sent again.
	waitUntil(t, "the outbox drained", func() bool {
		list, err := env.admin.ListMessages(env.adminCtx, &izinv1.ListMessagesRequest{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list.GetMessages() {
			if m.GetStatus() == izinv1.MessageStatus_MESSAGE_STATUS_QUEUED {
				return false
			}
		}
		return len(list.GetMessages()) == n
	})
	seen := map[string]int{}
	for _, m := range fake.sent() {
		seen[m.To]++
	}
	for to, c := range seen {
		if c != 1 {
			t.Errorf("%s got %d codes, want 1", to, c)
		}
	}
	if len(seen) != n {
		t.Errorf("%d numbers got a code, want %d", len(seen), n)
	}
	// A callback for an unknown hook, or naming another provider, is not
	// found; the same answer for both.
	for _, u := range []string{
		"http://" + servers[1].HTTPAddr + "/v1/inbound/verimor/0000000000000000?secret=x",
		strings.Replace(env.callbacks.GetInboundUrl(), "/verimor/", "/netgsm/", 1),
	} {
		resp, err := http.Post(u, "application/json", strings.NewReader("[]"))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: HTTP %d, want 404", u, resp.StatusCode)
		}
	}
}
