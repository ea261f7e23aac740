-- +goose Up
-- The questionnaire answer library: approved answers to the questions
-- security questionnaires ask, each with an access level (public, on
-- request, internal) and an owner. An answer is drafted, then approved by
-- someone other than its author; editing it makes it a draft again.
-- needs_review is raised when a policy it cites gets a new major version.
CREATE TABLE questionnaire_answers (
    id             INTEGER PRIMARY KEY,
    question       TEXT NOT NULL,
    answer         TEXT NOT NULL,
    access         TEXT NOT NULL CHECK (access IN ('public', 'on_request', 'internal')),
    owner_email    TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'approved')),
    author_id      INTEGER,
    author         TEXT NOT NULL,
    approved_by_id INTEGER,
    approved_by    TEXT NOT NULL DEFAULT '',
    approved_at    DATETIME,
    needs_review   BOOLEAN NOT NULL DEFAULT FALSE,
    review_reason  TEXT NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
CREATE INDEX questionnaire_answers_review ON questionnaire_answers (needs_review);

-- What supports an answer: a policy (by slug, with the version the answer
-- was checked against and an optional section) or a trust document.
CREATE TABLE questionnaire_answer_links (
    answer_id         INTEGER NOT NULL REFERENCES questionnaire_answers (id),
    position          INTEGER NOT NULL,
    policy_slug       TEXT NOT NULL DEFAULT '',
    policy_version_id INTEGER REFERENCES policy_versions (id),
    checked_version   TEXT NOT NULL DEFAULT '',
    section           TEXT NOT NULL DEFAULT '',
    document_slug     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (answer_id, position)
);
CREATE INDEX questionnaire_answer_links_policy ON questionnaire_answer_links (policy_slug);

-- The answers a packet froze at approval: their text and its SHA-256, as
-- listed in the signed manifest.
CREATE TABLE packet_answers (
    packet_id   INTEGER NOT NULL REFERENCES packets (id),
    position    INTEGER NOT NULL,
    answer_id   INTEGER NOT NULL REFERENCES questionnaire_answers (id),
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    access      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    PRIMARY KEY (packet_id, position)
);

-- +goose Down
DROP TABLE packet_answers;
DROP TABLE questionnaire_answer_links;
DROP TABLE questionnaire_answers;
