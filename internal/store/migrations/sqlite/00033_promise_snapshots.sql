-- +goose Up
-- Dated, signed snapshots of the public promises (issue 23): what /trust,
-- the sub-processor list, the standard DPA, the public documents and the
-- advisories said, recorded in the transaction of every change to them
-- (only when the content's SHA-256 differs from the newest snapshot's).
-- Kept forever: no code path updates or deletes a row, and the triggers
-- refuse it, as for the audit trail.
CREATE TABLE promise_snapshots (
    id              INTEGER PRIMARY KEY,
    taken_at        DATETIME NOT NULL,
    sha256          TEXT NOT NULL,
    content         TEXT NOT NULL,
    signature       TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL
);
CREATE INDEX promise_snapshots_taken_at ON promise_snapshots (taken_at);
-- +goose StatementBegin
CREATE TRIGGER promise_snapshots_no_update BEFORE UPDATE ON promise_snapshots
BEGIN
    SELECT RAISE(ABORT, 'promise_snapshots is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER promise_snapshots_no_delete BEFORE DELETE ON promise_snapshots
BEGIN
    SELECT RAISE(ABORT, 'promise_snapshots is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER promise_snapshots_no_delete;
DROP TRIGGER promise_snapshots_no_update;
DROP INDEX promise_snapshots_taken_at;
DROP TABLE promise_snapshots;
