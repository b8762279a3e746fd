package grpcserver

import (
	"context"
	"math"

	izinv1 "github.com/izinhq/izin/gen/go/izin/v1"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/webhook"
)

// The AdminService's webhook calls; the rules are in package webhook.

func (h *adminHandler) CreateWebhook(ctx context.Context, req *izinv1.CreateWebhookRequest) (*izinv1.CreateWebhookResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	w, secret, err := h.webhooks.Create(ctx, p.TenantID, req.GetUrl(), req.GetEvents())
	if err != nil {
		return nil, err
	}
	return &izinv1.CreateWebhookResponse{Webhook: webhookPB(w), Secret: secret}, nil
}

func (h *adminHandler) ListWebhooks(ctx context.Context, _ *izinv1.ListWebhooksRequest) (*izinv1.ListWebhooksResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ws, err := h.webhooks.List(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListWebhooksResponse{}
	for i := range ws {
		out.Webhooks = append(out.Webhooks, webhookPB(&ws[i]))
	}
	return out, nil
}

func (h *adminHandler) DeleteWebhook(ctx context.Context, req *izinv1.DeleteWebhookRequest) (*izinv1.DeleteWebhookResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.webhooks.Delete(ctx, p.TenantID, req.GetId()); err != nil {
		return nil, err
	}
	return &izinv1.DeleteWebhookResponse{}, nil
}

func (h *adminHandler) RotateWebhookSecret(ctx context.Context, req *izinv1.RotateWebhookSecretRequest) (*izinv1.RotateWebhookSecretResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	w, secret, err := h.webhooks.Rotate(ctx, p.TenantID, req.GetId())
	if err != nil {
		return nil, err
	}
	return &izinv1.RotateWebhookSecretResponse{Webhook: webhookPB(w), Secret: secret}, nil
}

func (h *adminHandler) ListWebhookDeliveries(ctx context.Context, req *izinv1.ListWebhookDeliveriesRequest) (*izinv1.ListWebhookDeliveriesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ds, next, err := h.webhooks.Deliveries(ctx, p.TenantID, req.GetId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &izinv1.ListWebhookDeliveriesResponse{NextPageToken: next}
	for i := range ds {
		out.Deliveries = append(out.Deliveries, deliveryPB(&ds[i]))
	}
	return out, nil
}

func (h *adminHandler) ReplayWebhookDeliveries(ctx context.Context, req *izinv1.ReplayWebhookDeliveriesRequest) (*izinv1.ReplayWebhookDeliveriesResponse, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	r := webhook.ReplayRequest{DeliveryIDs: req.GetDeliveryIds()}
	if t := timePtr(req.GetSince()); t != nil {
		r.Since = *t
	}
	if t := timePtr(req.GetUntil()); t != nil {
		r.Until = *t
	}
	n, err := h.webhooks.Replay(ctx, p.TenantID, req.GetId(), r)
	if err != nil {
		return nil, err
	}
	return &izinv1.ReplayWebhookDeliveriesResponse{ReplayedCount: int32(min(n, math.MaxInt32))}, nil
}

func webhookPB(w *store.Webhook) *izinv1.Webhook {
	return &izinv1.Webhook{Id: w.ID, Url: w.URL, Events: webhook.EventsOf(w), CreateTime: ts(w.CreatedAt),
		DisableTime: tsPtr(w.DisabledAt), DisabledReason: w.DisabledReason, PreviousSecretExpireTime: tsPtr(w.PreviousSecretUntil)}
}

func deliveryPB(d *webhook.Delivery) *izinv1.WebhookDelivery {
	out := &izinv1.WebhookDelivery{Id: d.ID, EventType: d.EventType, State: izinv1.WebhookDeliveryState(d.State),
		AttemptCount: int32(d.WebhookDelivery.Attempts), CreateTime: ts(d.CreatedAt), DeliverTime: tsPtr(d.DeliveredAt),
		LastStatusCode: int32(d.LastStatus), LastError: d.LastError}
	if d.State == store.DeliveryPending {
		out.NextAttemptTime = ts(d.NextAttemptAt)
	}
	for _, a := range d.Attempts {
		out.Attempts = append(out.Attempts, &izinv1.WebhookAttempt{AttemptTime: ts(a.At), StatusCode: int32(a.StatusCode),
			Error: a.Error, DurationMs: int32(min(a.DurationMS, math.MaxInt32))})
	}
	return out
}
