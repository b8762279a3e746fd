package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
)

// Every consent change reaches a webhook exactly once, signed as the
// standardwebhooks package verifies, through failures and retries.
func TestWebhooksDeliverOnce(t *testing.T) {
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			s := startServer(t, eng, webhookConfig)
			tn := s.newTenant(t, "Webhook Ltd")
			admin := s.webhookAdmin(tn.AdminKey)
			_, key := s.newSource(t, tn, "Web", store.SourceEcommerce)
			c := s.client(restTransport, key)

			// 500 twice, then 200: each event is retried into one delivery.
			rcv := newReceiver(t, func(_ string, n int) int {
				if n <= 2 {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			})
			created := must(admin.create(ctx, rcv.srv.URL+"/hooks", "consent.granted", "consent.rejected"))(t)
			if !strings.HasPrefix(created.GetSecret(), "whsec_") {
				t.Fatalf("secret %q", created.GetSecret())
			}
			hookID := created.GetWebhook().GetId()
			rec := must(c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "0532 555 01 01", Types: smsAndCall}))(t)
			rej := must(c.RejectConsent(ctx, &izinv1.RejectConsentRequest{Recipient: "0532 555 01 01",
				Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_CALL}}))(t)
			events := len(rec.GetEvents()) + len(rej.GetEvents())
			rcv.waitFor(t, "every event delivered", func(hs []hook) bool { return len(rcv.delivered()) == events })
			rcv.quiet(t)

			got := rcv.delivered()
			ids := map[string]bool{}
			counts := map[string]int{}
			for _, h := range got {
				ids[h.ID] = true
				typ, data := bodyType(t, h.Body)
				counts[typ]++
				if data["recipient"] != "+905325550101" || data["id"] == "" {
					t.Errorf("data of %s: %v", typ, data)
				}
			}
			if len(ids) != events || counts["consent.granted"] != len(rec.GetEvents()) || counts["consent.rejected"] != 1 {
				t.Errorf("delivered %v over %d ids, want %d events once each", counts, len(ids), events)
			}
			if n := len(rcv.all()); n != 3*events {
				t.Errorf("%d requests, want 3 per event (two 500s, then 200)", n)
			}
			requireVerified(t, created.GetSecret(), rcv.all())

			ds := must(admin.deliveries(ctx, hookID))(t)
			for _, d := range ds.GetDeliveries() {
				if d.GetState() != izinv1.WebhookDeliveryState_WEBHOOK_DELIVERY_STATE_DELIVERED || len(d.GetAttempts()) != 3 ||
					d.GetAttempts()[0].GetStatusCode() != 500 {
					t.Errorf("delivery %s: state %s, attempts %v", d.GetId(), d.GetState(), d.GetAttempts())
				}
			}

			// Replay by id, then by range: the same webhook-id and body again.
			first := got[0]
			n := must(admin.replay(ctx, hookID, &izinv1.ReplayWebhookDeliveriesRequest{DeliveryIds: []string{first.ID}}))(t)
			if n.GetReplayedCount() != 1 {
				t.Errorf("replayed %d", n.GetReplayedCount())
			}
			rcv.waitFor(t, "the replay by id", func(hs []hook) bool { return countID(hs, first.ID) >= 4 })
			if last := rcv.all()[len(rcv.all())-1]; last.ID != first.ID || !bytes.Equal(last.Body, first.Body) {
				t.Errorf("replay sent %s %s, want %s with its body", last.ID, last.Body, first.ID)
			}
			before := len(rcv.all())
			n = must(admin.replay(ctx, hookID, &izinv1.ReplayWebhookDeliveriesRequest{
				Since: timestamppb.New(time.Now().Add(-time.Hour)), Until: timestamppb.New(time.Now().Add(time.Minute))}))(t)
			if int(n.GetReplayedCount()) != events {
				t.Errorf("replayed by range %d, want %d", n.GetReplayedCount(), events)
			}
			rcv.waitFor(t, "the replay by range", func(hs []hook) bool { return len(hs) >= before+events })
			for _, h := range rcv.all()[before:] {
				if !ids[h.ID] {
					t.Errorf("the replay sent a new webhook-id %s", h.ID)
				}
			}
			requireVerified(t, created.GetSecret(), rcv.all())
		})
	}
}

