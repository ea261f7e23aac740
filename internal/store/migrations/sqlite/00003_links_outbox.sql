-- +goose Up
-- Share links of every kind (acknowledgement links now; packet, notice and
-- confirmation links later). Only the SHA-256 of a token is stored.
CREATE TABLE share_links (
    id           INTEGER PRIMARY KEY,
    purpose      TEXT NOT NULL,
    subject_id   INTEGER NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    revoked_at   DATETIME,
    last_used_at DATETIME
);
CREATE INDEX share_links_subject ON share_links (purpose, subject_id);

-- Every email, written in the transaction that causes it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at DATETIME NOT NULL,
    sent_at         DATETIME,
    created_at      DATETIME NOT NULL
);
CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);

-- +goose Down
DROP TABLE outbox;
DROP TABLE share_links;
