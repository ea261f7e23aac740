-- +goose Up
-- Access reviews (the seed: "regularly review who has access"): who
-- reviewed, when, what they saw and what they noted, kept as evidence.
CREATE TABLE access_reviews (
    id           INTEGER PRIMARY KEY,
    reviewed_by  TEXT NOT NULL,
    reviewer_id  INTEGER REFERENCES users (id),
    reviewed_at  DATETIME NOT NULL,
    note         TEXT NOT NULL,
    users_active INTEGER NOT NULL,
    tokens_live  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE access_reviews;
