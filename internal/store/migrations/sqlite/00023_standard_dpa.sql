-- +goose Up
-- The standard DPA (issue 18, item 4): its versions, approved like a
-- policy's (draft → approved → published, the published text immutable
-- and hashed), and the signatures customers give it online.
CREATE TABLE standard_dpa_versions (
    id              INTEGER PRIMARY KEY,
    number          INTEGER NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'published', 'superseded')),
    change_summary  TEXT NOT NULL,
    body            TEXT NOT NULL,
    sha256          TEXT NOT NULL DEFAULT '',
    author_id       INTEGER REFERENCES users (id),
    author          TEXT NOT NULL,
    edited_by_id    INTEGER REFERENCES users (id),
    approved_by_id  INTEGER REFERENCES users (id),
    approved_by     TEXT NOT NULL DEFAULT '',
    approved_at     DATETIME,
    published_by_id INTEGER REFERENCES users (id),
    published_by    TEXT NOT NULL DEFAULT '',
    published_at    DATETIME,
    superseded_at   DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
-- At most one version in preparation, and one in force.
CREATE UNIQUE INDEX standard_dpa_versions_one_open ON standard_dpa_versions (status) WHERE status IN ('draft', 'approved');
CREATE UNIQUE INDEX standard_dpa_versions_one_published ON standard_dpa_versions (status) WHERE status = 'published';

-- +goose StatementBegin
CREATE TRIGGER standard_dpa_versions_published_immutable BEFORE UPDATE ON standard_dpa_versions
WHEN OLD.published_at IS NOT NULL
 AND (NEW.body IS NOT OLD.body OR NEW.sha256 IS NOT OLD.sha256 OR NEW.number IS NOT OLD.number
      OR NEW.published_at IS NOT OLD.published_at)
BEGIN
    SELECT RAISE(ABORT, 'published standard DPA versions are immutable');
END;
-- +goose StatementEnd

-- A customer's signature of a published version: asked for on /trust/dpa,
-- counted once the signer confirms their address by the emailed link. The
-- countersigned PDF is in the file store; signed_key is set on signing
-- (domain and version), so that one company signs one version once.
CREATE TABLE dpa_signatures (
    id                 INTEGER PRIMARY KEY,
    version_id         INTEGER NOT NULL REFERENCES standard_dpa_versions (id),
    status             TEXT NOT NULL CHECK (status IN ('unconfirmed', 'signed')),
    signer_name        TEXT NOT NULL,
    signer_title       TEXT NOT NULL,
    signer_email       TEXT NOT NULL,
    company            TEXT NOT NULL,
    domain             TEXT NOT NULL,
    data_region        TEXT NOT NULL DEFAULT '',
    transfer_mechanism TEXT NOT NULL DEFAULT '',
    scc_module         TEXT NOT NULL DEFAULT '',
    requested_at       DATETIME NOT NULL,
    requested_ip       TEXT NOT NULL DEFAULT '',
    user_agent         TEXT NOT NULL DEFAULT '',
    signed_at          DATETIME,
    signed_ip          TEXT NOT NULL DEFAULT '',
    countersigned_by   TEXT NOT NULL DEFAULT '',
    dpa_id             INTEGER REFERENCES dpas (id),
    pdf_sha256         TEXT NOT NULL DEFAULT '',
    pdf_signature      TEXT NOT NULL DEFAULT '',
    signed_key         TEXT UNIQUE
);
CREATE INDEX dpa_signatures_domain ON dpa_signatures (domain, version_id);
CREATE INDEX dpa_signatures_pdf ON dpa_signatures (pdf_sha256);
CREATE INDEX dpa_signatures_dpa ON dpa_signatures (dpa_id);

-- An email may carry one file of the file store (the countersigned DPA).
ALTER TABLE outbox ADD COLUMN attachment_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN attachment_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN attachment_name;
ALTER TABLE outbox DROP COLUMN attachment_sha256;
DROP TABLE dpa_signatures;
DROP TABLE standard_dpa_versions;
