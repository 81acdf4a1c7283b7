-- WaferMonitor's PostgreSQL roles (run once per server as a superuser; the local fab's AppHost runs it on its embedded
-- server). Each connection uses the role that holds only what it needs:
--   wm_owner      LocalApi's migrations and partitions (created, detached, dropped): owns every table of a site database.
--   wm_ingest     LocalApi's ingest and its own bookkeeping: inserts events and keys (never updates or deletes them),
--                 upserts projections; rollups, alert state, integration cursors, heartbeats, request outcomes.
--   wm_query      LocalApi's query endpoints, stream and health, and read-only tools: SELECT on every table, nothing else.
--   wm_retention  LocalApi's retention: deletes expired keys, jobs, subjobs and error occurrences; inserts no event.
--   wm_archiver   Archiver: reads events, jobs and subjobs; writes only its own archive_* bookkeeping tables.
-- The grants on tables are made by LocalApi (WaferMonitor.LocalApi/Storage/RoleGrants.sql), as the owner, on every start,
-- for the roles that exist. On a server with password authentication add PASSWORD '…' to each CREATE ROLE.
DO $$
DECLARE
    role text;
BEGIN
    FOREACH role IN ARRAY ARRAY['wm_owner', 'wm_ingest', 'wm_query', 'wm_retention', 'wm_archiver'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', role);
        END IF;
    END LOOP;
END
$$;
