-- +goose Up
-- Compliance state kept, not recomputed (issue 22). One row per obligation
-- an employee has not met: the current major version of a policy not
-- acknowledged, a course never completed or whose completion expires, the
-- background check not complete (someone who owes every policy has one
-- policy row standing for all of them, ref_id 0). Rows hold dates, not
-- states, because deadlines pass without writes: on day T an item is outstanding when
-- outstanding_from <= T and overdue when overdue_from <= T. The people
-- service rewrites an employee's rows in the transaction of every change
-- that moves them, and all rows when the requirements or courses change.
CREATE TABLE compliance_items (
    employee_id      INTEGER NOT NULL REFERENCES employees (id),
    kind             TEXT NOT NULL CHECK (kind IN ('policy', 'course', 'check')),
    ref_id           INTEGER NOT NULL, -- the policy's or course's id; 0 for the check
    outstanding_from DATE NOT NULL,
    overdue_from     DATE NOT NULL,
    PRIMARY KEY (employee_id, kind, ref_id)
) WITHOUT ROWID;
-- No index on the dates: the overview reads every outstanding item
-- (a few per employee) in one pass, and each index row would make a hire,
-- the most frequent write, insert a row per policy into another tree.

-- Each employee's earliest dates over their items (no row: nothing owed),
-- so that counting states reads one row per employee.
CREATE TABLE compliance_states (
    employee_id      INTEGER PRIMARY KEY REFERENCES employees (id),
    outstanding_from DATE NOT NULL,
    overdue_from     DATE NOT NULL
);

-- What the rows were computed from (the deadline settings, the policies'
-- current majors, the courses); a start that finds another rebuilds them.
-- Empty here, so the first start fills the tables.
CREATE TABLE compliance_basis (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    rebuilt_at  DATETIME NOT NULL
);

-- The people list pages in this order.
CREATE INDEX employees_name ON employees (name, email);

-- +goose Down
DROP INDEX employees_name;
DROP TABLE compliance_basis;
DROP TABLE compliance_states;
DROP TABLE compliance_items;
