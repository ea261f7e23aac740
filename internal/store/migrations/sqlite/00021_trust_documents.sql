-- +goose Up
-- The documents the company shares besides its policies (SOC 2 report,
-- penetration-test summary, insurance and ISO certificates, filled
-- questionnaires, bridge letters, the standard DPA), each with an access
-- level, and every uploaded version. A packet freezes the version it
-- served, so versions are never changed or deleted.
CREATE TABLE trust_documents (
    id                 INTEGER PRIMARY KEY,
    slug               TEXT NOT NULL UNIQUE,
    title              TEXT NOT NULL,
    kind               TEXT NOT NULL,
    access             TEXT NOT NULL CHECK (access IN ('public', 'on_request', 'internal')),
    description        TEXT NOT NULL DEFAULT '',
    owner_email        TEXT NOT NULL,
    auto_approve       BOOLEAN NOT NULL DEFAULT FALSE,
    current_version_id INTEGER,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);

CREATE TABLE trust_document_versions (
    id             INTEGER PRIMARY KEY,
    document_id    INTEGER NOT NULL REFERENCES trust_documents (id),
    version        TEXT NOT NULL,
    issued_on      DATE NOT NULL,
    valid_until    DATE,
    sha256         TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    size           INTEGER NOT NULL,
    pages          INTEGER NOT NULL,
    uploaded_at    DATETIME NOT NULL,
    uploaded_by    TEXT NOT NULL,
    -- How far the lapse reminders have gone: '', 'early' (30 days
    -- before), 'final' (7 days before), 'lapsed' (recorded in the audit
    -- trail when the validity ended).
    reminder_stage TEXT NOT NULL DEFAULT '' CHECK (reminder_stage IN ('', 'early', 'final', 'lapsed')),
    UNIQUE (document_id, version)
);
CREATE INDEX trust_document_versions_valid ON trust_document_versions (valid_until);

-- +goose Down
DROP TABLE trust_document_versions;
DROP TABLE trust_documents;
