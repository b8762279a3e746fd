package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/izinhq/izin/server/internal/seal"
	"github.com/izinhq/izin/server/internal/store"
)

// Renderer renders an event's data in the API's JSON form (protojson of
// the izin.v1 message). It lives with the proto types, in grpcserver.
type Renderer interface {
	ConsentEvent(ctx context.Context, e *store.ConsentEvent) ([]byte, error)
	// Notification renders the record a notification is about.
	Notification(ctx context.Context, n *store.Notification) ([]byte, error)
}

// DispatcherStore is what the dispatcher reads and writes.
type DispatcherStore interface {
	store.WebhookStore
	store.Transactor
	// ConsentEventsAfter reads the consent events to fan out (ConsentReader).
	ConsentEventsAfter(ctx context.Context, tenantID string, afterSeq int64, limit int) ([]store.ConsentEvent, error)
}

// Dispatcher fans events out to deliveries and sends them. Several may run
// on one database (replicas): fan-out is idempotent, and each due delivery
// is leased to one of them.
type Dispatcher struct {
	store    DispatcherStore
	render   Renderer
	sealer   *seal.Sealer
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	Schedule []time.Duration // waits between attempts; Schedule by default
	// Lease is how long a claimed delivery is ours. Each webhook's
	// deliveries of a batch go in order, each POST bounded by half the
	// lease and by what is left of it, so a lease never runs out under a
	// delivery still being sent.
	Lease time.Duration
	Poll  time.Duration
	Batch int
	// Heartbeat, if set, is called after each claim and send, so that
	// readiness can tell a stuck dispatcher.
	Heartbeat func()
	wake      chan struct{}
}

// NewDispatcher returns a dispatcher with the default schedule. client is
// NewClient's, unless a test needs another.
func NewDispatcher(s DispatcherStore, r Renderer, sealer *seal.Sealer, client *http.Client, log *slog.Logger, now func() time.Time) *Dispatcher {
	return &Dispatcher{store: s, render: r, sealer: sealer, client: client, log: log, now: now,
		Schedule: Schedule, Lease: time.Minute, Poll: time.Second, Batch: 20, wake: make(chan struct{}, 1)}
}

// Wake makes the dispatcher look now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.Poll)
	defer t.Stop()
	for {
		for {
			n, err := d.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.log.Error("webhook: dispatch", "err", err)
			}
			if n < d.Batch || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

// RunOnce fans out what is new and sends one batch of due deliveries; it
// returns how many it sent.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	hooks, err := d.store.ListWebhooks(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("list webhooks: %w", err)
	}
	for i := range hooks {
		if err := d.fanOutConsent(ctx, &hooks[i]); err != nil {
			return 0, err
		}
	}
	if err := d.fanOutNotifications(ctx, hooks); err != nil {
		return 0, err
	}
	return d.deliver(ctx)
}

func (d *Dispatcher) beat() {
	if d.Heartbeat != nil {
		d.Heartbeat()
	}
}

// envelope wraps an event's data, Standard Webhooks style.
func envelope(typ string, at time.Time, data []byte) ([]byte, error) {
	return json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{typ, at.UTC().Format(time.RFC3339Nano), data})
}

func (d *Dispatcher) newDelivery(w *store.Webhook, typ, key string, payload []byte, now time.Time) (*store.WebhookDelivery, error) {
	id, err := uuid.NewV7() // time-ordered: listing by id is listing by time
	if err != nil {
		return nil, err
	}
	return &store.WebhookDelivery{ID: "msg_" + strings.ReplaceAll(id.String(), "-", ""), WebhookID: w.ID, TenantID: w.TenantID,
		EventType: typ, EventKey: key, Payload: payload, State: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now}, nil
}

