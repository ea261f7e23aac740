-- +goose Up
-- The last day an account may sign in or use its API tokens; auditors'
-- access ends with their audit.
ALTER TABLE users ADD COLUMN access_until DATE;

-- +goose Down
ALTER TABLE users DROP COLUMN access_until;
