-- +goose Up
-- izin schema, version 5: the KVKK explicit consent (açık rıza) becomes a
-- state of its own. Until now it was the kvkk column of every ETK state,
-- copied from the event that set the ETK status, so a rejection (RET) of a
-- type reset it. From now on each (tenant, brand, recipient, recipient type)
-- has at most one consent_states row of type 100 (store.ConsentKVKK) whose
-- kvkk column holds the choice (1 granted, 2 declined, 3 withdrawn) and
-- whose status is 1 when it is granted and 2 otherwise; ETK rows keep kvkk
-- at 0. The check path reads it with the ETK rows, in the same query.
--
-- The backfill writes no event, and needs none: a state is derived from
-- the chain, and each KVKK row points (event_id) at the event that recorded
-- the choice, an event already in the tenant's hash chain whose kvkk field
-- is part of its hash. The row takes the newest such event of its
-- recipient, not the current ETK states: a RET cleared the states' copy but
-- withdrew nothing (there was no way to withdraw), so the newest recorded
-- choice is the one that stands. Only landing-page events carry a choice;
-- the scan over consent_events runs once, and the NOT EXISTS probe follows
-- consent_events_recipient (tenant_id, recipient, seq).
INSERT INTO consent_states (tenant_id, brand_id, recipient, recipient_type, type, status,
    consent_time, source_id, iys_source, event_id, kvkk, updated_at)
SELECT e.tenant_id, e.brand_id, e.recipient, e.recipient_type, 100,
       CASE WHEN e.kvkk = 1 THEN 1 ELSE 2 END,
       e.consent_time, e.source_id, e.iys_source, e.id, e.kvkk, e.created_at
FROM consent_events e
WHERE e.kvkk <> 0 AND NOT EXISTS (
    SELECT 1 FROM consent_events n
    WHERE n.tenant_id = e.tenant_id AND n.recipient = e.recipient AND n.seq > e.seq
      AND n.brand_id = e.brand_id AND n.recipient_type = e.recipient_type AND n.kvkk <> 0);

UPDATE consent_states SET kvkk = 0 WHERE type <> 100 AND kvkk <> 0;
