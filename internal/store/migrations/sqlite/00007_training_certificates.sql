-- +goose Up
ALTER TABLE training_records ADD COLUMN certificate_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE training_records ADD COLUMN certificate_name TEXT NOT NULL DEFAULT '';
ALTER TABLE training_records ADD COLUMN certificate_type TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE training_records DROP COLUMN certificate_type;
ALTER TABLE training_records DROP COLUMN certificate_name;
ALTER TABLE training_records DROP COLUMN certificate_sha256;
