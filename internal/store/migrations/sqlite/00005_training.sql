-- +goose Up
CREATE TABLE courses (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    recurrence_months INTEGER NOT NULL CHECK (recurrence_months BETWEEN 0 AND 60),
    created_at        DATETIME NOT NULL
);

-- One row per completed cycle; every cycle is kept.
CREATE TABLE training_records (
    id           INTEGER PRIMARY KEY,
    employee_id  INTEGER NOT NULL REFERENCES employees (id),
    course_id    INTEGER NOT NULL REFERENCES courses (id),
    completed_on DATE NOT NULL,
    expires_on   DATE,
    source       TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    UNIQUE (employee_id, course_id, completed_on)
);
CREATE INDEX training_records_course ON training_records (course_id, employee_id);

-- +goose Down
DROP TABLE training_records;
DROP TABLE courses;
