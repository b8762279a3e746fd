-- +goose Up
-- izin schema, version 7: webhooks (Standard Webhooks). A tenant's
-- webhooks, the deliveries fanned out to them, each attempt, and the
-- notifications (events other than consent events) written in the
-- transaction of their change. Consent events need no notification: the
-- dispatcher reads consent_events after each webhook's consent_cursor (seq
-- is assigned under the tenant's chain lock, so no event is passed over).

CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT        NOT NULL REFERENCES tenants (id),
    url                  TEXT        NOT NULL,
    events               TEXT        NOT NULL, -- comma-separated event types
    secret               BLOB        NOT NULL, -- sealed
    previous_secret      BLOB,                -- sealed; valid until previous_secret_until
    previous_secret_until DATETIME,
    disabled_at          DATETIME,
    disabled_reason      TEXT        NOT NULL DEFAULT '',
    consent_cursor       INTEGER      NOT NULL DEFAULT 0,
    created_at           DATETIME NOT NULL,
    deleted_at           DATETIME
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at) WHERE deleted_at IS NULL;

-- state: 1 pending, 2 delivered, 3 failed (schedule exhausted), 4 gone (410).
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY, -- msg_…, the webhook-id header
    webhook_id      TEXT        NOT NULL REFERENCES webhooks (id),
    tenant_id       TEXT        NOT NULL,
    event_type      TEXT        NOT NULL,
    event_key       TEXT        NOT NULL,
    payload         BLOB        NOT NULL,
    state           INTEGER    NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    lease_until     DATETIME,
    last_status     INTEGER     NOT NULL DEFAULT 0,
    last_error      TEXT        NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    delivered_at    DATETIME,
    UNIQUE (webhook_id, event_key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 1;
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT        NOT NULL REFERENCES webhook_deliveries (id),
    at          DATETIME NOT NULL,
    status_code INTEGER     NOT NULL DEFAULT 0,
    error       TEXT        NOT NULL DEFAULT '',
    duration_ms INTEGER      NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT        NOT NULL REFERENCES tenants (id),
    type       TEXT        NOT NULL,
    ref_id     TEXT        NOT NULL,
    created_at DATETIME NOT NULL,
    fanned_at  DATETIME
);
CREATE INDEX notifications_unfanned ON notifications (created_at) WHERE fanned_at IS NULL;

-- The sweeper's claim: pending verifications by expiry, so that one that
-- expires untouched is marked EXPIRED (and notified) without a scan.
CREATE INDEX verifications_pending_expiry ON verifications (expire_at) WHERE status = 1;