// Rotation: within the grace period each delivery carries two signatures,
// one per secret, and each verifies on its own.
func TestWebhookRotation(t *testing.T) {
	ctx := testCtx(t)
	s := startServer(t, sqliteEngine, webhookConfig)
	tn := s.newTenant(t, "Rotate Ltd")
	admin := s.webhookAdmin(tn.AdminKey)
	_, key := s.newSource(t, tn, "Web", store.SourceEcommerce)
	rcv := newReceiver(t, ok200)
	created := must(admin.create(ctx, rcv.srv.URL, "consent.granted"))(t)
	rotated := must(admin.rotate(ctx, created.GetWebhook().GetId()))(t)
	if rotated.GetSecret() == created.GetSecret() || rotated.GetWebhook().GetPreviousSecretExpireTime() == nil {
		t.Fatalf("rotate: %v", rotated)
	}
	must(s.client(restTransport, key).RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "0532 555 02 02",
		Types: []izinv1.ConsentType{izinv1.ConsentType_CONSENT_TYPE_SMS}}))(t)
	rcv.waitFor(t, "the delivery", func(hs []hook) bool { return len(hs) == 1 })
	h := rcv.all()[0]
	if n := len(strings.Fields(h.Signature)); n != 2 {
		t.Errorf("signature header %q: want two", h.Signature)
	}
	requireVerified(t, created.GetSecret(), []hook{h})
	requireVerified(t, rotated.GetSecret(), []hook{h})
	if e := verifySignatures(t, "whsec_"+strings.Repeat("A", 43)+"=", []hook{h}); e[0] == "" {
		t.Error("a foreign secret verified")
	}
}

// A receiver that answers 410 Gone gets nothing more: the webhook is
// disabled, and the listing says why.
func TestWebhookGone(t *testing.T) {
	ctx := testCtx(t)
	s := startServer(t, sqliteEngine, webhookConfig)
	tn := s.newTenant(t, "Gone Ltd")
	admin := s.webhookAdmin(tn.AdminKey)
	_, key := s.newSource(t, tn, "Web", store.SourceEcommerce)
	c := s.client(restTransport, key)
	rcv := newReceiver(t, func(string, int) int { return http.StatusGone })
	must(admin.create(ctx, rcv.srv.URL, "consent.granted"))(t)
	must(c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "0532 555 03 03", Types: smsAndCall}))(t)
	rcv.waitFor(t, "the first request", func(hs []hook) bool { return len(hs) >= 1 })
	must(c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: "0532 555 03 04", Types: smsAndCall}))(t)
	rcv.quiet(t)
	if n := len(rcv.all()); n != 1 {
		t.Errorf("%d requests after a 410, want 1", n)
	}
	ws := must(admin.list(ctx))(t)
	if len(ws.GetWebhooks()) != 1 || ws.GetWebhooks()[0].GetDisableTime() == nil || ws.GetWebhooks()[0].GetDisabledReason() == "" {
		t.Errorf("webhooks after a 410: %v", ws.GetWebhooks())
	}
	if err := admin.delete(ctx, ws.GetWebhooks()[0].GetId()); err != nil {
		t.Fatal(err)
	}
	if ws := must(admin.list(ctx))(t); len(ws.GetWebhooks()) != 0 {
		t.Errorf("after delete: %v", ws.GetWebhooks())
	}
}

// Without --webhook-allow-private, loopback, private and http targets are
// refused when the webhook is created.
func TestWebhookPrivateTargetRefused(t *testing.T) {
	ctx := testCtx(t)
	s := startServer(t, sqliteEngine)
	tn := s.newTenant(t, "Private Ltd")
	admin := s.webhookAdmin(tn.AdminKey)
	for _, url := range []string{"http://127.0.0.1:8080/x", "https://127.0.0.1/x", "https://10.0.0.7/x", "https://[::1]/x",
		"https://169.254.169.254/latest/meta-data", "https://localhost/x"} {
		_, err := admin.create(ctx, url, "consent.granted")
		var ae *apiError
		if !errors.As(err, &ae) || ae.Code != codes.InvalidArgument || !ae.HasField("url") {
			t.Errorf("create %s: %v, want INVALID_ARGUMENT on url", url, err)
		}
	}
	_, err := admin.create(ctx, "https://hooks.example.com/x", "consent.granted", "consent.nope")
	var ae *apiError
	if !errors.As(err, &ae) || ae.Code != codes.InvalidArgument {
		t.Errorf("create with an unknown event: %v, want INVALID_ARGUMENT", err)
	}
	must(admin.create(ctx, "https://hooks.example.com/x", "consent.granted"))(t)
}

