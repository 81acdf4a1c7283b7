-- Retention runs as a role that owns nothing (Storage/RoleGrants.sql), and PostgreSQL lets only a table's owner drop it:
-- this function, run with its owner's rights, drops one of event's daily partitions and nothing else.
CREATE OR REPLACE FUNCTION wm_drop_event_partition(partition_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF partition_name !~ '^event_p[0-9]{8}$' THEN
        RAISE EXCEPTION 'not an event partition: %', partition_name;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = 'event'::regclass AND c.relname = partition_name) THEN
        RETURN false;
    END IF;
    EXECUTE format('DROP TABLE %I', partition_name);
    RETURN true;
END $$;
REVOKE ALL ON FUNCTION wm_drop_event_partition(text) FROM PUBLIC;
