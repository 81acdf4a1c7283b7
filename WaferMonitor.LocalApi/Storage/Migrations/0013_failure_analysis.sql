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

-- Synthetic checks (docs/observability.md#synthetic-checks) as the Sidecar that ran them reports them; a result reported
-- again (the Sidecar resends until acknowledged) is stored once.
CREATE TABLE IF NOT EXISTS synthetic_check (
    check_id    uuid PRIMARY KEY,
    node        text NOT NULL,
    started_at  timestamptz NOT NULL,
    acked_at    timestamptz,
    visible_at  timestamptz,
    latency_s   double precision,
    ok          boolean NOT NULL,
    error       text,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS synthetic_check_started_at ON synthetic_check (started_at);

-- This site's own HTTP API per minute and kind of request (ingest, query), for the SLA (docs/observability.md#service-levels):
-- requests, those answered 5xx, those slower than Sla:LatencyThreshold. Each LocalApi replica adds its counts.
CREATE TABLE IF NOT EXISTS http_request_minute (
    minute   timestamptz NOT NULL,
    kind     text NOT NULL,
    requests bigint NOT NULL,
    errors   bigint NOT NULL,
    slow     bigint NOT NULL,
    PRIMARY KEY (minute, kind)
);