// fanOutConsent turns the tenant's consent events after the webhook's
// cursor into deliveries and moves the cursor, in one transaction.
func (d *Dispatcher) fanOutConsent(ctx context.Context, w *store.Webhook) error {
	if !subscribes(w, ConsentGranted) && !subscribes(w, ConsentRejected) {
		return nil
	}
	for {
		evs, err := d.store.ConsentEventsAfter(ctx, w.TenantID, w.ConsentCursor, d.Batch)
		if err != nil || len(evs) == 0 {
			return err
		}
		now := d.now().UTC()
		var ds []*store.WebhookDelivery
		for i := range evs {
			e := &evs[i]
			typ := consentEventType(e)
			if !subscribes(w, typ) {
				continue
			}
			data, err := d.render.ConsentEvent(ctx, e)
			if err != nil {
				return fmt.Errorf("render event %s: %w", e.ID, err)
			}
			body, err := envelope(typ, e.CreatedAt, data)
			if err != nil {
				return err
			}
			dl, err := d.newDelivery(w, typ, "seq:"+strconv.FormatInt(e.Seq, 10), body, now)
			if err != nil {
				return err
			}
			ds = append(ds, dl)
		}
		last := evs[len(evs)-1].Seq
		err = d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.InsertWebhookDeliveries(ctx, ds); err != nil {
				return err
			}
			return tx.AdvanceWebhookCursor(ctx, w.ID, last)
		})
		if err != nil {
			return fmt.Errorf("fan out consent events: %w", err)
		}
		w.ConsentCursor = last
		if len(evs) < d.Batch {
			return nil
		}
	}
}

// fanOutNotifications turns new notifications into deliveries to the
// tenant's subscribed webhooks and marks them fanned out.
func (d *Dispatcher) fanOutNotifications(ctx context.Context, hooks []store.Webhook) error {
	byTenant := make(map[string][]*store.Webhook)
	for i := range hooks {
		byTenant[hooks[i].TenantID] = append(byTenant[hooks[i].TenantID], &hooks[i])
	}
	ns, err := d.store.UnfannedNotifications(ctx, d.Batch)
	if err != nil || len(ns) == 0 {
		return err
	}
	now := d.now().UTC()
	var ds []*store.WebhookDelivery
	ids := make([]string, len(ns))
	for i := range ns {
		n := &ns[i]
		ids[i] = n.ID
		var body []byte
		for _, w := range byTenant[n.TenantID] {
			if !subscribes(w, n.Type) {
				continue
			}
			if body == nil {
				data, err := d.render.Notification(ctx, n)
				if err != nil {
					return fmt.Errorf("render notification %s: %w", n.ID, err)
				}
				if body, err = envelope(n.Type, n.CreatedAt, data); err != nil {
					return err
				}
			}
			dl, err := d.newDelivery(w, n.Type, "notification:"+n.ID, body, now)
			if err != nil {
				return err
			}
			ds = append(ds, dl)
		}
	}
	return d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.InsertWebhookDeliveries(ctx, ds); err != nil {
			return err
		}
		return tx.MarkNotificationsFanned(ctx, ids, now)
	})
}

