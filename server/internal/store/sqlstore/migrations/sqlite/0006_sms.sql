-- +goose Up
-- izin schema, version 6: real SMS providers per brand, their delivery
-- reports, and the SMS customers send back.

-- A brand's provider; without a row (or with enabled false) its SMS go
-- through the sandbox. Passwords and the callback secret are sealed with a
-- key derived from the server secret, bound to the brand. hook_id names
-- the brand in callback URLs and is unguessable. inbound_polled_at is how
-- far the brand's inbound SMS were read from providers that are asked.
CREATE TABLE sms_configs (
    brand_id          text PRIMARY KEY,
    tenant_id         text    NOT NULL REFERENCES tenants (id),
    provider          text    NOT NULL,
    base_url          text    NOT NULL DEFAULT '',
    username          text    NOT NULL DEFAULT '',
    password_enc      blob,
    sender            text    NOT NULL DEFAULT '',
    enabled           boolean NOT NULL DEFAULT 0,
    hook_id           text    NOT NULL UNIQUE,
    hook_secret_enc   blob     NOT NULL,
    reject_types      text    NOT NULL DEFAULT '',
    optin_keyword     text    NOT NULL DEFAULT '',
    allowed_countries text    NOT NULL DEFAULT '',
    last_success_at   DATETIME,
    last_error        text    NOT NULL DEFAULT '',
    last_error_at     DATETIME,
    inbound_polled_at DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX sms_configs_tenant ON sms_configs (tenant_id);

-- Delivery reports. status gains 4 (delivered) and 5 (expired); 3
-- (failed) also covers a report of non-delivery. status_code is the
-- provider's own code. outcome_unknown marks a send whose answer was lost:
-- the next attempt asks the provider before sending again.
-- first_attempt_at bounds that lookup; report_due_at schedules the polling
-- of a sent message's report, for providers that are asked.
ALTER TABLE messages ADD COLUMN status_code text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN status_at DATETIME;
ALTER TABLE messages ADD COLUMN outcome_unknown boolean NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN first_attempt_at DATETIME;
ALTER TABLE messages ADD COLUMN report_due_at DATETIME;
ALTER TABLE messages ADD COLUMN report_polls integer NOT NULL DEFAULT 0;
CREATE INDEX messages_provider_id ON messages (tenant_id, provider_message_id) WHERE provider_message_id <> '';
CREATE INDEX messages_report_due ON messages (report_due_at) WHERE status = 2;

-- SMS customers sent to a brand. A provider retries a callback it saw
-- fail, so (brand, provider, provider_message_id) is unique and a repeat
-- changes nothing. action: 1 rejected, 2 opted in, 3 unknown keyword,
-- 4 ignored.
CREATE TABLE inbound_messages (
    id                  text PRIMARY KEY,
    tenant_id           text     NOT NULL REFERENCES tenants (id),
    brand_id            text     NOT NULL,
    provider            text     NOT NULL,
    provider_message_id text     NOT NULL,
    sender              text     NOT NULL,
    recipient           text     NOT NULL DEFAULT '',
    body                text     NOT NULL,
    keyword             text     NOT NULL DEFAULT '',
    action              smallint NOT NULL,
    event_ids           text     NOT NULL DEFAULT '',
    detail              text     NOT NULL DEFAULT '',
    received_at         DATETIME NOT NULL,
    created_at          DATETIME NOT NULL
);
CREATE UNIQUE INDEX inbound_messages_provider_id ON inbound_messages (brand_id, provider, provider_message_id);
CREATE INDEX inbound_messages_tenant ON inbound_messages (tenant_id, id);
