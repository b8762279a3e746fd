package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/store"
)

func testWebhooks(t *testing.T, newStore func(t *testing.T) store.Store) {
	runTests(t, newStore, []test{
		{"Lifecycle", testWebhookLifecycle},
		{"CursorStartsAtHead", testWebhookCursor},
		{"FanOutIsIdempotent", testWebhookFanOut},
		{"ClaimFinishReplay", testWebhookDeliveries},
		{"ConcurrentClaimsAreDisjoint", testWebhookConcurrentClaims},
		{"Notifications", testNotifications},
		{"ExpiredVerifications", testExpiredVerifications},
		{"IYSRefusalNotifies", testIYSRefusalNotifies},
		{"FinishKeepsAReplay", testFinishKeepsAReplay},
	})
}

func newWebhook(t *testing.T, s store.Store, tenantID string, created ...time.Time) *store.Webhook {
	t.Helper()
	w := &store.Webhook{ID: uuid.NewString(), TenantID: tenantID, URL: "https://hooks.example.com/izin",
		Events: "consent.granted,consent.rejected", Secret: []byte("sealed-1"), CreatedAt: base}
	if len(created) > 0 {
		w.CreatedAt = created[0]
	}
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	return w
}

func delivery(t *testing.T, w *store.Webhook, key string, created time.Time) *store.WebhookDelivery {
	return &store.WebhookDelivery{ID: "msg_" + newV7(t), WebhookID: w.ID, TenantID: w.TenantID, EventType: "consent.granted",
		EventKey: key, Payload: []byte(`{"type":"consent.granted"}`), State: store.DeliveryPending,
		NextAttemptAt: created, CreatedAt: created}
}

func insertDeliveries(t *testing.T, s store.Store, ds ...*store.WebhookDelivery) {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertWebhookDeliveries(ctx, ds) })
}

func testWebhookLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	other, _ := newTenant(t, s)
	w := newWebhook(t, s, ten.ID)
	got, err := s.GetWebhook(ctx, ten.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "GetWebhook", *got, *w)
	_, err = s.GetWebhook(ctx, other.ID, w.ID)
	wantErr(t, "GetWebhook(other tenant)", err, store.ErrNotFound)

	until := at(24 * time.Hour)
	if err := s.RotateWebhookSecret(ctx, ten.ID, w.ID, []byte("sealed-2"), until); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetWebhook(ctx, ten.ID, w.ID)
	if string(got.Secret) != "sealed-2" || string(got.PreviousSecret) != "sealed-1" || !got.PreviousSecretUntil.Equal(until) {
		t.Errorf("after rotation: secret %q, previous %q until %v", got.Secret, got.PreviousSecret, got.PreviousSecretUntil)
	}
	wantErr(t, "Rotate(other tenant)", s.RotateWebhookSecret(ctx, other.ID, w.ID, nil, until), store.ErrNotFound)

	w2 := newWebhook(t, s, ten.ID, at(time.Minute))
	if err := s.DisableWebhook(ctx, w2.ID, at(time.Hour), "gone"); err != nil {
		t.Fatal(err)
	}
	list, _ := s.ListWebhooks(ctx, ten.ID)
	if len(list) != 2 || list[1].DisabledReason != "gone" {
		t.Errorf("ListWebhooks(tenant) = %+v, want both, the second disabled", list)
	}
	live, _ := s.ListWebhooks(ctx, "")
	if ids := ids(live, func(w *store.Webhook) string { return w.ID }); !slices.Equal(ids, []string{w.ID}) {
		t.Errorf("live webhooks = %v, want only %s", ids, w.ID)
	}
	if err := s.DeleteWebhook(ctx, ten.ID, w.ID, at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Delete twice", s.DeleteWebhook(ctx, ten.ID, w.ID, at(time.Hour)), store.ErrNotFound)
	if list, _ := s.ListWebhooks(ctx, ""); len(list) != 0 {
		t.Errorf("after delete, live webhooks = %d", len(list))
	}
}

func testWebhookCursor(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertConsentEvents(ctx, []*store.ConsentEvent{event(ten, b, "+905321112233", 1), event(ten, b, "+905321112233", 2)}); err != nil {
			return err
		}
		return tx.SetChainHead(ctx, store.ChainHead{TenantID: ten.ID, Seq: 2, Hash: "hash-2"})
	})
	w := newWebhook(t, s, ten.ID)
	if w.ConsentCursor != 2 {
		t.Errorf("cursor of a new webhook = %d, want the head's 2", w.ConsentCursor)
	}
	evs, err := s.ConsentEventsAfter(ctx, ten.ID, 1, 10)
	if err != nil || len(evs) != 1 || evs[0].Seq != 2 {
		t.Errorf("ConsentEventsAfter(1) = %v, %v; want seq 2", evs, err)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AdvanceWebhookCursor(ctx, w.ID, 5) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AdvanceWebhookCursor(ctx, w.ID, 3) })
	if got, _ := s.GetWebhook(ctx, ten.ID, w.ID); got.ConsentCursor != 5 {
		t.Errorf("cursor = %d, want 5 (it never moves back)", got.ConsentCursor)
	}
}

