-- The status a row had before its latest upsert, so ingest can count each job once when it first becomes terminal
-- (jobs_total, job_duration_seconds) without a read before the write.
ALTER TABLE job ADD COLUMN IF NOT EXISTS prev_status text;
