-- The Archiver's manifest. A window is a half-open ingest-time range [window_start, window_end); windows of a site
-- are contiguous (each starts where the previous committed one ended), so archive_watermark.archived_through is the
-- end of the last committed window. A window is inserted as pending before anything is uploaded, so a crash is
-- resumed with the same bounds (and therefore the same object keys); it becomes committed, with the watermark, in
-- one transaction after every object is uploaded.
CREATE TABLE IF NOT EXISTS archive_window (
    site_id      text NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    committed_at timestamptz,
    row_count    bigint NOT NULL DEFAULT 0,
    bytes        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, window_start),
    CHECK (window_end > window_start)
);

-- Every object a window wrote, recorded before its upload: a retried window first deletes the keys of its previous
-- attempt that it no longer produces, so no object outside the manifest is ever left behind.
CREATE TABLE IF NOT EXISTS archive_object (
    site_id      text NOT NULL,
    object_key   text NOT NULL,
    window_start timestamptz NOT NULL,
    table_name   text NOT NULL,
    partition_date date NOT NULL,
    row_count    bigint NOT NULL,
    bytes        bigint NOT NULL,
    sha256       text NOT NULL,
    PRIMARY KEY (site_id, object_key),
    FOREIGN KEY (site_id, window_start) REFERENCES archive_window (site_id, window_start) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS archive_object_window ON archive_object (site_id, window_start);

-- Job and subjob snapshots are chosen by when a row settled, which starts from updated_at.
CREATE INDEX IF NOT EXISTS job_updated_at ON job (updated_at);
CREATE INDEX IF NOT EXISTS subjob_updated_at ON subjob (updated_at);
