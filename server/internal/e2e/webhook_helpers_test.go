package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/app"
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