// deliver claims a batch of due deliveries and sends them: each webhook's
// in order, one at a time, the webhooks at once.
func (d *Dispatcher) deliver(ctx context.Context) (int, error) {
	now := d.now()
	ds, err := d.store.ClaimWebhookDeliveries(ctx, now, now.Add(d.Lease), d.Batch)
	if err != nil {
		return 0, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	d.beat()
	var order []string
	byHook := make(map[string][]*store.WebhookDelivery)
	for i := range ds {
		id := ds[i].WebhookID
		if _, ok := byHook[id]; !ok {
			order = append(order, id)
		}
		byHook[id] = append(byHook[id], &ds[i])
	}
	var wg sync.WaitGroup
	for _, id := range order {
		batch := byHook[id]
		w, err := d.store.GetWebhook(ctx, batch[0].TenantID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			w = nil // deleted: its deliveries fail below
		case err != nil:
			// Not known now: the lease runs out and a later round sends them.
			d.log.Error("webhook: read webhook", "webhook_id", id, "err", err)
			continue
		}
		wg.Go(func() { d.sendAll(ctx, w, batch, now.Add(d.Lease)) })
	}
	wg.Wait()
	return len(ds), nil
}

// minPost is the least time left under the lease worth starting a POST
// with; the deliveries left are sent after the lease, by the next claim.
const minPost = time.Second

// sendAll sends one webhook's deliveries in order. After a 410 the rest
// are not sent: the webhook is disabled.
func (d *Dispatcher) sendAll(ctx context.Context, w *store.Webhook, ds []*store.WebhookDelivery, leaseEnd time.Time) {
	for _, dl := range ds {
		left := leaseEnd.Sub(d.now())
		if left < minPost || ctx.Err() != nil {
			return // the lease runs out and another round sends them
		}
		d.send(ctx, w, dl, min(d.Lease/2, left-minPost/2))
		d.beat()
		if dl.State == store.DeliveryGone && w != nil {
			now := d.now()
			w.DisabledAt, w.DisabledReason = &now, gone
		}
	}
}

// snippetLen bounds what is kept of a receiver's answer.
const snippetLen = 200

// gone is the reason a webhook is disabled after a 410.
const gone = "the receiver answered 410 Gone"

// send makes one attempt of dl, bounded by timeout, and records it.
func (d *Dispatcher) send(ctx context.Context, w *store.Webhook, dl *store.WebhookDelivery, timeout time.Duration) {
	start := d.now()
	att := &store.WebhookAttempt{DeliveryID: dl.ID, At: start.UTC()}
	status, errText := 0, ""
	switch {
	case w == nil:
		errText = "the webhook was deleted"
	case w.DisabledAt != nil:
		errText = "the webhook is disabled: " + w.DisabledReason
	default:
		status, errText = d.post(ctx, w, dl, start, timeout)
	}
	if ctx.Err() != nil && status == 0 {
		return // shutting down: the lease runs out and another round retries
	}
	now := d.now().UTC()
	att.StatusCode, att.Error, att.DurationMS = status, errText, now.Sub(start).Milliseconds()
	dl.LastStatus, dl.LastError = status, errText
	switch {
	case status >= 200 && status < 300:
		dl.State, dl.DeliveredAt = store.DeliveryDelivered, &now
	case status == http.StatusGone:
		dl.State = store.DeliveryGone
		if err := d.store.DisableWebhook(context.WithoutCancel(ctx), w.ID, now, gone); err != nil {
			d.log.Error("webhook: disable", "webhook_id", w.ID, "err", err)
		}
		d.log.Warn("webhook: receiver answered 410, webhook disabled", "webhook_id", w.ID)
	case w == nil || w.DisabledAt != nil:
		dl.State = store.DeliveryFailed
	default:
		if wait, ok := nextDelay(d.Schedule, dl.Attempts); ok {
			dl.NextAttemptAt = now.Add(wait)
		} else {
			dl.State = store.DeliveryFailed
			d.log.Warn("webhook: delivery failed for good", "delivery_id", dl.ID, "attempts", dl.Attempts)
		}
	}
	if err := d.store.FinishWebhookDelivery(context.WithoutCancel(ctx), dl, att); err != nil {
		// The lease runs out and the delivery goes again, with its id: a
		// receiver deduplicates by webhook-id.
		d.log.Error("webhook: record attempt", "delivery_id", dl.ID, "err", err)
	}
}

// post sends one attempt and returns the status (0 when none came) and a
// short description of a failure.
func (d *Dispatcher) post(ctx context.Context, w *store.Webhook, dl *store.WebhookDelivery, at time.Time, timeout time.Duration) (int, string) {
	secs, err := secrets(d.sealer, w, at)
	if err != nil {
		return 0, err.Error()
	}
	sig, err := Sign(dl.ID, at, dl.Payload, secs...)
	if err != nil {
		return 0, err.Error()
	}
	postCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(postCtx, http.MethodPost, w.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, truncate(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "izin-webhooks")
	req.Header.Set(HeaderID, dl.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, truncate(err.Error())
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keeps the connection reusable
		return resp.StatusCode, ""
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, snippetLen))
	return resp.StatusCode, truncate(strings.TrimSpace(resp.Status + ": " + string(snippet)))
}

// truncate keeps at most snippetLen bytes of valid UTF-8.
func truncate(s string) string {
	if len(s) <= snippetLen {
		return strings.ToValidUTF8(s, "")
	}
	s = s[:snippetLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
