-- +goose Up
-- The organization profile gains its EU/UK representatives, the transfer
-- mechanisms it relies on, and a report file per certification.
ALTER TABLE organizations ADD COLUMN eu_representative TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN uk_representative TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN transfer_mechanisms TEXT NOT NULL DEFAULT '';
ALTER TABLE certifications ADD COLUMN report_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE certifications ADD COLUMN report_name TEXT NOT NULL DEFAULT '';

-- Emails may carry a List-Unsubscribe URL (RFC 2369, one-click RFC 8058).
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT NOT NULL DEFAULT '';

-- The register of data processing agreements, both directions.
CREATE TABLE dpas (
    id                         INTEGER PRIMARY KEY,
    direction                  TEXT NOT NULL CHECK (direction IN ('customer', 'vendor')),
    counterparty               TEXT NOT NULL,
    contact_email              TEXT NOT NULL DEFAULT '',
    domain                     TEXT NOT NULL DEFAULT '',
    status                     TEXT NOT NULL CHECK (status IN ('requested', 'sent', 'signed', 'terminated')),
    template_version           TEXT NOT NULL DEFAULT '',
    signed_on                  DATE,
    effective_on               DATE,
    terminated_on              DATE,
    our_signatory              TEXT NOT NULL DEFAULT '',
    their_signatory            TEXT NOT NULL DEFAULT '',
    data_region                TEXT NOT NULL DEFAULT '',
    transfer_mechanisms        TEXT NOT NULL DEFAULT '',
    scc_modules                TEXT NOT NULL DEFAULT '',
    subprocessor_authorization TEXT NOT NULL DEFAULT 'general' CHECK (subprocessor_authorization IN ('general', 'specific')),
    notice_days                INTEGER NOT NULL DEFAULT 30 CHECK (notice_days BETWEEN 0 AND 90),
    file_sha256                TEXT NOT NULL DEFAULT '',
    file_name                  TEXT NOT NULL DEFAULT '',
    file_size                  INTEGER NOT NULL DEFAULT 0,
    source                     TEXT NOT NULL DEFAULT 'team',
    notes                      TEXT NOT NULL DEFAULT '',
    created_at                 DATETIME NOT NULL,
    updated_at                 DATETIME NOT NULL
);
CREATE INDEX dpas_direction_status ON dpas (direction, status);
CREATE INDEX dpas_domain ON dpas (domain);

CREATE TABLE dpa_status_changes (
    id          INTEGER PRIMARY KEY,
    dpa_id      INTEGER NOT NULL REFERENCES dpas (id),
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL,
    at          DATETIME NOT NULL,
    by_label    TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dpa_status_changes_dpa ON dpa_status_changes (dpa_id);

CREATE TABLE subprocessors (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    purpose            TEXT NOT NULL,
    data_categories    TEXT NOT NULL DEFAULT '',
    countries          TEXT NOT NULL DEFAULT '',
    transfer_mechanism TEXT NOT NULL DEFAULT '',
    website            TEXT NOT NULL DEFAULT '',
    vendor_dpa_id      INTEGER REFERENCES dpas (id),
    status             TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'removed')),
    active_since       DATE,
    removed_on         DATE,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);

-- Change notices (GDPR Art. 28(2)): announced ahead, applied on their date.
CREATE TABLE subprocessor_notices (
    id              INTEGER PRIMARY KEY,
    change          TEXT NOT NULL CHECK (change IN ('add', 'replace', 'remove')),
    subprocessor_id INTEGER NOT NULL REFERENCES subprocessors (id),
    replaces_id     INTEGER REFERENCES subprocessors (id),
    summary         TEXT NOT NULL,
    announced_at    DATETIME NOT NULL,
    effective_on    DATE NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('scheduled', 'applied', 'withdrawn')),
    applied_at      DATETIME,
    withdrawn_at    DATETIME,
    announced_by    TEXT NOT NULL
);
CREATE INDEX subprocessor_notices_due ON subprocessor_notices (state, effective_on);

-- Who was sent each notice; a customer's objection link points at its row.
CREATE TABLE notice_recipients (
    id            INTEGER PRIMARY KEY,
    notice_id     INTEGER NOT NULL REFERENCES subprocessor_notices (id),
    dpa_id        INTEGER REFERENCES dpas (id),
    subscriber_id INTEGER,
    email         TEXT NOT NULL
);
CREATE INDEX notice_recipients_notice ON notice_recipients (notice_id);

CREATE TABLE subprocessor_objections (
    id           INTEGER PRIMARY KEY,
    notice_id    INTEGER NOT NULL REFERENCES subprocessor_notices (id),
    recipient_id INTEGER NOT NULL UNIQUE REFERENCES notice_recipients (id),
    dpa_id       INTEGER REFERENCES dpas (id),
    email        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   DATETIME NOT NULL
);

-- Subscribers to change notices, with double opt-in.
CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    created_at      DATETIME NOT NULL,
    confirmed_at    DATETIME,
    unsubscribed_at DATETIME
);

-- +goose Down
DROP TABLE subscribers;
DROP TABLE subprocessor_objections;
DROP TABLE notice_recipients;
DROP TABLE subprocessor_notices;
DROP TABLE subprocessors;
DROP TABLE dpa_status_changes;
DROP TABLE dpas;
ALTER TABLE outbox DROP COLUMN list_unsubscribe;
ALTER TABLE certifications DROP COLUMN report_name;
ALTER TABLE certifications DROP COLUMN report_sha256;
ALTER TABLE organizations DROP COLUMN transfer_mechanisms;
ALTER TABLE organizations DROP COLUMN uk_representative;
ALTER TABLE organizations DROP COLUMN eu_representative;
