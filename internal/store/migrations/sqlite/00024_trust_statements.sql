-- +goose Up
-- The statements of the company's Security & Privacy page that /trust
-- shows (issue 18, item 5): the GDPR role per product or deployment mode,
-- the CCPA service-provider statement and its addendum, data ownership,
-- "never sold", the security-report availability, the reward offered to
-- researchers, the free-text sections, the logo, each legal entity's role,
-- and the trust document that holds each certification's report.
ALTER TABLE organizations ADD COLUMN ccpa_statement TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN ccpa_addendum_url TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN data_ownership TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN never_sold TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN security_report TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN bounty_reward TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN approach TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN best_practices TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN logo_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN logo_type TEXT NOT NULL DEFAULT '';
ALTER TABLE legal_entities ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE certifications ADD COLUMN document_slug TEXT NOT NULL DEFAULT '';

CREATE TABLE gdpr_roles (
    id              INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    mode            TEXT NOT NULL,
    role            TEXT NOT NULL,
    statement       TEXT NOT NULL DEFAULT '',
    UNIQUE (organization_id, mode)
);

-- +goose Down
DROP TABLE gdpr_roles;
ALTER TABLE certifications DROP COLUMN document_slug;
ALTER TABLE legal_entities DROP COLUMN role;
ALTER TABLE organizations DROP COLUMN logo_type;
ALTER TABLE organizations DROP COLUMN logo_sha256;
ALTER TABLE organizations DROP COLUMN best_practices;
ALTER TABLE organizations DROP COLUMN approach;
ALTER TABLE organizations DROP COLUMN bounty_reward;
ALTER TABLE organizations DROP COLUMN security_report;
ALTER TABLE organizations DROP COLUMN never_sold;
ALTER TABLE organizations DROP COLUMN data_ownership;
ALTER TABLE organizations DROP COLUMN ccpa_addendum_url;
ALTER TABLE organizations DROP COLUMN ccpa_statement;
