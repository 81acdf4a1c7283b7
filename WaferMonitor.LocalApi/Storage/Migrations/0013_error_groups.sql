-- Failing events (a failed finished, or an error) with the group they belong to (docs/errors.md). Written by ingest in
-- the transaction that stores the event, once per event; groups are derived from it when read, so it is append-only
-- and order-independent. Kept for Errors:Retention (longer than the hot event log) to tell new groups from old ones.
CREATE SEQUENCE IF NOT EXISTS error_occurrence_seq AS bigint;
CREATE TABLE IF NOT EXISTS error_occurrence (
    occurrence_seq  bigint NOT NULL DEFAULT nextval('error_occurrence_seq') PRIMARY KEY,
    stored_at       timestamptz NOT NULL DEFAULT transaction_timestamp(),
    fingerprint     text COLLATE "C" NOT NULL,
    title           text NOT NULL,
    error_type      text,
    message         text,
    site_id         text NOT NULL,
    app_name        text NOT NULL,
    at              timestamptz NOT NULL,
    entity_type     text NOT NULL,
    entity_id       uuid NOT NULL,
    job_id          uuid NOT NULL,
    job_key         text,
    sub_key         text,
    idempotency_key text NOT NULL
);
CREATE INDEX IF NOT EXISTS error_occurrence_at ON error_occurrence (at);
CREATE INDEX IF NOT EXISTS error_occurrence_fingerprint_at ON error_occurrence (fingerprint, at);
CREATE INDEX IF NOT EXISTS error_occurrence_fingerprint_seq ON error_occurrence (fingerprint, occurrence_seq);
CREATE INDEX IF NOT EXISTS error_occurrence_stored_at ON error_occurrence (stored_at);
