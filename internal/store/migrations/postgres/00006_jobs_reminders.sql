-- +goose Up
-- A scheduled job's run for one period (e.g. a day), claimed by inserting
-- the row: the primary key makes sure only one instance runs it.
CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    period      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job, period)
);

-- At most one reminder per employee per day.
CREATE TABLE reminders_sent (
    employee_id BIGINT NOT NULL REFERENCES employees (id),
    day         DATE NOT NULL,
    PRIMARY KEY (employee_id, day)
);

-- +goose Down
DROP TABLE reminders_sent;
DROP TABLE job_runs;
