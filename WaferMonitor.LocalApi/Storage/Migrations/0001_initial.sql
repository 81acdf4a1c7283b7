-- Site database schema. Owned by LocalApi (DESIGN.md §2); the Archiver only reads it and writes archive_* tables.

CREATE TABLE IF NOT EXISTS app (
    app_id       uuid PRIMARY KEY,
    name         text NOT NULL,
    version      text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- Dedupe keys live apart from the partitioned event log: a unique index on a partitioned table must contain the
-- partition key, and a key must stay unique across partitions. Pruned after Ingest:DedupeWindow.
CREATE TABLE IF NOT EXISTS event_key (
    idempotency_key text PRIMARY KEY,
    ingested_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS event_key_ingested_at ON event_key (ingested_at);

-- Assigned while the inserting transaction holds the commit-order lock, so seq order is commit order.
CREATE SEQUENCE IF NOT EXISTS event_seq AS bigint;

-- The event log, partitioned by server-assigned ingest time: a closed window never changes, late events land in the
-- current partition, retention drops whole partitions.
CREATE TABLE IF NOT EXISTS event (
    seq             bigint NOT NULL DEFAULT nextval('event_seq'),
    ingested_at     timestamptz NOT NULL,
    idempotency_key text NOT NULL,
    site_id         text NOT NULL,
    app_id          uuid NOT NULL,
    entity_type     text NOT NULL,
    entity_id       uuid NOT NULL,
    parent_id       uuid,
    kind            text NOT NULL,
    at              timestamptz NOT NULL,
    status          text,
    payload         jsonb NOT NULL
) PARTITION BY RANGE (ingested_at);
CREATE INDEX IF NOT EXISTS event_entity ON event (entity_id, at);
CREATE INDEX IF NOT EXISTS event_seq_idx ON event (seq);

-- Server-assigned, immutable paging order for jobs and subjobs (DESIGN.md §4.5).
CREATE SEQUENCE IF NOT EXISTS entity_store_seq AS bigint;

-- Projections (DESIGN.md §4.3). The winner_* and first_* columns are the order-independent state the visible
-- columns derive from; metadata_stamps holds, per metadata key, the (at, idempotency_key) that set it.
CREATE TABLE IF NOT EXISTS job (
    job_id           uuid PRIMARY KEY,
    store_seq        bigint NOT NULL DEFAULT nextval('entity_store_seq'),
    first_stored_at  timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    site_id          text NOT NULL,
    app_id           uuid NOT NULL,
    app_name         text NOT NULL,
    app_version      text NOT NULL,
    job_key          text,
    first_started_at timestamptz,
    first_any_at     timestamptz NOT NULL,
    winner_at        timestamptz,
    winner_key       text COLLATE "C",
    winner_status    text,
    winner_duration_s double precision,
    cpu_user_s       double precision,
    cpu_system_s     double precision,
    mem_max_mb       double precision,
    metadata         jsonb,
    metadata_stamps  jsonb,
    last_event_at    timestamptz NOT NULL,
    status           text GENERATED ALWAYS AS (COALESCE(winner_status, 'running')) STORED,
    started_at       timestamptz GENERATED ALWAYS AS (COALESCE(first_started_at, first_any_at)) STORED,
    ended_at         timestamptz GENERATED ALWAYS AS (winner_at) STORED,
    duration_s       double precision GENERATED ALWAYS AS (
        COALESCE(winner_duration_s, EXTRACT(EPOCH FROM (winner_at - COALESCE(first_started_at, first_any_at)))::double precision)) STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS job_store_seq ON job (store_seq);
CREATE INDEX IF NOT EXISTS job_started_at ON job (started_at);
CREATE INDEX IF NOT EXISTS job_status_seq ON job (status, store_seq);
CREATE INDEX IF NOT EXISTS job_key_idx ON job (job_key);

CREATE TABLE IF NOT EXISTS subjob (
    subjob_id        uuid PRIMARY KEY,
    store_seq        bigint NOT NULL DEFAULT nextval('entity_store_seq'),
    first_stored_at  timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    job_id           uuid NOT NULL,
    site_id          text NOT NULL,
    app_id           uuid NOT NULL,
    app_name         text NOT NULL,
    app_version      text NOT NULL,
    sub_key          text,
    first_started_at timestamptz,
    first_any_at     timestamptz NOT NULL,
    winner_at        timestamptz,
    winner_key       text COLLATE "C",
    winner_status    text,
    winner_duration_s double precision,
    cpu_user_s       double precision,
    cpu_system_s     double precision,
    mem_max_mb       double precision,
    metadata         jsonb,
    metadata_stamps  jsonb,
    last_event_at    timestamptz NOT NULL,
    status           text GENERATED ALWAYS AS (COALESCE(winner_status, 'running')) STORED,
    started_at       timestamptz GENERATED ALWAYS AS (COALESCE(first_started_at, first_any_at)) STORED,
    ended_at         timestamptz GENERATED ALWAYS AS (winner_at) STORED,
    duration_s       double precision GENERATED ALWAYS AS (
        COALESCE(winner_duration_s, EXTRACT(EPOCH FROM (winner_at - COALESCE(first_started_at, first_any_at)))::double precision)) STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS subjob_store_seq ON subjob (store_seq);
CREATE INDEX IF NOT EXISTS subjob_job ON subjob (job_id, status);

-- Shallow metadata merge where, per key, the value set by the greatest (at, idempotency_key) stamp wins, whatever the
-- order the events arrived in.
CREATE OR REPLACE FUNCTION wm_merge_metadata(
    old_meta jsonb, old_stamps jsonb, new_meta jsonb, new_stamps jsonb, OUT metadata jsonb, OUT stamps jsonb)
LANGUAGE sql IMMUTABLE AS $$
    SELECT COALESCE(jsonb_object_agg(k, CASE WHEN pick_new THEN new_meta -> k ELSE old_meta -> k END), '{}'::jsonb),
           COALESCE(jsonb_object_agg(k, CASE WHEN pick_new THEN new_stamps -> k ELSE old_stamps -> k END), '{}'::jsonb)
    FROM (
        SELECT k, (old_stamps ->> k) IS NULL
                  OR ((new_stamps ->> k) IS NOT NULL AND (new_stamps ->> k) COLLATE "C" > (old_stamps ->> k) COLLATE "C") AS pick_new
        FROM (SELECT jsonb_object_keys(COALESCE(old_stamps, '{}'::jsonb))
              UNION
              SELECT jsonb_object_keys(COALESCE(new_stamps, '{}'::jsonb))) AS keys(k)
    ) picked
$$;

-- Written by the Archiver: how far (in ingest time) everything is safely in the archive. Retention never drops
-- beyond it when Retention:RequireArchive is true.
CREATE TABLE IF NOT EXISTS archive_watermark (
    site_id          text PRIMARY KEY,
    archived_through timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
