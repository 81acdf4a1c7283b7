-- Idempotency keys are deduplicated by a 16-byte id instead of their text: event_key holds a week of keys, the largest
-- B-tree of a site, and v2 clients' random keys land anywhere in it; as uuid its entries take about half the bytes, so
-- more of it stays in memory and less of it is written again after each checkpoint. A key written as a lowercase UUID
-- (what both SDKs send) is that UUID; any other key is the first 16 bytes of its UTF-8 SHA-256 (LocalApi's EventKeyIds
-- computes the same). Rewrites the table once.
CREATE OR REPLACE FUNCTION wm_event_key_id(key text) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN key::uuid
                ELSE encode(substr(sha256(convert_to(key, 'UTF8')), 1, 16), 'hex')::uuid END
$$;

ALTER TABLE event_key ALTER COLUMN idempotency_key TYPE uuid USING wm_event_key_id(idempotency_key);
ALTER TABLE event_key RENAME COLUMN idempotency_key TO key_id;
