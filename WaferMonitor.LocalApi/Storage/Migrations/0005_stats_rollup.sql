-- Rollups behind GET /v1/stats (DESIGN.md §4.5), so a day of a busy site is summed from a few thousand rows instead of
-- aggregated from a million. Jobs are grouped by the 5-minute granule of started_at, aligned on the Unix epoch like the
-- stats buckets (date_bin with origin 'epoch', whatever the session's time zone). The StatsRollup service recomputes
-- rollup rows from the job table; a granule whose jobs changed since is listed in job_stats_dirty until then, and
-- readers compute listed granules from the job rows, so an answer never contains a stale rollup.

-- Log-scale histogram bin of a value: bin k > 0 holds [1e-3 * 1.02^(k-1), 1e-3 * 1.02^k), negative values mirror it,
-- and |x| < 1e-3 is bin 0. A percentile read from the bins is within 1 % of the true value (StatsHistogram.BinValue).
CREATE OR REPLACE FUNCTION wm_stat_bin(x double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN abs(x) < 1e-3 THEN 0
                ELSE (sign(x) * (1 + floor(ln(abs(x) / 1e-3) / ln(1.02))))::integer END
$$;

-- Jobs per granule, app and status, at two spans: 300 s granules and the 60 s minutes inside them (which serve the
-- partial granules at the ends of a range, so at most a minute at each end is read from the job rows).
CREATE TABLE IF NOT EXISTS job_stats_count (
    span_s        integer NOT NULL,
    granule_start timestamptz NOT NULL,
    app_name      text NOT NULL,
    status        text NOT NULL,
    jobs          bigint NOT NULL,
    PRIMARY KEY (span_s, granule_start, app_name, status)
);

-- Histogram bins of duration_s (metric 1), cpu_user_s (2) and mem_max_mb (3) per granule and app, as parallel arrays
-- (bin numbers ascending, job counts), at three spans: minutes, 300 s granules and 3600 s hours (each the sum of the
-- spans inside it), so a day is read as a few hundred rows.
CREATE TABLE IF NOT EXISTS job_stats_bin (
    span_s        integer NOT NULL,
    granule_start timestamptz NOT NULL,
    app_name      text NOT NULL,
    metric        smallint NOT NULL,
    bins          integer[] NOT NULL,
    jobs          bigint[] NOT NULL,
    PRIMARY KEY (span_s, granule_start, app_name, metric)
);

-- Granules whose jobs changed after their rollup rows were computed. Insert-only for writers (no unique key, so
-- concurrent ingest transactions never wait on each other here); StatsRollup deletes what it has recomputed.
CREATE TABLE IF NOT EXISTS job_stats_dirty (
    granule_start timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS job_stats_dirty_granule ON job_stats_dirty (granule_start);

-- Statement-level triggers see every changed row once per statement (transition tables), old and new, so a job whose
-- started_at moved marks both granules; bulk loads and retention deletes are covered like ingest.
CREATE OR REPLACE FUNCTION wm_job_stats_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_stats_dirty (granule_start) SELECT DISTINCT date_bin('5 minutes', started_at, timestamptz 'epoch') FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO job_stats_dirty (granule_start)
        SELECT date_bin('5 minutes', started_at, timestamptz 'epoch') FROM old_rows UNION SELECT date_bin('5 minutes', started_at, timestamptz 'epoch') FROM new_rows;
    ELSE
        INSERT INTO job_stats_dirty (granule_start) SELECT DISTINCT date_bin('5 minutes', started_at, timestamptz 'epoch') FROM old_rows;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_stats_inserted AFTER INSERT ON job REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION wm_job_stats_mark_dirty();
CREATE OR REPLACE TRIGGER job_stats_updated AFTER UPDATE ON job REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION wm_job_stats_mark_dirty();
CREATE OR REPLACE TRIGGER job_stats_deleted AFTER DELETE ON job REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION wm_job_stats_mark_dirty();

-- Jobs that existed before this migration.
INSERT INTO job_stats_dirty (granule_start) SELECT DISTINCT date_bin('5 minutes', started_at, timestamptz 'epoch') FROM job;

-- Running jobs (count and oldest) without walking finished ones.
CREATE INDEX IF NOT EXISTS job_running_started ON job (started_at, job_id) WHERE status = 'running';
