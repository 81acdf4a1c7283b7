-- Where each outbound integration (Integrations:*) has got to in the event log: the greatest event seq it has delivered
-- (or skipped as not matching its filters). Updated only after the integration's sink acknowledged, so a restart
-- resumes after the last acknowledged event; seq order is commit order (0007), so nothing committed later is skipped.
CREATE TABLE IF NOT EXISTS integration_cursor (
    integration text PRIMARY KEY,
    last_seq    bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
