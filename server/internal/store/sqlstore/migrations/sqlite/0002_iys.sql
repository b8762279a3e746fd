-- +goose Up
-- izin schema, version 2: İYS synchronisation and historic imports.

-- Per-brand İYS settings; the password is encrypted with a key derived
-- from the server secret.
CREATE TABLE iys_configs (
    brand_id     TEXT PRIMARY KEY REFERENCES brands (id),
    tenant_id    TEXT        NOT NULL REFERENCES tenants (id),
    iys_code     TEXT        NOT NULL,
    brand_code   TEXT        NOT NULL,
    username     TEXT        NOT NULL,
    password_enc BLOB       NOT NULL,
    base_url     TEXT        NOT NULL DEFAULT '',
    enabled      BOOLEAN     NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
CREATE INDEX iys_configs_tenant ON iys_configs (tenant_id);

-- One row per consent event that İYS must receive, written in the
-- transaction of the event. state: 1 pending, 2 submitted (in a bulk
-- request), 3 accepted, 4 refused for a rule (error_* say why).
CREATE TABLE iys_uploads (
    event_id        TEXT PRIMARY KEY,
    tenant_id       TEXT        NOT NULL REFERENCES tenants (id),
    brand_id        TEXT        NOT NULL,
    recipient       TEXT        NOT NULL,
    recipient_type  INTEGER    NOT NULL,
    type            INTEGER    NOT NULL,
    status          INTEGER    NOT NULL,
    source          TEXT        NOT NULL,
    consent_time    DATETIME NOT NULL,
    state           INTEGER    NOT NULL,
    request_id      TEXT        NOT NULL DEFAULT '',
    transaction_id  TEXT        NOT NULL DEFAULT '',
    error_code      TEXT        NOT NULL DEFAULT '',
    error_message   TEXT        NOT NULL DEFAULT '',
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    lease_until     DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
-- The worker's queue, oldest consent first: the oldest has the nearest
-- İYS deadline.
CREATE INDEX iys_uploads_due ON iys_uploads (state, next_attempt_at);
CREATE INDEX iys_uploads_brand ON iys_uploads (tenant_id, brand_id, state, consent_time);
CREATE INDEX iys_uploads_request ON iys_uploads (request_id) WHERE request_id <> '';

-- Where the pull of changes made at İYS stands, per brand.
CREATE TABLE iys_cursors (
    brand_id      TEXT PRIMARY KEY,
    tenant_id     TEXT        NOT NULL,
    cursor        TEXT        NOT NULL DEFAULT '',
    last_pull_at  DATETIME,
    last_error    TEXT        NOT NULL DEFAULT '',
    reconciled_to TEXT        NOT NULL DEFAULT '',
    updated_at    DATETIME NOT NULL
);

-- Rows already imported, by a hash of their content, so a file sent
-- twice (or resent after a crash) changes nothing the second time.
CREATE TABLE import_rows (
    tenant_id  TEXT        NOT NULL,
    row_hash   TEXT        NOT NULL,
    event_id   TEXT        NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, row_hash)
);
