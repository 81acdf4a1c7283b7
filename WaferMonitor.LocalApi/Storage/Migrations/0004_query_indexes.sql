-- Status-filtered subjob pages walk this index newest first (jobs have job_status_seq).
CREATE INDEX IF NOT EXISTS subjob_status_seq ON subjob (status, store_seq);
