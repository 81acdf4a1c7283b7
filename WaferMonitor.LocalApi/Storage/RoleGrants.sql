-- What each of WaferMonitor's roles (deploy/postgres/roles.sql) may do in a site database, applied by LocalApi as the
-- owner after its migrations on every start, so roles created after the database are covered too. A role that does not
-- exist is skipped (a database used by one role — the tests' rigs — skips all of this). Reading is granted on every
-- table, including tables later migrations create; writing only where the role needs it.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_query') THEN
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO wm_query;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO wm_query;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_ingest') THEN
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO wm_ingest;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO wm_ingest;
        -- The event log and its keys are append-only for ingest: no UPDATE, no DELETE.
        GRANT INSERT ON event, event_key, error_occurrence TO wm_ingest;
        GRANT INSERT, UPDATE ON app, job, subjob TO wm_ingest;
        -- The service's own bookkeeping: stats rollups, alert state, integration cursors, Sidecar heartbeats,
        -- synthetic check results and per-minute request outcomes, each pruned by its writer.
        GRANT INSERT, UPDATE, DELETE ON job_stats_bin, job_stats_count, job_stats_dirty, alert, integration_cursor,
            sidecar_heartbeat, synthetic_check, http_request_minute TO wm_ingest;
        -- setval reserves a batch's block of event seqs (wm_reserve_event_seqs).
        GRANT USAGE, UPDATE ON SEQUENCE event_seq TO wm_ingest;
        GRANT USAGE ON SEQUENCE entity_store_seq, error_occurrence_seq, alert_alert_id_seq TO wm_ingest;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_retention') THEN
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO wm_retention;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO wm_retention;
        GRANT DELETE ON event_key, job, subjob, error_occurrence TO wm_retention;
        -- Deleting jobs marks their stats granules for the rollup (trigger wm_job_stats_mark_dirty).
        GRANT INSERT ON job_stats_dirty TO wm_retention;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_archiver') THEN
        GRANT SELECT ON event, job, subjob, archive_watermark, archive_window, archive_object TO wm_archiver;
        GRANT INSERT, UPDATE, DELETE ON archive_watermark, archive_window, archive_object TO wm_archiver;
    END IF;
END
$$;
