package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/store"
)

// webhookConfig lets the server reach the test's receiver on loopback, and
// shortens the retry schedule and the poll, so that retries take
// milliseconds.
func webhookConfig(c *app.Config) {
	c.WebhookAllowPrivate = true
	c.WebhookSchedule = []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}
	c.WebhookPoll = 20 * time.Millisecond
}

// hook is one request the receiver got.
type hook struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Status                   int // what the receiver answered
}

// receiver is a webhook endpoint whose answers the test scripts: answer
// gives the status for the n-th request (1-based) of a webhook-id.
type receiver struct {
	srv    *httptest.Server
	answer func(id string, n int) int
	mu     sync.Mutex
	got    []hook
	seen   map[string]int
	ch     chan struct{}
}

func newReceiver(t *testing.T, answer func(id string, n int) int) *receiver {
	r := &receiver{answer: answer, seen: map[string]int{}, ch: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.seen[id]++
		status := r.answer(id, r.seen[id])
		r.got = append(r.got, hook{ID: id, Timestamp: req.Header.Get("webhook-timestamp"),
			Signature: req.Header.Get("webhook-signature"), Body: body, Status: status})
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func ok200(string, int) int { return http.StatusOK }

func countID(hs []hook, id string) int {
	n := 0
	for _, h := range hs {
		if h.ID == id {
			n++
		}
	}
	return n
}

// delivered lists the requests answered 2xx.
func (r *receiver) delivered() []hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hook
	for _, h := range r.got {
		if h.Status/100 == 2 {
			out = append(out, h)
		}
	}
	return out
}

func (r *receiver) all() []hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hook(nil), r.got...)
}

// waitFor waits, at most 30 s, until cond holds of the requests so far.
func (r *receiver) waitFor(t *testing.T, what string, cond func([]hook) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond(r.all()) {
		select {
		case <-r.ch:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %d requests", what, len(r.all()))
		}
	}
}

// quiet waits a little and fails if any request arrives meanwhile: a
// delivery sent once is not sent again.
func (r *receiver) quiet(t *testing.T) {
	t.Helper()
	n := len(r.all())
	time.Sleep(300 * time.Millisecond) // 15 polls of the dispatcher: enough for a stray retry to show
	if m := len(r.all()); m != n {
		t.Errorf("%d more requests arrived after the last expected one", m-n)
	}
}

// verifierDir holds the independent verifier (npm standardwebhooks),
// installed by scripts/webhook-verifier.sh (make go-test runs it).
var verifierDir = filepath.Join("testdata", "webhook-verifier")

// verifySignatures checks each hook's signature against secret with the
// standardwebhooks package, and returns one error text per hook ("" when
// it verifies).
func verifySignatures(t *testing.T, secret string, hooks []hook) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(verifierDir, "node_modules", "standardwebhooks")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the webhook verifier is not installed (scripts/webhook-verifier.sh): %v", err)
		}
		t.Skipf("the webhook verifier is not installed; run scripts/webhook-verifier.sh (%v)", err)
	}
	type msg struct {
		Secret    string `json:"secret"`
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Signature string `json:"signature"`
		Body      string `json:"body"`
	}
	in := make([]msg, len(hooks))
	for i, h := range hooks {
		in[i] = msg{secret, h.ID, h.Timestamp, h.Signature, string(h.Body)}
	}
	raw, _ := json.Marshal(in)
	cmd := exec.Command("node", "verify.mjs")
	cmd.Dir = verifierDir
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.mjs: %v: %s", err, stderr.String())
	}
	var res []struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(hooks) {
		t.Fatalf("verifier answered %s (%v)", out, err)
	}
	errs := make([]string, len(res))
	for i, r := range res {
		if !r.OK {
			errs[i] = r.Error
		}
	}
	return errs
}

func requireVerified(t *testing.T, secret string, hooks []hook) {
	t.Helper()
	for i, e := range verifySignatures(t, secret, hooks) {
		if e != "" {
			t.Errorf("delivery %s (%s): the standardwebhooks package refused its signature: %s", hooks[i].ID, hooks[i].Signature, e)
		}
	}
}

// webhookAdmin is the AdminService's webhook calls over REST.
type webhookAdmin struct{ c *restClient }

func (s *server) webhookAdmin(key string) webhookAdmin {
	return webhookAdmin{c: s.client(restTransport, key).(*restClient)}
}

func (a webhookAdmin) create(ctx context.Context, url string, events ...string) (*izinv1.CreateWebhookResponse, error) {
	return rest[izinv1.CreateWebhookResponse](func(out proto.Message) error {
		return a.c.post(ctx, "/v1/webhooks", &izinv1.CreateWebhookRequest{Url: url, Events: events}, out)
	})
}

func (a webhookAdmin) rotate(ctx context.Context, id string) (*izinv1.RotateWebhookSecretResponse, error) {
	return rest[izinv1.RotateWebhookSecretResponse](func(out proto.Message) error {
		return a.c.post(ctx, "/v1/webhooks/"+id+":rotate", &izinv1.RotateWebhookSecretRequest{}, out)
	})
}

func (a webhookAdmin) replay(ctx context.Context, id string, r *izinv1.ReplayWebhookDeliveriesRequest) (*izinv1.ReplayWebhookDeliveriesResponse, error) {
	return rest[izinv1.ReplayWebhookDeliveriesResponse](func(out proto.Message) error {
		return a.c.post(ctx, "/v1/webhooks/"+id+":replay", r, out)
	})
}

func (a webhookAdmin) list(ctx context.Context) (*izinv1.ListWebhooksResponse, error) {
	return rest[izinv1.ListWebhooksResponse](func(out proto.Message) error { return a.c.get(ctx, "/v1/webhooks", nil, out) })
}

func (a webhookAdmin) deliveries(ctx context.Context, id string) (*izinv1.ListWebhookDeliveriesResponse, error) {
	return rest[izinv1.ListWebhookDeliveriesResponse](func(out proto.Message) error {
		return a.c.get(ctx, "/v1/webhooks/"+id+"/deliveries", nil, out)
	})
}

func (a webhookAdmin) delete(ctx context.Context, id string) error {
	return a.c.do(ctx, http.MethodDelete, "/v1/webhooks/"+id, nil, &izinv1.DeleteWebhookResponse{})
}

// bodyType reads the type of a delivery's body.
func bodyType(t *testing.T, b []byte) (typ string, data map[string]any) {
	t.Helper()
	var env struct {
		Type      string         `json:"type"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Timestamp.IsZero() {
		t.Fatalf("body %s: %v", b, err)
	}
	return env.Type, env.Data
}

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
