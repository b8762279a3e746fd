-- +goose Up
-- izin schema, version 2: İYS synchronisation and historic imports.

-- Per-brand İYS settings; the password is encrypted with a key derived
-- from the server secret.
CREATE TABLE iys_configs (
    brand_id     text PRIMARY KEY REFERENCES brands (id),
    tenant_id    text        NOT NULL REFERENCES tenants (id),
    iys_code     text        NOT NULL,
    brand_code   text        NOT NULL,
    username     text        NOT NULL,
    password_enc bytea       NOT NULL,
    base_url     text        NOT NULL DEFAULT '',
    enabled      boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX iys_configs_tenant ON iys_configs (tenant_id);

-- One row per consent event that İYS must receive, written in the
-- transaction of the event. state: 1 pending, 2 submitted (in a bulk
-- request), 3 accepted, 4 refused for a rule (error_* say why).
CREATE TABLE iys_uploads (
    event_id        text PRIMARY KEY,
    tenant_id       text        NOT NULL REFERENCES tenants (id),
    brand_id        text        NOT NULL,
    recipient       text        NOT NULL,
    recipient_type  smallint    NOT NULL,
    type            smallint    NOT NULL,
    status          smallint    NOT NULL,
    source          text        NOT NULL,
    consent_time    timestamptz NOT NULL,
    state           smallint    NOT NULL,
    request_id      text        NOT NULL DEFAULT '',
    transaction_id  text        NOT NULL DEFAULT '',
    error_code      text        NOT NULL DEFAULT '',
    error_message   text        NOT NULL DEFAULT '',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
-- The worker's queue, oldest consent first: the oldest has the nearest
-- İYS deadline.
CREATE INDEX iys_uploads_due ON iys_uploads (state, next_attempt_at);
CREATE INDEX iys_uploads_brand ON iys_uploads (tenant_id, brand_id, state, consent_time);
CREATE INDEX iys_uploads_request ON iys_uploads (request_id) WHERE request_id <> '';

-- Where the pull of changes made at İYS stands, per brand.
CREATE TABLE iys_cursors (
    brand_id      text PRIMARY KEY,
    tenant_id     text        NOT NULL,
    cursor        text        NOT NULL DEFAULT '',
    last_pull_at  timestamptz,
    last_error    text        NOT NULL DEFAULT '',
    reconciled_to text        NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);

-- Rows already imported, by a hash of their content, so a file sent
-- twice (or resent after a crash) changes nothing the second time.
CREATE TABLE import_rows (
    tenant_id  text        NOT NULL,
    row_hash   text        NOT NULL,
    event_id   text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, row_hash)
);
