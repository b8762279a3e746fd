-- +goose Up
-- izin schema, version 4: an İYS queue whose claim costs the batch, not
-- the backlog.
--
-- head marks the one upload of each consent (tenant, brand, recipient,
-- recipient type, type) that may go to İYS now: the oldest still open
-- (pending or submitted). Only heads are claimed, so a claim reads the
-- ready index below and never looks at the changes queued behind them.
-- The transaction that queues an upload sets it (under the tenant's chain
-- lock); the one that closes the head (accepted or refused) hands it on.
ALTER TABLE iys_uploads ADD COLUMN head boolean NOT NULL DEFAULT false;

-- The open uploads of one consent, oldest first: for queueing and for
-- handing the head on.
CREATE INDEX iys_uploads_open_key ON iys_uploads
    (tenant_id, brand_id, recipient, recipient_type, type, consent_time, created_at, event_id)
    WHERE state IN (1, 2);

-- The claim: a brand's pending heads, oldest consent first (the nearest
-- İYS deadline). next_attempt_at and lease_until are carried so that rows
-- waiting for a retry or under a lease are passed over in the index.
CREATE INDEX iys_uploads_ready ON iys_uploads
    (tenant_id, brand_id, consent_time, event_id, next_attempt_at, lease_until)
    WHERE state = 1 AND head;

UPDATE iys_uploads SET head = true
WHERE state IN (1, 2) AND NOT EXISTS (
    SELECT 1 FROM iys_uploads o
    WHERE o.tenant_id = iys_uploads.tenant_id AND o.brand_id = iys_uploads.brand_id
      AND o.recipient = iys_uploads.recipient AND o.recipient_type = iys_uploads.recipient_type
      AND o.type = iys_uploads.type AND o.state IN (1, 2) AND o.event_id <> iys_uploads.event_id
      AND (o.consent_time < iys_uploads.consent_time OR (o.consent_time = iys_uploads.consent_time AND
          (o.created_at < iys_uploads.created_at OR (o.created_at = iys_uploads.created_at AND o.event_id < iys_uploads.event_id)))));

-- The old queue index served the correlated claim and is no longer read.
DROP INDEX iys_uploads_due;
