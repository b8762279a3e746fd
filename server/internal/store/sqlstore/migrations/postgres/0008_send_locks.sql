-- +goose Up
-- izin schema, version 8: send limits that hold under concurrency.
--
-- A send limit counts the messages of its window inside the transaction
-- that queues the next one, after locking the limit's row here: every
-- sender of a recipient, a number block, a tenant or a key waits for the
-- one before it, so no two of them count the same window at once. (On
-- SQLite the write transaction already excludes every other writer; the
-- rows are written all the same, so both engines run the same code.)
CREATE TABLE send_locks (
    tenant_id text NOT NULL,
    key       text NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- Starts per API key in the last minute, for keys without a source.
CREATE INDEX verifications_key ON verifications (tenant_id, api_key_id, created_at);
