-- +goose Up
-- The status page the advisories page points to for non-security incidents.
ALTER TABLE organizations ADD COLUMN status_page_url TEXT NOT NULL DEFAULT '';

-- A lean incident register: every advisory belongs to a declared incident.
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    declared_at DATETIME NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('declared', 'mitigated', 'resolved')),
    resolved_at DATETIME,
    owner       TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

-- Security advisories in the seed's template; a draft has no published_at.
CREATE TABLE advisories (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT NOT NULL UNIQUE,
    incident_id       INTEGER NOT NULL REFERENCES incidents (id),
    title             TEXT NOT NULL,
    advisory_date     DATE NOT NULL,
    cve               TEXT UNIQUE,
    severity          TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    status            TEXT NOT NULL CHECK (status IN ('reported', 'fixed', 'resolved')),
    description       TEXT NOT NULL,
    affected_products TEXT NOT NULL DEFAULT '',
    affected_regions  TEXT NOT NULL CHECK (affected_regions IN ('US', 'EU', 'both')),
    resolution        TEXT NOT NULL DEFAULT '',
    fix_links         TEXT NOT NULL DEFAULT '',
    discovered_on     DATE,
    reported_on       DATE,
    fixed_on          DATE,
    disclosed_on      DATE,
    published_at      DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX advisories_published ON advisories (published_at);

-- Every saved state of an advisory.
CREATE TABLE advisory_revisions (
    id          INTEGER PRIMARY KEY,
    advisory_id INTEGER NOT NULL REFERENCES advisories (id),
    revision    INTEGER NOT NULL,
    snapshot    TEXT NOT NULL,
    changed_at  DATETIME NOT NULL,
    changed_by  TEXT NOT NULL,
    UNIQUE (advisory_id, revision)
);

-- +goose Down
DROP TABLE advisory_revisions;
DROP TABLE advisories;
DROP TABLE incidents;
ALTER TABLE organizations DROP COLUMN status_page_url;
