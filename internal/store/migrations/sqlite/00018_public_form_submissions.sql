-- +goose Up
-- Admitted submissions of the public forms, counted over sliding windows
-- per client network, per recipient address and per form, so that every
-- instance on the same database applies the same limits. Rows older than
-- the longest window (a day) are pruned by a daily job. The recipient is
-- stored as the SHA-256 of the normalized address: the table counts, it
-- is not a register of who asked.
CREATE TABLE public_form_submissions (
    id             INTEGER PRIMARY KEY,
    form           TEXT NOT NULL,
    network        TEXT NOT NULL,
    recipient_hash TEXT NOT NULL DEFAULT '',
    submitted_at   DATETIME NOT NULL
);
CREATE INDEX public_form_submissions_network ON public_form_submissions (network, submitted_at);
CREATE INDEX public_form_submissions_recipient ON public_form_submissions (recipient_hash, submitted_at);
CREATE INDEX public_form_submissions_form ON public_form_submissions (form, submitted_at);

-- +goose Down
DROP TABLE public_form_submissions;
