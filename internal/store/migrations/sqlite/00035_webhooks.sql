-- +goose Up
-- Webhook endpoints (issue 23): HTTPS addresses other teams' systems give
-- to be told of events, each with the events it wants, a body format and
-- a signing secret. The secret must sign, so it is kept encrypted under
-- the MFA key rather than hashed. A deleted endpoint keeps its row, so
-- its delivery log stays readable.
CREATE TABLE webhook_endpoints (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    events        TEXT NOT NULL,
    format        TEXT NOT NULL CHECK (format IN ('standard', 'slack')),
    secret_sealed TEXT NOT NULL,
    -- After a rotation the previous secret signs too, until
    -- previous_secret_until, so receivers can switch without a gap.
    previous_secret_sealed TEXT NOT NULL DEFAULT '',
    previous_secret_until  DATETIME,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    deleted_at    DATETIME
);

-- One row per event and endpoint, written in the transaction of the
-- change, delivered at least once as the outbox's emails are (claim,
-- lease, backoff). webhook_id is the webhook-id header: the same on every
-- attempt, so receivers can deduplicate.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    webhook_id      TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    last_response   TEXT NOT NULL DEFAULT '',
    next_attempt_at DATETIME NOT NULL,
    delivered_at    DATETIME,
    created_at      DATETIME NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
