-- +goose Up
-- izin schema, version 3: the landing-page method (versioned consent texts,
-- consent-page evidence, KVKK explicit consent) and rejection links.

-- Published legal texts. A version is never edited: a change is a new row.
-- kind: 1 ETK statement, 2 KVKK privacy notice, 3 KVKK explicit consent.
CREATE TABLE consent_texts (
    id         text PRIMARY KEY,
    tenant_id  text        NOT NULL REFERENCES tenants (id),
    brand_id   text        NOT NULL REFERENCES brands (id),
    kind       smallint    NOT NULL,
    language   text        NOT NULL,
    version    integer     NOT NULL,
    title      text        NOT NULL,
    body       text        NOT NULL,
    sha256     text        NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (tenant_id, brand_id, kind, language, version)
);

-- +goose StatementBegin
CREATE FUNCTION consent_texts_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'consent_texts is append-only: publish a new version';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER consent_texts_append_only
    BEFORE UPDATE OR DELETE ON consent_texts
    FOR EACH ROW EXECUTE FUNCTION consent_texts_append_only();

-- kvkk: 0 not asked, 1 granted, 2 declined.
ALTER TABLE verifications
    ADD COLUMN landing_token_hash text        NOT NULL DEFAULT '',
    ADD COLUMN landing_texts      text        NOT NULL DEFAULT '',
    ADD COLUMN page_viewed_at     timestamptz,
    ADD COLUMN page_submitted_at  timestamptz,
    ADD COLUMN ip_address         text        NOT NULL DEFAULT '',
    ADD COLUMN user_agent         text        NOT NULL DEFAULT '',
    ADD COLUMN ticked_boxes       text        NOT NULL DEFAULT '',
    ADD COLUMN page_language      text        NOT NULL DEFAULT '',
    ADD COLUMN kvkk               smallint    NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX verifications_landing_token ON verifications (landing_token_hash)
    WHERE landing_token_hash <> '';

ALTER TABLE consent_events
    ADD COLUMN page_view_at   timestamptz,
    ADD COLUMN page_submit_at timestamptz,
    ADD COLUMN ticked_boxes   text     NOT NULL DEFAULT '',
    ADD COLUMN kvkk           smallint NOT NULL DEFAULT 0;

ALTER TABLE consent_states
    ADD COLUMN kvkk smallint NOT NULL DEFAULT 0;

-- The link in a confirmation SMS, by the hash of its token.
CREATE TABLE reject_links (
    token_hash     text PRIMARY KEY,
    tenant_id      text        NOT NULL REFERENCES tenants (id),
    brand_id       text        NOT NULL REFERENCES brands (id),
    recipient      text        NOT NULL,
    recipient_type smallint    NOT NULL,
    types          text        NOT NULL,
    message_id     text        NOT NULL,
    created_at     timestamptz NOT NULL,
    used_at        timestamptz
);
