-- Every ingested event inserts its idempotency key here, so the primary key's comparisons are on the ingest path. Keys
-- compare byte-wise ("C"): the database's default libc collation goes through strcoll, several times slower, and the
-- order of keys means nothing. Rewrites the table once.
ALTER TABLE event_key ALTER COLUMN idempotency_key TYPE text COLLATE "C";