// Two servers on one PostgreSQL database deliver each event once.
func TestWebhookTwoDispatchers(t *testing.T) {
	ctx := testCtx(t)
	url := databaseURL(t, postgresEngine)
	s1 := startServerAt(t, postgresEngine, url, webhookConfig)
	s2 := startServerAt(t, postgresEngine, url, webhookConfig)
	tn := s1.newTenant(t, "Replicas Ltd")
	_, key := s1.newSource(t, tn, "Web", store.SourceEcommerce)
	rcv := newReceiver(t, ok200)
	must(s1.webhookAdmin(tn.AdminKey).create(ctx, rcv.srv.URL, "consent.granted"))(t)
	events := 0
	for i := range 10 {
		c := []client{s1.client(restTransport, key), s2.client(restTransport, key)}[i%2]
		res := must(c.RecordConsent(ctx, &izinv1.RecordConsentRequest{Recipient: fmt.Sprintf("0532 555 10 %02d", i),
			Types: smsAndCall}))(t)
		events += len(res.GetEvents())
	}
	rcv.waitFor(t, "every event", func(hs []hook) bool { return len(hs) >= events })
	rcv.quiet(t)
	seen := map[string]int{}
	for _, h := range rcv.all() {
		seen[h.ID]++
	}
	if len(rcv.all()) != events || len(seen) != events {
		t.Errorf("%d requests over %d ids, want %d events once each", len(rcv.all()), len(seen), events)
	}
}

// A verification's end reaches a webhook as the Verification the API
// shows, and its consent as consent.granted.
func TestWebhookVerificationEvents(t *testing.T) {
	ctx := testCtx(t)
	s := startServer(t, sqliteEngine, webhookConfig)
	tn := s.newTenant(t, "Verify Ltd")
	_, key := s.newSource(t, tn, "Store", store.SourceStore)
	c, admin := s.client(restTransport, key), s.client(restTransport, tn.AdminKey)
	rcv := newReceiver(t, ok200)
	created := must(s.webhookAdmin(tn.AdminKey).create(ctx, rcv.srv.URL, "verification.verified", "verification.failed", "consent.granted"))(t)

	const okTo, badTo = "0532 555 04 01", "0532 555 04 02"
	v := must(c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: okTo, Types: smsAndCall,
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE}))(t).GetVerification()
	must(c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: v.GetId(), Code: codeOf(ctx, t, admin, okTo, v.GetId())}))(t)
	bad := must(c.StartVerification(ctx, &izinv1.StartVerificationRequest{Recipient: badTo, Types: smsAndCall,
		Method: izinv1.VerificationMethod_VERIFICATION_METHOD_SMS_CODE}))(t).GetVerification()
	wrong := wrongCode(codeOf(ctx, t, admin, badTo, bad.GetId()))
	for range bad.GetAttemptsLeft() {
		_, _ = c.SubmitCode(ctx, &izinv1.SubmitCodeRequest{Id: bad.GetId(), Code: wrong})
	}
	// verified, failed, and the two consents (SMS, CALL) of the verified one.
	rcv.waitFor(t, "four events", func(hs []hook) bool { return len(hs) >= 4 })
	rcv.quiet(t)
	byType := map[string]map[string]any{}
	for _, h := range rcv.all() {
		typ, data := bodyType(t, h.Body)
		byType[typ] = data
	}
	if d := byType["verification.verified"]; d["id"] != v.GetId() || d["status"] != "VERIFICATION_STATUS_VERIFIED" {
		t.Errorf("verification.verified data: %v", d)
	}
	if d := byType["verification.failed"]; d["id"] != bad.GetId() || d["status"] != "VERIFICATION_STATUS_FAILED" {
		t.Errorf("verification.failed data: %v", d)
	}
	if ev, _ := byType["consent.granted"]["evidence"].(map[string]any); ev["verification_id"] != v.GetId() {
		t.Errorf("consent.granted data: %v", byType["consent.granted"])
	}
	if n := len(rcv.all()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	requireVerified(t, created.GetSecret(), rcv.all())
}
