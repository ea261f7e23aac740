-- +goose Up
-- Failed sign-ins of the last hours, counted per account and per client IP
-- to throttle guessing (SECURITY.md: at most 100 failures an hour per
-- account). Shared by every instance on the same database.
CREATE TABLE login_failures (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    DATETIME NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

-- +goose Down
DROP TABLE login_failures;
