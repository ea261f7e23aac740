-- +goose Up
-- Packet holders told of changes (issue 23). notify_on_change lets an
-- operator stop the emails for one packet. Each row says that a packet's
-- recipient was told of one new version of a policy or trust document in
-- it; the key makes the email go once per packet and version, however
-- often the change is seen.
ALTER TABLE packets ADD COLUMN notify_on_change BOOLEAN NOT NULL DEFAULT TRUE;
CREATE TABLE packet_change_notices (
    packet_id   INTEGER NOT NULL REFERENCES packets (id),
    kind        TEXT NOT NULL CHECK (kind IN ('policy', 'document')),
    version_id  INTEGER NOT NULL, -- the new policy or document version
    notified_at DATETIME NOT NULL,
    PRIMARY KEY (packet_id, kind, version_id)
);

-- +goose Down
DROP TABLE packet_change_notices;
ALTER TABLE packets DROP COLUMN notify_on_change;
