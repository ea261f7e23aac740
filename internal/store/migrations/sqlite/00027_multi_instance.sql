-- +goose Up
-- Several instances on one database (issue 20). A job run claimed by an
-- instance that died mid-run is taken over once its lease has passed, and
-- runs again for its period: the running instance moves lease_until
-- forward while it works, and claim_token says whose claim the row is, so
-- a runner that lost its claim does not record the new runner's outcome.
-- An unfinished row without a lease (claimed before this migration)
-- counts as expired.
ALTER TABLE job_runs ADD COLUMN lease_until DATETIME;
ALTER TABLE job_runs ADD COLUMN claim_token TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE job_runs DROP COLUMN claim_token;
ALTER TABLE job_runs DROP COLUMN lease_until;
