-- app_name filters: the distinct names are found by skipping through these indexes, then each matching name's rows are
-- walked newest first. Without them a name that matches nothing scanned every subjob (seconds at a million jobs).
-- New rows land at the right end of their name's range (store_seq grows), so inserts stay cheap.
CREATE INDEX IF NOT EXISTS job_app_seq ON job (app_name, store_seq);
CREATE INDEX IF NOT EXISTS subjob_app_seq ON subjob (app_name, store_seq);
