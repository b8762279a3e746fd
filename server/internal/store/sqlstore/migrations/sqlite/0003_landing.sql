-- +goose Up
-- izin schema, version 3: the landing-page method (versioned consent texts,
-- consent-page evidence, KVKK explicit consent) and rejection links.

-- Published legal texts. A version is never edited: a change is a new row.
-- kind: 1 ETK statement, 2 KVKK privacy notice, 3 KVKK explicit consent.
CREATE TABLE consent_texts (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT     NOT NULL REFERENCES tenants (id),
    brand_id   TEXT     NOT NULL REFERENCES brands (id),
    kind       INTEGER  NOT NULL,
    language   TEXT     NOT NULL,
    version    INTEGER  NOT NULL,
    title      TEXT     NOT NULL,
    body       TEXT     NOT NULL,
    sha256     TEXT     NOT NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (tenant_id, brand_id, kind, language, version)
);
-- +goose StatementBegin
CREATE TRIGGER consent_texts_no_update BEFORE UPDATE ON consent_texts
BEGIN
    SELECT RAISE(ABORT, 'consent_texts is append-only: publish a new version');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consent_texts_no_delete BEFORE DELETE ON consent_texts
BEGIN
    SELECT RAISE(ABORT, 'consent_texts is append-only: publish a new version');
END;
-- +goose StatementEnd

-- kvkk: 0 not asked, 1 granted, 2 declined.
ALTER TABLE verifications ADD COLUMN landing_token_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN landing_texts TEXT NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN page_viewed_at DATETIME;
ALTER TABLE verifications ADD COLUMN page_submitted_at DATETIME;
ALTER TABLE verifications ADD COLUMN ip_address TEXT NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN ticked_boxes TEXT NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN page_language TEXT NOT NULL DEFAULT '';
ALTER TABLE verifications ADD COLUMN kvkk INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX verifications_landing_token ON verifications (landing_token_hash)
    WHERE landing_token_hash <> '';

ALTER TABLE consent_events ADD COLUMN page_view_at DATETIME;
ALTER TABLE consent_events ADD COLUMN page_submit_at DATETIME;
ALTER TABLE consent_events ADD COLUMN ticked_boxes TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN kvkk INTEGER NOT NULL DEFAULT 0;

ALTER TABLE consent_states ADD COLUMN kvkk INTEGER NOT NULL DEFAULT 0;

-- The link in a confirmation SMS, by the hash of its token.
CREATE TABLE reject_links (
    token_hash     TEXT PRIMARY KEY,
    tenant_id      TEXT     NOT NULL REFERENCES tenants (id),
    brand_id       TEXT     NOT NULL REFERENCES brands (id),
    recipient      TEXT     NOT NULL,
    recipient_type INTEGER  NOT NULL,
    types          TEXT     NOT NULL,
    message_id     TEXT     NOT NULL,
    created_at     DATETIME NOT NULL,
    used_at        DATETIME
);
