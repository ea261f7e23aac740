-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'auditor', 'viewer')),
    password_hash TEXT NOT NULL DEFAULT '',
    disabled_at   DATETIME,
    last_login_at DATETIME,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    data       BLOB NOT NULL,
    expiry     DATETIME NOT NULL,
    user_id    INTEGER REFERENCES users (id)
);
CREATE INDEX sessions_expiry ON sessions (expiry);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    occurred_at DATETIME NOT NULL,
    actor_id    INTEGER,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT '',
    client_ip   TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_occurred ON audit_events (occurred_at);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);
CREATE INDEX audit_events_actor ON audit_events (actor);

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

CREATE TABLE policies (
    id                     INTEGER PRIMARY KEY,
    slug                   TEXT NOT NULL UNIQUE,
    title                  TEXT NOT NULL,
    owner_role             TEXT NOT NULL,
    review_interval_months INTEGER NOT NULL CHECK (review_interval_months BETWEEN 1 AND 36),
    tsc_refs               TEXT NOT NULL DEFAULT '',
    next_review_at         DATETIME,
    last_reviewed_at       DATETIME,
    created_at             DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL
);

-- body is the last column: SQLite then reads the others without walking
-- its overflow pages.
CREATE TABLE policy_versions (
    id              INTEGER PRIMARY KEY,
    policy_id       INTEGER NOT NULL REFERENCES policies (id),
    major           INTEGER NOT NULL,
    minor           INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'published', 'superseded')),
    material        BOOLEAN NOT NULL,
    change_summary  TEXT NOT NULL,
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
    updated_at      DATETIME NOT NULL,
    body            TEXT NOT NULL,
    UNIQUE (policy_id, major, minor)
);
CREATE INDEX policy_versions_status ON policy_versions (status, policy_id);
-- At most one version in preparation per policy.
CREATE UNIQUE INDEX policy_versions_one_open ON policy_versions (policy_id) WHERE status IN ('draft', 'approved');

-- +goose StatementBegin
CREATE TRIGGER policy_versions_published_immutable BEFORE UPDATE ON policy_versions
WHEN OLD.published_at IS NOT NULL
 AND (NEW.body IS NOT OLD.body OR NEW.sha256 IS NOT OLD.sha256 OR NEW.major IS NOT OLD.major
      OR NEW.minor IS NOT OLD.minor OR NEW.material IS NOT OLD.material OR NEW.published_at IS NOT OLD.published_at)
BEGIN
    SELECT RAISE(ABORT, 'published policy versions are immutable');
END;
-- +goose StatementEnd

CREATE TABLE policy_reviews (
    id             INTEGER PRIMARY KEY,
    policy_id      INTEGER NOT NULL REFERENCES policies (id),
    version_id     INTEGER NOT NULL REFERENCES policy_versions (id),
    reviewed_by_id INTEGER REFERENCES users (id),
    reviewed_by    TEXT NOT NULL,
    reviewed_at    DATETIME NOT NULL,
    note           TEXT NOT NULL,
    next_review_at DATETIME NOT NULL
);
CREATE INDEX policy_reviews_policy ON policy_reviews (policy_id);

CREATE TABLE organizations (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    website         TEXT NOT NULL DEFAULT '',
    privacy_email   TEXT NOT NULL DEFAULT '',
    security_email  TEXT NOT NULL DEFAULT '',
    dpo_name        TEXT NOT NULL DEFAULT '',
    dpo_title       TEXT NOT NULL DEFAULT '',
    dpo_email       TEXT NOT NULL DEFAULT '',
    dpo_public      BOOLEAN NOT NULL DEFAULT FALSE,
    hosting_regions TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE legal_entities (
    id                     INTEGER PRIMARY KEY,
    organization_id        INTEGER NOT NULL REFERENCES organizations (id),
    name                   TEXT NOT NULL,
    country                TEXT NOT NULL,
    registration_number    TEXT NOT NULL DEFAULT '',
    authority_registration TEXT NOT NULL DEFAULT '',
    UNIQUE (organization_id, name)
);

CREATE TABLE certifications (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    framework       TEXT NOT NULL,
    type            TEXT NOT NULL DEFAULT '',
    auditor         TEXT NOT NULL DEFAULT '',
    period_start    DATE,
    period_end      DATE,
    report_date     DATE,
    public          BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (organization_id, framework, type)
);

-- +goose Down
DROP TABLE certifications;
DROP TABLE legal_entities;
DROP TABLE organizations;
DROP TABLE policy_reviews;
DROP TABLE policy_versions;
DROP TABLE policies;
DROP TABLE audit_events;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
