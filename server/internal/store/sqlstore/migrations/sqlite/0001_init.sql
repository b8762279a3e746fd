-- +goose Up
-- izin schema, version 1: tenancy, consent state and events, verifications,
-- the SMS outbox and idempotency keys.

CREATE TABLE tenants (
    id                           TEXT PRIMARY KEY,
    name                         TEXT        NOT NULL,
    mersis                       TEXT        NOT NULL,
    iys_code                     TEXT        NOT NULL DEFAULT '',
    created_at                   DATETIME NOT NULL,
    code_length                  INTEGER     NOT NULL,
    code_ttl_seconds             INTEGER     NOT NULL,
    max_attempts                 INTEGER     NOT NULL,
    resend_interval_seconds      INTEGER     NOT NULL,
    max_sends_per_verification   INTEGER     NOT NULL,
    max_sends_per_recipient_hour INTEGER     NOT NULL,
    max_sends_per_tenant_hour    INTEGER     NOT NULL,
    max_sends_per_prefix_hour    INTEGER     NOT NULL,
    max_starts_per_source_minute INTEGER     NOT NULL
);

CREATE TABLE brands (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT        NOT NULL REFERENCES tenants (id),
    code         TEXT        NOT NULL,
    name         TEXT        NOT NULL,
    sender       TEXT        NOT NULL,
    reject_route TEXT        NOT NULL DEFAULT '',
    is_default   BOOLEAN     NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE UNIQUE INDEX brands_one_default ON brands (tenant_id) WHERE is_default = 1;

CREATE TABLE sources (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT        NOT NULL REFERENCES tenants (id),
    name       TEXT        NOT NULL,
    type       INTEGER    NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX sources_tenant ON sources (tenant_id);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT        NOT NULL REFERENCES tenants (id),
    source_id  TEXT REFERENCES sources (id),
    name       TEXT        NOT NULL,
    prefix     TEXT        NOT NULL,
    hash       TEXT        NOT NULL UNIQUE,
    scope      INTEGER    NOT NULL,
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- The check path reads this table only, by its primary key prefix.
CREATE TABLE consent_states (
    tenant_id      TEXT        NOT NULL,
    brand_id       TEXT        NOT NULL,
    recipient      TEXT        NOT NULL,
    recipient_type INTEGER    NOT NULL,
    type           INTEGER    NOT NULL,
    status         INTEGER    NOT NULL,
    consent_time   DATETIME NOT NULL,
    source_id      TEXT,
    iys_source     TEXT        NOT NULL DEFAULT '',
    event_id       TEXT        NOT NULL,
    updated_at     DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, brand_id, recipient, recipient_type, type)
);

CREATE TABLE consent_events (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT        NOT NULL REFERENCES tenants (id),
    seq             INTEGER      NOT NULL,
    brand_id        TEXT        NOT NULL,
    brand_code      TEXT        NOT NULL,
    recipient       TEXT        NOT NULL,
    recipient_type  INTEGER    NOT NULL,
    type            INTEGER    NOT NULL,
    status          INTEGER    NOT NULL,
    consent_time    DATETIME NOT NULL,
    created_at      DATETIME NOT NULL,
    source_id       TEXT,
    api_key_id      TEXT,
    operator_id     TEXT        NOT NULL DEFAULT '',
    verification_id TEXT,
    method          INTEGER    NOT NULL DEFAULT 0,
    message_ids     TEXT        NOT NULL DEFAULT '',
    iys_source      TEXT        NOT NULL DEFAULT '',
    reference       TEXT        NOT NULL DEFAULT '',
    ip_address      TEXT        NOT NULL DEFAULT '',
    user_agent      TEXT        NOT NULL DEFAULT '',
    texts           TEXT        NOT NULL DEFAULT '',
    prev_hash       TEXT        NOT NULL,
    hash            TEXT        NOT NULL,
    UNIQUE (tenant_id, seq)
);
CREATE INDEX consent_events_recipient ON consent_events (tenant_id, recipient, seq);

-- Evidence is append-only: the database refuses to change or delete it.
-- +goose StatementBegin
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
-- +goose StatementEnd

CREATE TABLE chain_heads (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    seq       INTEGER NOT NULL,
    hash      TEXT   NOT NULL
);

CREATE TABLE verifications (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT        NOT NULL REFERENCES tenants (id),
    brand_id       TEXT        NOT NULL REFERENCES brands (id),
    source_id      TEXT,
    api_key_id     TEXT,
    operator_id    TEXT        NOT NULL DEFAULT '',
    recipient      TEXT        NOT NULL,
    recipient_type INTEGER    NOT NULL,
    types          TEXT        NOT NULL,
    method         INTEGER    NOT NULL,
    status         INTEGER    NOT NULL,
    code_hash      TEXT        NOT NULL,
    expire_at      DATETIME NOT NULL,
    attempts       INTEGER     NOT NULL DEFAULT 0,
    max_attempts   INTEGER     NOT NULL,
    sends          INTEGER     NOT NULL DEFAULT 0,
    last_sent_at   DATETIME NOT NULL,
    first_name     TEXT        NOT NULL DEFAULT '',
    last_name      TEXT        NOT NULL DEFAULT '',
    text_ref       TEXT        NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    verified_at    DATETIME
);
CREATE INDEX verifications_source ON verifications (tenant_id, source_id, created_at);

-- Outgoing SMS; a row is written in the transaction that causes it and
-- delivered by the outbox worker.
CREATE TABLE messages (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT        NOT NULL REFERENCES tenants (id),
    brand_id            TEXT        NOT NULL,
    verification_id     TEXT,
    kind                INTEGER    NOT NULL,
    recipient           TEXT        NOT NULL,
    recipient_prefix    TEXT        NOT NULL,
    sender              TEXT        NOT NULL,
    body                TEXT        NOT NULL,
    redacted_body       TEXT        NOT NULL,
    status              INTEGER    NOT NULL,
    provider            TEXT        NOT NULL,
    provider_message_id TEXT        NOT NULL DEFAULT '',
    attempts            INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at     DATETIME NOT NULL,
    lease_until         DATETIME,
    last_error          TEXT        NOT NULL DEFAULT '',
    created_at          DATETIME NOT NULL,
    sent_at             DATETIME
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 1;
CREATE INDEX messages_tenant ON messages (tenant_id, id);
CREATE INDEX messages_recipient ON messages (tenant_id, recipient, created_at);
CREATE INDEX messages_prefix ON messages (tenant_id, recipient_prefix, created_at);
CREATE INDEX messages_tenant_time ON messages (tenant_id, created_at);
CREATE INDEX messages_verification ON messages (verification_id);

CREATE TABLE idempotency_keys (
    tenant_id    TEXT        NOT NULL,
    operation    TEXT        NOT NULL,
    key          TEXT        NOT NULL,
    request_hash TEXT        NOT NULL,
    response     BLOB       NOT NULL,
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, operation, key)
);
