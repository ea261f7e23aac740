-- +goose Up
CREATE TABLE employees (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    department      TEXT NOT NULL DEFAULT '',
    manager_email   TEXT NOT NULL DEFAULT '',
    country         TEXT NOT NULL DEFAULT '',
    employment_type TEXT NOT NULL CHECK (employment_type IN ('employee', 'contractor')),
    start_date      DATE NOT NULL,
    end_date        DATE,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX employees_department ON employees (department);

-- One row per (employee, policy version) acknowledged; never changed.
CREATE TABLE acknowledgements (
    id              INTEGER PRIMARY KEY,
    employee_id     INTEGER NOT NULL REFERENCES employees (id),
    policy_id       INTEGER NOT NULL REFERENCES policies (id),
    version_id      INTEGER NOT NULL REFERENCES policy_versions (id),
    major           INTEGER NOT NULL,
    minor           INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    acknowledged_at DATETIME NOT NULL,
    method          TEXT NOT NULL CHECK (method IN ('link', 'import', 'api')),
    client_ip       TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    UNIQUE (employee_id, version_id)
);
CREATE INDEX acknowledgements_requirement ON acknowledgements (policy_id, major, employee_id);

-- +goose StatementBegin
CREATE TRIGGER acknowledgements_no_update BEFORE UPDATE ON acknowledgements
BEGIN
    SELECT RAISE(ABORT, 'acknowledgements are never changed');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER acknowledgements_no_delete BEFORE DELETE ON acknowledgements
BEGIN
    SELECT RAISE(ABORT, 'acknowledgements are never deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE acknowledgements;
DROP TABLE employees;
