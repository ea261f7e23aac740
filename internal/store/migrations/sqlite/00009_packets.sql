-- +goose Up
-- The NDA a requester accepts before receiving policies: a versioned
-- setting; acceptance records the version's SHA-256.
CREATE TABLE nda_versions (
    id         INTEGER PRIMARY KEY,
    version    INTEGER NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE nda_acceptances (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL,
    nda_version_id INTEGER NOT NULL REFERENCES nda_versions (id),
    sha256         TEXT NOT NULL,
    accepted_at    DATETIME NOT NULL,
    ip             TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT '',
    -- The packet whose link it was accepted on; NULL when accepted with
    -- the request form.
    packet_id      INTEGER
);
CREATE INDEX nda_acceptances_email ON nda_acceptances (email, nda_version_id);

-- Customers' requests for policies, and the team's decisions.
CREATE TABLE packet_requests (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    company       TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT '',
    policies      TEXT NOT NULL DEFAULT '',
    nda_acceptance_id INTEGER REFERENCES nda_acceptances (id),
    status        TEXT NOT NULL CHECK (status IN ('unconfirmed', 'pending', 'approved', 'denied')),
    confirmed_at  DATETIME,
    decided_at    DATETIME,
    decided_by    TEXT NOT NULL DEFAULT '',
    deny_reason   TEXT NOT NULL DEFAULT '',
    auto_approved BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL
);
CREATE INDEX packet_requests_status ON packet_requests (status, created_at);

-- A packet is frozen at approval: its policy versions, recipient, expiry,
-- download limit and signed manifest never change; only revoked_at and the
-- download count do.
CREATE TABLE packets (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT NOT NULL UNIQUE,
    request_id        INTEGER REFERENCES packet_requests (id),
    recipient_name    TEXT NOT NULL,
    recipient_email   TEXT NOT NULL,
    recipient_company TEXT NOT NULL,
    issued_at         DATETIME NOT NULL,
    expires_at        DATETIME NOT NULL,
    download_limit    INTEGER,
    downloads         INTEGER NOT NULL DEFAULT 0,
    revoked_at        DATETIME,
    revoked_by        TEXT NOT NULL DEFAULT '',
    issued_by         TEXT NOT NULL,
    manifest          TEXT NOT NULL,
    manifest_sha256   TEXT NOT NULL,
    signature         TEXT NOT NULL
);

CREATE TABLE packet_policies (
    packet_id         INTEGER NOT NULL REFERENCES packets (id),
    position          INTEGER NOT NULL,
    policy_version_id INTEGER NOT NULL REFERENCES policy_versions (id),
    slug              TEXT NOT NULL,
    title             TEXT NOT NULL,
    version           TEXT NOT NULL,
    effective_on      DATETIME NOT NULL,
    sha256            TEXT NOT NULL,
    PRIMARY KEY (packet_id, position)
);

-- The SHA-256 of every file of every packet, for /trust/verify.
CREATE TABLE packet_files (
    packet_id INTEGER NOT NULL REFERENCES packets (id),
    name      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    size      INTEGER NOT NULL,
    PRIMARY KEY (packet_id, name)
);
CREATE INDEX packet_files_sha256 ON packet_files (sha256);

CREATE TABLE packet_access (
    id         INTEGER PRIMARY KEY,
    packet_id  INTEGER NOT NULL REFERENCES packets (id),
    at         DATETIME NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    file       TEXT NOT NULL,
    outcome    TEXT NOT NULL
);
CREATE INDEX packet_access_packet ON packet_access (packet_id, at);

-- +goose Down
DROP TABLE packet_access;
DROP TABLE packet_files;
DROP TABLE packet_policies;
DROP TABLE packets;
DROP TABLE packet_requests;
DROP TABLE nda_acceptances;
DROP TABLE nda_versions;
