package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/webhook"
)

// verify checks a Standard Webhooks signature header against a secret.
func verify(t *testing.T, secret string, r received) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.id + "." + r.ts + "."))
	mac.Write(r.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(r.sig) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func TestDispatcher(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			t.Run("RetriesThenDeliversOnce", func(t *testing.T) { testRetries(t, newEnv(t, eng.url(t))) })
			t.Run("GoneStops", func(t *testing.T) { testGone(t, newEnv(t, eng.url(t))) })
			t.Run("RotationSignsTwice", func(t *testing.T) { testRotation(t, newEnv(t, eng.url(t))) })
			t.Run("ReplayKeepsID", func(t *testing.T) { testReplay(t, newEnv(t, eng.url(t))) })
			t.Run("Notifications", func(t *testing.T) { testNotifications(t, newEnv(t, eng.url(t))) })
		})
	}
}

func testRetries(t *testing.T, e *env) {
	rcv := &receiver{answers: []int{500, 500}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	e.consent(t, store.StatusGranted) // before the webhook: not sent
	w, secret, err := e.svc.Create(t.Context(), e.tenant, srv.URL, []string{webhook.ConsentGranted, webhook.ConsentRejected})
	if err != nil {
		t.Fatal(err)
	}
	e.consent(t, store.StatusGranted)
	e.consent(t, store.StatusRejected)
	d := e.dispatcher(t)
	rounds(t, d, e.clock, 5)

	got := rcv.requests()
	// Two events; the first failed twice: four requests, three with one id.
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	byID := map[string]int{}
	for _, r := range got {
		byID[r.id]++
		if !verify(t, secret, r) {
			t.Errorf("signature %q does not verify", r.sig)
		}
		if !strings.HasPrefix(r.id, "msg_") {
			t.Errorf("webhook-id %q", r.id)
		}
	}
	if len(byID) != 2 {
		t.Errorf("ids %v, want two events", byID)
	}
	bodies := map[string][]byte{}
	for _, r := range got {
		if b, ok := bodies[r.id]; ok && !bytes.Equal(b, r.body) {
			t.Errorf("a retry of %s sent another body", r.id)
		}
		bodies[r.id] = r.body
	}
	var types []string
	for _, b := range bodies {
		types = append(types, string(b[:bytes.IndexByte(b, ',')]))
	}
	slices.Sort(types)
	if want := []string{`{"type":"consent.granted"`, `{"type":"consent.rejected"`}; !slices.Equal(types, want) {
		t.Errorf("bodies start %q, want %q", types, want)
	}
	ds, _, err := e.svc.Deliveries(t.Context(), e.tenant, w.ID, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	attempts := 0
	for _, dl := range ds {
		if dl.State != store.DeliveryDelivered {
			t.Errorf("delivery %s (%s) in state %d", dl.ID, dl.EventType, dl.State)
		}
		attempts += len(dl.Attempts)
		// Each event met one 500 first; the receiver's answer is kept short.
		if a := dl.Attempts[0]; a.StatusCode != 500 || len(a.Error) > 210 || !strings.HasPrefix(a.Error, "500") {
			t.Errorf("first attempt %+v", a)
		}
	}
	if attempts != 4 {
		t.Errorf("%d attempts recorded, want 4", attempts)
	}
}

func testGone(t *testing.T, e *env) {
	rcv := &receiver{answers: []int{410}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	w, _, err := e.svc.Create(t.Context(), e.tenant, srv.URL, []string{webhook.ConsentGranted})
	if err != nil {
		t.Fatal(err)
	}
	e.consent(t, store.StatusGranted)
	d := e.dispatcher(t)
	rounds(t, d, e.clock, 2)
	e.consent(t, store.StatusGranted)
	rounds(t, d, e.clock, 2)
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("%d requests after a 410, want 1", n)
	}
	ws, _ := e.svc.List(t.Context(), e.tenant)
	if len(ws) != 1 || ws[0].ID != w.ID || ws[0].DisabledAt == nil {
		t.Errorf("webhook after 410: %+v", ws)
	}
}

func testRotation(t *testing.T, e *env) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	w, old, err := e.svc.Create(t.Context(), e.tenant, srv.URL, []string{webhook.ConsentGranted})
	if err != nil {
		t.Fatal(err)
	}
	_, fresh, err := e.svc.Rotate(t.Context(), e.tenant, w.ID)
	if err != nil || fresh == old {
		t.Fatalf("Rotate: %v", err)
	}
	e.consent(t, store.StatusGranted)
	d := e.dispatcher(t)
	rounds(t, d, e.clock, 1)
	e.clock.add(25 * time.Hour) // past the grace period
	e.consent(t, store.StatusGranted)
	rounds(t, d, e.clock, 1)
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	if n := len(strings.Fields(got[0].sig)); n != 2 || !verify(t, old, got[0]) || !verify(t, fresh, got[0]) {
		t.Errorf("within the grace period: %d signatures %q, want both secrets", n, got[0].sig)
	}
	if n := len(strings.Fields(got[1].sig)); n != 1 || verify(t, old, got[1]) || !verify(t, fresh, got[1]) {
		t.Errorf("after the grace period: %q, want the new secret only", got[1].sig)
	}
}

func testReplay(t *testing.T, e *env) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	w, _, err := e.svc.Create(t.Context(), e.tenant, srv.URL, []string{webhook.ConsentGranted, webhook.ConsentRejected})
	if err != nil {
		t.Fatal(err)
	}
	start := e.clock.now()
	e.consent(t, store.StatusGranted)
	e.consent(t, store.StatusRejected)
	d := e.dispatcher(t)
	rounds(t, d, e.clock, 1)
	first := rcv.requests()
	if len(first) != 2 {
		t.Fatalf("%d requests", len(first))
	}
	n, err := e.svc.Replay(t.Context(), e.tenant, w.ID, webhook.ReplayRequest{DeliveryIDs: []string{first[1].id}})
	if err != nil || n != 1 {
		t.Fatalf("replay by id: %d, %v", n, err)
	}
	rounds(t, d, e.clock, 1)
	n, err = e.svc.Replay(t.Context(), e.tenant, w.ID, webhook.ReplayRequest{Since: start, Until: start.Add(time.Minute)})
	if err != nil || n != 2 {
		t.Fatalf("replay by range: %d, %v", n, err)
	}
	rounds(t, d, e.clock, 1)
	got := rcv.requests()
	if len(got) != 5 || got[2].id != first[1].id || !bytes.Equal(got[2].body, first[1].body) {
		t.Errorf("replays: %d requests; the replay by id sent %q, want %q with the same body", len(got), got[min(2, len(got)-1)].id, first[1].id)
	}
	if _, err := e.svc.Replay(t.Context(), e.tenant, w.ID, webhook.ReplayRequest{}); err == nil {
		t.Error("a replay naming nothing passed")
	}
}

