-- Alert lifecycle (docs/alerts.md). One row per episode of an alert fingerprint (rule + labels): inserted pending (or
-- firing when the rule has no `for`), turned firing, then resolved; a pending episode whose condition ends is deleted,
-- as it never was an alert. A restart reads the open episodes back, so it neither forgets nor re-announces them.
CREATE TABLE IF NOT EXISTS alert (
    alert_id         bigserial PRIMARY KEY,
    fingerprint      text NOT NULL,
    rule             text NOT NULL,
    severity         text NOT NULL,
    app              text,
    labels           jsonb NOT NULL,
    annotations      jsonb NOT NULL,
    state            text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    active_at        timestamptz NOT NULL,
    fired_at         timestamptz,
    resolved_at      timestamptz,
    last_notified_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
-- At most one open episode per fingerprint; also how the evaluator finds it.
CREATE UNIQUE INDEX IF NOT EXISTS alert_open_fingerprint ON alert (fingerprint) WHERE state <> 'resolved';
-- GET /v1/alerts pages newest first, optionally by state or rule.
CREATE INDEX IF NOT EXISTS alert_state_id ON alert (state, alert_id);
CREATE INDEX IF NOT EXISTS alert_rule_id ON alert (rule, alert_id);

-- What each Sidecar last reported (POST /v1/sidecars/heartbeat), for GET /v1/sidecars and the ingestion_lag and
-- sidecar_silent rules. Keyed by node name: Sidecar:NodeName must be unique among one site's Sidecars.
CREATE TABLE IF NOT EXISTS sidecar_heartbeat (
    node                  text PRIMARY KEY,
    version               text NOT NULL,
    url                   text,
    spool_events          bigint NOT NULL,
    spool_bytes           bigint NOT NULL,
    oldest_spooled_age_s  double precision,
    dead_letters          bigint NOT NULL,
    first_heard_at        timestamptz NOT NULL,
    last_heard_at         timestamptz NOT NULL
);
