-- +goose Up
-- Approvals that reach people (issue 21): a draft is submitted for
-- approval when saved, optionally to a named approver (an editor or admin
-- other than its author); submitted_at dates the wait, reminded_at the
-- last reminder, so that the daily job reminds at most once a day.
ALTER TABLE policy_versions ADD COLUMN approver_id BIGINT REFERENCES users (id);
ALTER TABLE policy_versions ADD COLUMN approver TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_versions ADD COLUMN submitted_at TIMESTAMPTZ;
ALTER TABLE policy_versions ADD COLUMN reminded_at TIMESTAMPTZ;
UPDATE policy_versions SET submitted_at = updated_at WHERE status = 'draft';

-- +goose Down
ALTER TABLE policy_versions DROP COLUMN reminded_at;
ALTER TABLE policy_versions DROP COLUMN submitted_at;
ALTER TABLE policy_versions DROP COLUMN approver;
ALTER TABLE policy_versions DROP COLUMN approver_id;
