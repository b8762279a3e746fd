-- +goose Up
-- izin schema, version 1: tenancy, consent state and events, verifications,
-- the SMS outbox and idempotency keys.

CREATE TABLE tenants (
    id                           text PRIMARY KEY,
    name                         text        NOT NULL,
    mersis                       text        NOT NULL,
    iys_code                     text        NOT NULL DEFAULT '',
    created_at                   timestamptz NOT NULL,
    code_length                  integer     NOT NULL,
    code_ttl_seconds             integer     NOT NULL,
    max_attempts                 integer     NOT NULL,
    resend_interval_seconds      integer     NOT NULL,
    max_sends_per_verification   integer     NOT NULL,
    max_sends_per_recipient_hour integer     NOT NULL,
    max_sends_per_tenant_hour    integer     NOT NULL,
    max_sends_per_prefix_hour    integer     NOT NULL,
    max_starts_per_source_minute integer     NOT NULL
);

CREATE TABLE brands (
    id           text PRIMARY KEY,
    tenant_id    text        NOT NULL REFERENCES tenants (id),
    code         text        NOT NULL,
    name         text        NOT NULL,
    sender       text        NOT NULL,
    reject_route text        NOT NULL DEFAULT '',
    is_default   boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE UNIQUE INDEX brands_one_default ON brands (tenant_id) WHERE is_default;

CREATE TABLE sources (
    id         text PRIMARY KEY,
    tenant_id  text        NOT NULL REFERENCES tenants (id),
    name       text        NOT NULL,
    type       smallint    NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX sources_tenant ON sources (tenant_id);

CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    tenant_id  text        NOT NULL REFERENCES tenants (id),
    source_id  text REFERENCES sources (id),
    name       text        NOT NULL,
    prefix     text        NOT NULL,
    hash       text        NOT NULL UNIQUE,
    scope      smallint    NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- The check path reads this table only, by its primary key prefix.
CREATE TABLE consent_states (
    tenant_id      text        NOT NULL,
    brand_id       text        NOT NULL,
    recipient      text        NOT NULL,
    recipient_type smallint    NOT NULL,
    type           smallint    NOT NULL,
    status         smallint    NOT NULL,
    consent_time   timestamptz NOT NULL,
    source_id      text,
    iys_source     text        NOT NULL DEFAULT '',
    event_id       text        NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, brand_id, recipient, recipient_type, type)
);

CREATE TABLE consent_events (
    id              text PRIMARY KEY,
    tenant_id       text        NOT NULL REFERENCES tenants (id),
    seq             bigint      NOT NULL,
    brand_id        text        NOT NULL,
    brand_code      text        NOT NULL,
    recipient       text        NOT NULL,
    recipient_type  smallint    NOT NULL,
    type            smallint    NOT NULL,
    status          smallint    NOT NULL,
    consent_time    timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    source_id       text,
    api_key_id      text,
    operator_id     text        NOT NULL DEFAULT '',
    verification_id text,
    method          smallint    NOT NULL DEFAULT 0,
    message_ids     text        NOT NULL DEFAULT '',
    iys_source      text        NOT NULL DEFAULT '',
    reference       text        NOT NULL DEFAULT '',
    ip_address      text        NOT NULL DEFAULT '',
    user_agent      text        NOT NULL DEFAULT '',
    texts           text        NOT NULL DEFAULT '',
    prev_hash       text        NOT NULL,
    hash            text        NOT NULL,
    UNIQUE (tenant_id, seq)
);
CREATE INDEX consent_events_recipient ON consent_events (tenant_id, recipient, seq);

-- Evidence is append-only: the database refuses to change or delete it.
-- +goose StatementBegin
CREATE FUNCTION consent_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'consent_events is append-only';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER consent_events_append_only
    BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

CREATE TABLE chain_heads (
    tenant_id text PRIMARY KEY REFERENCES tenants (id),
    seq       bigint NOT NULL,
    hash      text   NOT NULL
);

CREATE TABLE verifications (
    id             text PRIMARY KEY,
    tenant_id      text        NOT NULL REFERENCES tenants (id),
    brand_id       text        NOT NULL REFERENCES brands (id),
    source_id      text,
    api_key_id     text,
    operator_id    text        NOT NULL DEFAULT '',
    recipient      text        NOT NULL,
    recipient_type smallint    NOT NULL,
    types          text        NOT NULL,
    method         smallint    NOT NULL,
    status         smallint    NOT NULL,
    code_hash      text        NOT NULL,
    expire_at      timestamptz NOT NULL,
    attempts       integer     NOT NULL DEFAULT 0,
    max_attempts   integer     NOT NULL,
    sends          integer     NOT NULL DEFAULT 0,
    last_sent_at   timestamptz NOT NULL,
    first_name     text        NOT NULL DEFAULT '',
    last_name      text        NOT NULL DEFAULT '',
    text_ref       text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    verified_at    timestamptz
);
CREATE INDEX verifications_source ON verifications (tenant_id, source_id, created_at);

-- Outgoing SMS; a row is written in the transaction that causes it and
-- delivered by the outbox worker.
CREATE TABLE messages (
    id                  text PRIMARY KEY,
    tenant_id           text        NOT NULL REFERENCES tenants (id),
    brand_id            text        NOT NULL,
    verification_id     text,
    kind                smallint    NOT NULL,
    recipient           text        NOT NULL,
    recipient_prefix    text        NOT NULL,
    sender              text        NOT NULL,
    body                text        NOT NULL,
    redacted_body       text        NOT NULL,
    status              smallint    NOT NULL,
    provider            text        NOT NULL,
    provider_message_id text        NOT NULL DEFAULT '',
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL,
    lease_until         timestamptz,
    last_error          text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    sent_at             timestamptz
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 1;
CREATE INDEX messages_tenant ON messages (tenant_id, id);
CREATE INDEX messages_recipient ON messages (tenant_id, recipient, created_at);
CREATE INDEX messages_prefix ON messages (tenant_id, recipient_prefix, created_at);
CREATE INDEX messages_tenant_time ON messages (tenant_id, created_at);
CREATE INDEX messages_verification ON messages (verification_id);

CREATE TABLE idempotency_keys (
    tenant_id    text        NOT NULL,
    operation    text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    response     bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, operation, key)
);