func testNotifications(t *testing.T, e *env) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	if _, _, err := e.svc.Create(t.Context(), e.tenant, srv.URL, []string{webhook.VerificationVerified}); err != nil {
		t.Fatal(err)
	}
	ns := []*store.Notification{
		{ID: uuid.NewString(), TenantID: e.tenant, Type: webhook.VerificationVerified, RefID: "ver-1", CreatedAt: e.clock.now()},
		{ID: uuid.NewString(), TenantID: e.tenant, Type: webhook.VerificationExpired, RefID: "ver-2", CreatedAt: e.clock.now()},
	}
	if err := e.st.InTx(t.Context(), func(ctx context.Context, tx store.Tx) error { return tx.InsertNotifications(ctx, ns) }); err != nil {
		t.Fatal(err)
	}
	e.consent(t, store.StatusGranted) // not subscribed
	rounds(t, e.dispatcher(t), e.clock, 2)
	got := rcv.requests()
	if len(got) != 1 || !bytes.Contains(got[0].body, []byte(`"type":"verification.verified"`)) || !bytes.Contains(got[0].body, []byte(`"ver-1"`)) {
		t.Errorf("requests %d, first %s", len(got), got[0].body)
	}
}

// Two dispatchers on one PostgreSQL database deliver each event once.
func TestTwoDispatchersDeliverOnce(t *testing.T) {
	e := newEnv(t, pg.DatabaseURL(t))
	var count atomic.Int64
	ids := sync.Map{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		if _, dup := ids.LoadOrStore(r.Header.Get("webhook-id"), true); dup {
			t.Errorf("webhook-id %s delivered twice", r.Header.Get("webhook-id"))
		}
	}))
	defer srv.Close()
	if _, _, err := e.svc.Create(t.Context(), e.tenant, srv.URL, []string{webhook.ConsentGranted}); err != nil {
		t.Fatal(err)
	}
	const events = 60
	for range events {
		e.consent(t, store.StatusGranted)
	}
	var wg sync.WaitGroup
	for range 2 {
		d := e.dispatcher(t)
		d.Batch = 7
		wg.Go(func() {
			for range 20 {
				if _, err := d.RunOnce(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := count.Load(); n != events {
		t.Errorf("%d deliveries, want %d", n, events)
	}
}
