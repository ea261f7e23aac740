-- +goose Up
-- Sign-in throttling by account and client network (IPv4 address, IPv6
-- /64) instead of by account alone, so that a stranger's failures block
-- only the stranger's network (issue 16). Rows written before this
-- migration get their address as network: they leave the one-hour window
-- soon, and an IPv6 address stands in for its /64 until then.
ALTER TABLE login_failures ADD COLUMN network TEXT NOT NULL DEFAULT '';
UPDATE login_failures SET network = ip;
DROP INDEX login_failures_ip;
CREATE INDEX login_failures_network ON login_failures (network, at);
CREATE INDEX login_failures_email_network ON login_failures (email, network, at);

-- When the owner and the admins were last told that an account is being
-- guessed at, so that they are told at most once per window.
CREATE TABLE login_alerts (
    email   TEXT PRIMARY KEY,
    sent_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE login_alerts;
DROP INDEX login_failures_email_network;
DROP INDEX login_failures_network;
CREATE INDEX login_failures_ip ON login_failures (ip, at);
ALTER TABLE login_failures DROP COLUMN network;