func testWebhookFanOut(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	w := newWebhook(t, s, ten.ID)
	d := delivery(t, w, "seq:1", base)
	insertDeliveries(t, s, d)
	insertDeliveries(t, s, delivery(t, w, "seq:1", base), delivery(t, w, "seq:2", base))
	got, err := s.ListWebhookDeliveries(ctx, store.DeliveryFilter{TenantID: ten.ID, WebhookID: w.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ID != d.ID {
		t.Errorf("deliveries = %v, want two, seq:1 keeping its first id %s", ids(got, func(d *store.WebhookDelivery) string { return d.EventKey + "=" + d.ID }), d.ID)
	}
}

func testWebhookDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	w := newWebhook(t, s, ten.ID)
	due := delivery(t, w, "seq:1", base)
	later := delivery(t, w, "seq:2", base.Add(time.Hour))
	insertDeliveries(t, s, due, later)

	lease := base.Add(30 * time.Second)
	claimed, err := s.ClaimWebhookDeliveries(ctx, base, lease, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != due.ID || claimed[0].Attempts != 1 {
		t.Fatalf("claim = %+v, %v; want %s with one attempt", claimed, err, due.ID)
	}
	if again, _ := s.ClaimWebhookDeliveries(ctx, base.Add(time.Second), lease, 10); len(again) != 0 {
		t.Errorf("claimed under lease: %d", len(again))
	}
	d := claimed[0]
	d.State, d.LastStatus, d.DeliveredAt = store.DeliveryDelivered, 200, ptr(base.Add(time.Second))
	a := &store.WebhookAttempt{DeliveryID: d.ID, At: base, StatusCode: 200, DurationMS: 12}
	if err := s.FinishWebhookDelivery(ctx, &d, a); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimWebhookDeliveries(ctx, base.Add(time.Minute), base.Add(2*time.Minute), 10); len(again) != 0 {
		t.Errorf("a delivered delivery was claimed")
	}
	atts, err := s.WebhookAttempts(ctx, []string{d.ID})
	if err != nil || len(atts) != 1 || atts[0].StatusCode != 200 || atts[0].DurationMS != 12 {
		t.Errorf("attempts = %+v, %v", atts, err)
	}

	// Replay by id and by range: same ids, pending again, due now.
	now := base.Add(2 * time.Hour)
	n, err := s.ReplayWebhookDeliveries(ctx, store.ReplayQuery{TenantID: ten.ID, WebhookID: w.ID, IDs: []string{d.ID}, Now: now})
	if err != nil || n != 1 {
		t.Fatalf("replay by id = %d, %v", n, err)
	}
	n, err = s.ReplayWebhookDeliveries(ctx, store.ReplayQuery{TenantID: ten.ID, WebhookID: w.ID, Since: base, Until: base.Add(90 * time.Minute), Now: now})
	if err != nil || n != 2 {
		t.Fatalf("replay by range = %d, %v; want 2", n, err)
	}
	n, _ = s.ReplayWebhookDeliveries(ctx, store.ReplayQuery{TenantID: uuid.NewString(), WebhookID: w.ID, IDs: []string{d.ID}, Now: now})
	if n != 0 {
		t.Errorf("another tenant replayed %d", n)
	}
	claimed, _ = s.ClaimWebhookDeliveries(ctx, now, now.Add(time.Minute), 10)
	if got := sorted(ids(claimed, func(d *store.WebhookDelivery) string { return d.ID })); !slices.Equal(got, sorted([]string{due.ID, later.ID})) {
		t.Errorf("after replay claimed %v", got)
	}
}

func testWebhookConcurrentClaims(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	w := newWebhook(t, s, ten.ID)
	var ds []*store.WebhookDelivery
	for i := range 40 {
		ds = append(ds, delivery(t, w, fmt.Sprintf("seq:%d", i), base))
	}
	insertDeliveries(t, s, ds...)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ClaimWebhookDeliveries(ctx, base, base.Add(time.Minute), 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(ds) {
		t.Errorf("claimed %d of %d", len(seen), len(ds))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
}

func testNotifications(t *testing.T, s store.Store) {
	ten, _ := newTenant(t, s)
	n1 := &store.Notification{ID: newV7(t), TenantID: ten.ID, Type: "verification.verified", RefID: "v1", CreatedAt: base}
	n2 := &store.Notification{ID: newV7(t), TenantID: ten.ID, Type: "verification.expired", RefID: "v2", CreatedAt: base.Add(time.Second)}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.InsertNotifications(ctx, []*store.Notification{n1, n2})
	})
	got, err := s.UnfannedNotifications(t.Context(), 1)
	if err != nil || len(got) != 1 || got[0].ID != n1.ID {
		t.Fatalf("unfanned = %+v, %v; want %s first", got, err, n1.ID)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.MarkNotificationsFanned(ctx, []string{n1.ID}, base)
	})
	got, err = s.UnfannedNotifications(t.Context(), 10)
	if err != nil || len(got) != 1 || got[0].ID != n2.ID {
		t.Errorf("unfanned after fan-out = %+v, %v; want only %s", got, err, n2.ID)
	}
}

func testExpiredVerifications(t *testing.T, s store.Store) {
	ten, b := newTenant(t, s)
	expired := verification(ten, b, nil, base)        // expires at base+3m
	fresh := verification(ten, b, nil, at(time.Hour)) // not yet
	done := verification(ten, b, nil, base)
	done.Status = store.VerificationVerified
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, v := range []*store.Verification{expired, fresh, done} {
			if err := tx.InsertVerification(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.LockExpiredVerifications(ctx, at(10*time.Minute), 10)
		if err != nil {
			return err
		}
		if ids := ids(got, func(v *store.Verification) string { return v.ID }); !slices.Equal(ids, []string{expired.ID}) {
			t.Errorf("expired = %v, want only %s", ids, expired.ID)
		}
		return nil
	})
}

// The transaction that refuses an upload writes its notification; a
// repeated finish writes none.
func testIYSRefusalNotifies(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, b := newTenant(t, s)
	insertUploads(t, s, upload(ten, b, "+905320000001", store.ConsentSMS, at(-time.Hour)),
		upload(ten, b, "+905320000002", store.ConsentSMS, at(-time.Hour)))
	got, _ := s.ClaimIYSUploads(ctx, ten.ID, b.ID, base, base.Add(time.Minute), 10)
	if len(got) != 2 {
		t.Fatalf("claimed %d", len(got))
	}
	got[0].State, got[0].ErrorCode, got[0].UpdatedAt = store.IYSRefused, "H178", base
	got[1].State, got[1].UpdatedAt = store.IYSAccepted, base
	for range 2 {
		if _, err := s.FinishIYSUploads(ctx, got, store.IYSPending, ""); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := s.UnfannedNotifications(ctx, 10)
	if err != nil || len(ns) != 1 || ns[0].Type != store.NotifyIYSRefused || ns[0].RefID != got[0].EventID || ns[0].TenantID != ten.ID {
		t.Errorf("notifications = %+v, %v; want one iys.refused of %s", ns, err, got[0].EventID)
	}
	u, err := s.IYSUploadByEvent(ctx, ten.ID, got[0].EventID)
	if err != nil || u.ErrorCode != "H178" {
		t.Errorf("IYSUploadByEvent = %+v, %v", u, err)
	}
}

// A send that finishes after a replay of its delivery records its attempt
// but leaves the replay pending.
func testFinishKeepsAReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	ten, _ := newTenant(t, s)
	w := newWebhook(t, s, ten.ID)
	insertDeliveries(t, s, delivery(t, w, "seq:1", base))
	claimed, err := s.ClaimWebhookDeliveries(ctx, base, base.Add(time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	q := store.ReplayQuery{TenantID: ten.ID, WebhookID: w.ID, IDs: []string{claimed[0].ID}, Now: base.Add(time.Second)}
	if n, err := s.ReplayWebhookDeliveries(ctx, q); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	d := claimed[0]
	d.State, d.LastStatus, d.DeliveredAt = store.DeliveryDelivered, 200, ptr(base.Add(2*time.Second))
	if err := s.FinishWebhookDelivery(ctx, &d, &store.WebhookAttempt{DeliveryID: d.ID, At: base, StatusCode: 200}); err != nil {
		t.Fatal(err)
	}
	again, _ := s.ClaimWebhookDeliveries(ctx, base.Add(3*time.Second), base.Add(time.Minute), 10)
	if len(again) != 1 || again[0].ID != d.ID {
		t.Errorf("after a late finish the replay is not due: %v", again)
	}
	if atts, _ := s.WebhookAttempts(ctx, []string{d.ID}); len(atts) != 1 {
		t.Errorf("attempts = %d, want the late one recorded", len(atts))
	}
}
