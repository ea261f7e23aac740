-- +goose Up
-- TOTP second factor: the secret encrypted with the data directory's MFA
-- key, and the last accepted time step, so that a code works only once.
ALTER TABLE users ADD COLUMN mfa_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mfa_enabled_at DATETIME;
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER NOT NULL DEFAULT 0;

-- Single-use recovery codes, stored as SHA-256.
CREATE TABLE recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL UNIQUE,
    used_at   DATETIME
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- +goose Down
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN mfa_last_step;
ALTER TABLE users DROP COLUMN mfa_enabled_at;
ALTER TABLE users DROP COLUMN mfa_secret;
