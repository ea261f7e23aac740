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

-- Uploaded files, in the database so that every instance and every backup
-- has every one (they were under <data dir>/files). Content-addressed: a
-- file's row is written once with all its chunks, in one transaction, and
-- never changed. Chunks of at most 1 MiB keep a 25 MB report from being
-- one value that must be held whole in memory.
CREATE TABLE files (
    sha256       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    chunks       INTEGER NOT NULL,
    created_at   DATETIME NOT NULL
);

CREATE TABLE file_chunks (
    sha256 TEXT NOT NULL REFERENCES files (sha256),
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- +goose Down
DROP TABLE file_chunks;
DROP TABLE files;
ALTER TABLE job_runs DROP COLUMN claim_token;
ALTER TABLE job_runs DROP COLUMN lease_until;
