-- +goose Up
-- The fingerprints of the keys every instance must share (issue 20): the
-- SHA-256 of the signing key's public half, and an HMAC-SHA-256 of a fixed
-- label under the MFA key. Never the keys themselves. Recorded on first
-- start; an instance holding another key refuses to start.
CREATE TABLE key_fingerprints (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    recorded_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE key_fingerprints;
