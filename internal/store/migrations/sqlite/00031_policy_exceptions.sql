-- +goose Up
-- The policy exceptions register (issue 23): a departure from a policy,
-- requested with its scope, reason and compensating controls, approved by
-- someone other than its requester, in force until it expires on
-- expires_on (the first day it no longer applies). A renewal is a new
-- request naming the one it renews; approving it supersedes the old one.
-- Rows are never deleted: the register is the history an auditor reads.
CREATE TABLE policy_exceptions (
    id                    INTEGER PRIMARY KEY,
    policy_id             INTEGER NOT NULL REFERENCES policies (id),
    section               TEXT NOT NULL DEFAULT '',
    scope                 TEXT NOT NULL,
    reason                TEXT NOT NULL,
    compensating_controls TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'rejected', 'revoked', 'lapsed', 'superseded')),
    expires_on            DATE NOT NULL,
    renews_id             INTEGER REFERENCES policy_exceptions (id),
    requested_by_id       INTEGER NOT NULL,
    requested_by          TEXT NOT NULL,
    requested_at          DATETIME NOT NULL,
    decided_by_id         INTEGER,
    decided_by            TEXT NOT NULL DEFAULT '',
    decided_at            DATETIME,
    decision_note         TEXT NOT NULL DEFAULT '',
    -- approved_at starts the time in force; ended_at ends it early (a
    -- revocation, a renewal approved) or records when it lapsed.
    approved_at           DATETIME,
    ended_at              DATETIME,
    ended_by              TEXT NOT NULL DEFAULT '',
    end_note              TEXT NOT NULL DEFAULT '',
    -- reminded_at claims the one expiry reminder of an approved exception.
    reminded_at           DATETIME,
    updated_at            DATETIME NOT NULL
);
CREATE INDEX policy_exceptions_policy ON policy_exceptions (policy_id, state);
CREATE INDEX policy_exceptions_expiry ON policy_exceptions (state, expires_on);

-- +goose Down
DROP TABLE policy_exceptions;
