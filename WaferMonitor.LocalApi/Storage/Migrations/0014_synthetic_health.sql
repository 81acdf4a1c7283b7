-- What LocalApi's /health answered each synthetic check (healthy, degraded, unhealthy, unreachable) and the check interval
-- the check stands for, in seconds (docs/observability.md#service-levels): availability counts an interval as available
-- only when its check passed and health was healthy. Rows from before this migration have neither.
ALTER TABLE synthetic_check ADD COLUMN IF NOT EXISTS health text;
ALTER TABLE synthetic_check ADD COLUMN IF NOT EXISTS interval_s double precision;
