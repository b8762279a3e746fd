-- +goose Up
-- izin schema, version 7: webhooks (Standard Webhooks). A tenant's
-- webhooks, the deliveries fanned out to them, each attempt, and the
-- notifications (events other than consent events) written in the
-- transaction of their change. Consent events need no notification: the
-- dispatcher reads consent_events after each webhook's consent_cursor (seq
-- is assigned under the tenant's chain lock, so no event is passed over).

CREATE TABLE webhooks (
    id                   text PRIMARY KEY,
    tenant_id            text        NOT NULL REFERENCES tenants (id),
    url                  text        NOT NULL,
    events               text        NOT NULL, -- comma-separated event types
    secret               bytea       NOT NULL, -- sealed
    previous_secret      bytea,                -- sealed; valid until previous_secret_until
    previous_secret_until timestamptz,
    disabled_at          timestamptz,
    disabled_reason      text        NOT NULL DEFAULT '',
    consent_cursor       bigint      NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL,
    deleted_at           timestamptz
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at) WHERE deleted_at IS NULL;

-- state: 1 pending, 2 delivered, 3 failed (schedule exhausted), 4 gone (410).
CREATE TABLE webhook_deliveries (
    id              text PRIMARY KEY, -- msg_…, the webhook-id header
    webhook_id      text        NOT NULL REFERENCES webhooks (id),
    tenant_id       text        NOT NULL,
    event_type      text        NOT NULL,
    event_key       text        NOT NULL,
    payload         bytea       NOT NULL,
    state           smallint    NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_status     integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    UNIQUE (webhook_id, event_key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 1;
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id text        NOT NULL REFERENCES webhook_deliveries (id),
    at          timestamptz NOT NULL,
    status_code integer     NOT NULL DEFAULT 0,
    error       text        NOT NULL DEFAULT '',
    duration_ms bigint      NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at);

CREATE TABLE notifications (
    id         text PRIMARY KEY,
    tenant_id  text        NOT NULL REFERENCES tenants (id),
    type       text        NOT NULL,
    ref_id     text        NOT NULL,
    created_at timestamptz NOT NULL,
    fanned_at  timestamptz
);
CREATE INDEX notifications_unfanned ON notifications (created_at) WHERE fanned_at IS NULL;

-- The sweeper's claim: pending verifications by expiry, so that one that
-- expires untouched is marked EXPIRED (and notified) without a scan.
CREATE INDEX verifications_pending_expiry ON verifications (expire_at) WHERE status = 1;
