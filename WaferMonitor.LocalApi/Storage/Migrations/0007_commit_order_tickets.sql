-- Event seqs are visible in commit order (README "Commit order") without a lock held through the COPY: a transaction
-- reserves its block of seqs and takes a ticket (a transaction-scoped advisory lock keyed by the block's last seq) under
-- a briefly held lock; it then copies its events alongside others, and before committing waits until every transaction
-- holding a smaller ticket has ended. Tickets use the two-int advisory key space (objsubid 2), split 31/31 bits; no other
-- lock of the site database uses that space.

CREATE OR REPLACE FUNCTION wm_reserve_event_seqs(reservation_lock bigint, event_count bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
BEGIN
    -- Session-scoped so it can be let go before the transaction ends; the handler lets it go whatever happens once held.
    PERFORM pg_advisory_lock(reservation_lock);
    BEGIN
        last_seq := setval('event_seq', nextval('event_seq') + event_count - 1);
        PERFORM pg_advisory_xact_lock((last_seq >> 31)::int, (last_seq & 2147483647)::int);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_advisory_unlock(reservation_lock);
        RAISE;
    END;
    PERFORM pg_advisory_unlock(reservation_lock);
    RETURN last_seq;
END $$;

-- Returns once every transaction of this database holding a ticket smaller than ticket_seq has committed or rolled
-- back. All of them took their ticket before this one was handed out, so none is missed; waiting for each (not only
-- the one just before) keeps the order when one of them rolls back.
CREATE OR REPLACE FUNCTION wm_await_earlier_tickets(ticket_seq bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(l.classid::bigint::int, l.objid::bigint::int)
    FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.mode = 'ExclusiveLock' AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND ((l.classid::bigint << 31) | l.objid::bigint) < ticket_seq;
END $$;
