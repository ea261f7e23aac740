-- +goose Up
-- An account that may sign in only through SSO.
ALTER TABLE users ADD COLUMN sso_only BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE users DROP COLUMN sso_only;
