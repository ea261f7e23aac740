-- +goose Up
-- Data subject requests under GDPR, UK GDPR and CCPA/CPRA, with the dates
-- their legal deadlines run from. Requester details are minimal and are
-- redacted after the retention period; dates and outcome stay.
CREATE TABLE privacy_requests (
    id                   INTEGER PRIMARY KEY,
    reference            TEXT NOT NULL UNIQUE,
    received_at          DATETIME NOT NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('email', 'form', 'customer')),
    law                  TEXT NOT NULL CHECK (law IN ('gdpr', 'uk_gdpr', 'ccpa')),
    request_type         TEXT NOT NULL CHECK (request_type IN ('access', 'deletion', 'correction', 'portability', 'objection', 'restriction')),
    requester_name       TEXT NOT NULL DEFAULT '',
    requester_email      TEXT NOT NULL DEFAULT '',
    details              TEXT NOT NULL DEFAULT '',
    customer_dpa_id      INTEGER REFERENCES dpas (id),
    status               TEXT NOT NULL CHECK (status IN ('unconfirmed', 'received', 'verifying', 'in_progress', 'completed', 'refused', 'extended')),
    verification_method  TEXT NOT NULL DEFAULT '',
    verified_at          DATETIME,
    verified_by          TEXT NOT NULL DEFAULT '',
    acknowledged_at      DATETIME,
    extended_at          DATETIME,
    extension_reason     TEXT NOT NULL DEFAULT '',
    systems_searched     TEXT NOT NULL DEFAULT '',
    outcome              TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'complied', 'partly', 'denied')),
    refusal_reason       TEXT NOT NULL DEFAULT '',
    closed_at            DATETIME,
    response_sha256      TEXT NOT NULL DEFAULT '',
    response_name        TEXT NOT NULL DEFAULT '',
    redacted_at          DATETIME,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL
);
CREATE INDEX privacy_requests_open ON privacy_requests (status, received_at);

-- +goose Down
DROP TABLE privacy_requests;
