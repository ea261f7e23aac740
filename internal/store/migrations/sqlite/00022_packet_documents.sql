-- +goose Up
-- A request names trust documents as well as policies: their slugs,
-- comma-separated. no_policies says the request is for documents only, so
-- that an empty policies column keeps meaning "every policy".
ALTER TABLE packet_requests ADD COLUMN documents TEXT NOT NULL DEFAULT '';
ALTER TABLE packet_requests ADD COLUMN no_policies BOOLEAN NOT NULL DEFAULT FALSE;

-- The download limit is per file: each file of a packet counts its own.
ALTER TABLE packet_files ADD COLUMN downloads INTEGER NOT NULL DEFAULT 0;

-- The document versions a packet froze at approval, each stamped once
-- with its recipient: the original's SHA-256 says which upload it was,
-- the stamped one which file was served (and is in packet_files).
CREATE TABLE packet_documents (
    packet_id      INTEGER NOT NULL REFERENCES packets (id),
    position       INTEGER NOT NULL,
    document_id    INTEGER NOT NULL REFERENCES trust_documents (id),
    version_id     INTEGER NOT NULL REFERENCES trust_document_versions (id),
    slug           TEXT NOT NULL,
    title          TEXT NOT NULL,
    version        TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    stamped_sha256 TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    PRIMARY KEY (packet_id, position)
);

-- +goose Down
DROP TABLE packet_documents;
ALTER TABLE packet_files DROP COLUMN downloads;
ALTER TABLE packet_requests DROP COLUMN no_policies;
ALTER TABLE packet_requests DROP COLUMN documents;
