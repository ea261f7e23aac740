-- +goose Up
-- The transparency log over the audit trail (issue 19, item 1): the
-- RFC 6962 tree's hashes in golang.org/x/mod/sumdb/tlog's stored-hash
-- order (so a root or proof reads O(log n) rows), the signed checkpoints
-- and the announcements of new signing keys. All three are append-only,
-- like audit_events.
CREATE TABLE audit_tree_hashes (
    idx  INTEGER PRIMARY KEY,
    hash TEXT NOT NULL
);

CREATE TABLE audit_checkpoints (
    id           INTEGER PRIMARY KEY,
    tree_size    INTEGER NOT NULL UNIQUE,
    root_hash    TEXT NOT NULL,
    note         TEXT NOT NULL,
    verifier_key TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   DATETIME NOT NULL
);

CREATE TABLE audit_key_announcements (
    id         INTEGER PRIMARY KEY,
    old_key    TEXT NOT NULL,
    new_key    TEXT NOT NULL,
    tree_size  INTEGER NOT NULL,
    note       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER audit_tree_hashes_no_update BEFORE UPDATE ON audit_tree_hashes
BEGIN
    SELECT RAISE(ABORT, 'audit_tree_hashes is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_tree_hashes_no_delete BEFORE DELETE ON audit_tree_hashes
BEGIN
    SELECT RAISE(ABORT, 'audit_tree_hashes is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_key_announcements_no_update BEFORE UPDATE ON audit_key_announcements
BEGIN
    SELECT RAISE(ABORT, 'audit_key_announcements is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_key_announcements_no_delete BEFORE DELETE ON audit_key_announcements
BEGIN
    SELECT RAISE(ABORT, 'audit_key_announcements is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_key_announcements;
DROP TABLE audit_checkpoints;
DROP TABLE audit_tree_hashes;
