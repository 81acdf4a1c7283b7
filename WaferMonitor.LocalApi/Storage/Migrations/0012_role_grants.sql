-- Least-privilege roles (deploy/postgres/roles.sql), where they exist: the Archiver reads what it archives and writes only
-- its bookkeeping; read-only tools may SELECT everything, including tables later migrations create (default privileges
-- of the role running migrations). A database used by a superuser alone (tests' rigs) skips all of this.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_archiver') THEN
        GRANT SELECT ON event, job, subjob, archive_watermark, archive_window, archive_object TO wm_archiver;
        GRANT INSERT, UPDATE, DELETE ON archive_watermark, archive_window, archive_object TO wm_archiver;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wm_query') THEN
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO wm_query;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO wm_query;
    END IF;
END
$$;
