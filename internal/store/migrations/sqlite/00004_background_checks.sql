-- +goose Up
-- The current background check of each employee: status and dates only,
-- never the report's contents. Changes are kept in the audit trail.
CREATE TABLE background_checks (
    employee_id      INTEGER PRIMARY KEY REFERENCES employees (id),
    status           TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'clear', 'consider', 'adverse', 'exempt')),
    provider         TEXT NOT NULL DEFAULT '',
    initiated_on     DATE,
    completed_on     DATE,
    exemption_reason TEXT NOT NULL DEFAULT '',
    updated_at       DATETIME NOT NULL
);

-- +goose Down
DROP TABLE background_checks;
