-- WaferMonitor's PostgreSQL roles (run once per server as a superuser; the local fab's AppHost runs it on its embedded
-- server). Each service connects as the role that holds only what it needs:
--   wm_owner     LocalApi: owns every table of a site database and runs its migrations, ingest, queries, partition
--                maintenance and retention (creating and dropping partitions needs the table's owner in PostgreSQL).
--   wm_archiver  Archiver: reads events, jobs and subjobs; writes only its own archive_* bookkeeping tables.
--   wm_query     read-only tools (reports, ad hoc SQL, dashboards): SELECT on every table, nothing else.
-- The grants on tables are made by LocalApi's migration 0012_role_grants.sql, as the owner, for roles that exist.
-- On a server with password authentication add PASSWORD '…' to each CREATE ROLE (or ALTER ROLE … PASSWORD later).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_owner') THEN
        CREATE ROLE wm_owner LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_archiver') THEN
        CREATE ROLE wm_archiver LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_query') THEN
        CREATE ROLE wm_query LOGIN;
    END IF;
END
$$;
