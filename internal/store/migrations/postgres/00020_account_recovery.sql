-- +goose Up
-- Account recovery: a password set by an admin (a one-time password) must
-- be replaced at the next sign-in. Reset links live in share_links under
-- the purpose "password_reset".
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE users DROP COLUMN must_change_password;
