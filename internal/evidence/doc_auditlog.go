package evidence

import "strings"

// auditLogDoc is docs/exports.md's account of the audit log's checkpoints
// and proofs; docs/verify.md has an auditor's commands to check them.
func auditLogDoc() string { return strings.ReplaceAll(auditLogDocText, "¦", "`") }

// auditLogDocText writes ¦ for a backquote, which a Go raw string cannot hold.
const auditLogDocText = `
## The audit log: checkpoints and proofs

The audit trail is also a transparency log, as in RFC 9162 (Certificate Transparency) and Go's checksum database: a
Merkle tree over the events, whose root is signed from time to time, so that a trail rewritten later (even with every
chain hash recomputed) no longer matches what was signed, and an auditor can prove that today's trail extends the one
they saw last quarter.

- **Leaves.** Leaf *i* (0-based) is the event with ¦seq¦ *i*+1. Its leaf data is the 32 bytes of the event's chain hash
  (the hex in ¦audit_events.hash¦ and in ¦audit_log.csv¦'s ¦hash¦ column, decoded); the leaf hash is
  SHA-256(0x00 ‖ leaf data) and an inner node SHA-256(0x01 ‖ left ‖ right) (RFC 9162 section 2.1.1). The chain hash
  covers every field of the event and the previous event's hash, so a leaf commits to the event and all before it.
- **Checkpoints** are C2SP ¦tlog-checkpoint¦ texts (origin line, tree size, base64 root hash) signed as C2SP
  ¦signed-note¦s with the instance's Ed25519 key, the one that signs packet manifests and bundles (¦charter keys show¦).
  The origin, and the key's name in the note, is the base URL's host and path followed by ¦/audit-log¦
  (¦trust.example.com/audit-log¦); it is fixed by the first checkpoint, so a later change of base URL does not split the
  log. The note verifier key is ¦GET /api/v1/audit/verifier-key¦ (¦name+hash+key¦, as ¦note.NewVerifier¦ takes it).
- **When.** Every hour when there were new events (the ¦audit.checkpoint¦ job, claimed per hour like every job, so
  several instances sign one), at every bundle export (after the export's ¦export.started¦ event, which it covers), with
  ¦charter audit checkpoint¦, and before a key rotation. A checkpoint is not itself an audit event: an event would add a
  leaf to the tree it signs, so no checkpoint would ever cover the whole log and the hourly job would always find a new
  event to sign.
- **Storage.** ¦audit_tree_hashes¦ holds the tree's hashes in the stored-hash order of ¦golang.org/x/mod/sumdb/tlog¦
  (about two per event, filled as checkpoints are made, in bounded transactions), so a root or a proof reads
  O(log n) rows; ¦audit_checkpoints¦ the signed notes; ¦audit_key_announcements¦ the key rotations. All three are
  append-only (triggers refuse UPDATE and DELETE, as on ¦audit_events¦).
- **API** (auditor and above): ¦GET /api/v1/audit/checkpoint¦ (the newest signed note, ¦text/plain¦),
  ¦GET /api/v1/audit/checkpoints¦ (the checkpoints, newest first, in pages of ¦limit¦ (200 by default, at most 1000)
  followed with ¦cursor¦ = the page's ¦next_cursor¦; each page has every ¦verifier_keys¦, the current last, and every
  ¦key_announcements¦), ¦GET /api/v1/audit/verifier-key¦, ¦GET /api/v1/audit/proof/inclusion?seq=&size=¦
  (¦leaf_index¦ = seq − 1, ¦leaf_hash¦, ¦root_hash¦ and the RFC 9162 ¦audit_path¦, leaf to root, base64) and
  ¦GET /api/v1/audit/proof/consistency?from=&to=¦ (¦from_root_hash¦, ¦to_root_hash¦, ¦consistency_path¦). Proofs are
  served for sizes up to the newest checkpoint's; a size past it, ¦seq¦ past ¦size¦, or ¦from¦ past ¦to¦ is a 422 naming
  the parameter. With ¦CHARTER_PUBLIC_CHECKPOINT=true¦ the newest checkpoint is also public at
  ¦/trust/audit/checkpoint¦ (it reveals only an event count and a hash); otherwise that page is a 404.
- **In the bundle.** ¦audit/checkpoint.txt¦ is the checkpoint signed at export time; ¦audit/inclusion-proofs.json¦ has,
  for each of the period's audit events it covers (up to 1000; ¦manifest.json¦'s ¦checkpoint.proofs_omitted¦ counts the
  rest, which the API proves on request against the same size), its ¦seq¦, ¦leaf_index¦, ¦event_hash¦ (hex, as in
  ¦audit_log.csv¦), ¦leaf_hash¦ and ¦audit_path¦. ¦manifest.json¦ also lists, per file, ¦blocks¦: the first 16 hex
  digits of the SHA-256 of each ¦block_size¦-byte (1024) block, so that a verifier can say where a changed file first
  differs (a single changed byte is named exactly: ¦charter verify-bundle¦ tries every value at every offset of the
  block); the file's full SHA-256 is what proves it unchanged.
- **Key rotation.** ¦charter audit rotate-key --new-key FILE¦ creates FILE (a 32-byte Ed25519 seed, mode 0600) unless it
  exists, records an ¦audit.key.announced¦ event, signs a last checkpoint with the current key, and stores a note naming
  the old and new verifier keys and the tree size, signed by both keys, with the new key's fingerprint in the same
  transaction: instances still holding the old key then fail ¦/readyz¦ and refuse to start. The operator gives every
  instance FILE (¦CHARTER_SIGNING_KEY_FILE¦, or, for one instance without it, keeps a copy of
  ¦DATA_DIR/packet-signing.key¦ and moves FILE there) and restarts them. Checkpoints signed before stay verifiable with the
  old verifier key: Charter trusts the current key and, walking back through the announcements (each checked against
  both of its signatures), every key it replaced; ¦GET /api/v1/audit/checkpoints¦ lists them. The same file signs packet
  manifests and bundles, so a packet or bundle issued before the rotation verifies with the old public key, which the
  operator keeps publishing beside the new one.

## Verifying the audit log

An auditor or customer checks all of this with standard tools only: [verify.md](verify.md#the-audit-log-checkpoints-and-proofs)
has the commands (a checkpoint's signature with ¦openssl¦ and with Go's note verifier, inclusion proofs from the API and
from a bundle and a consistency proof with Go's ¦tlog¦, neither of them Charter's code), and a test runs them as written
against a fresh instance. On the instance, ¦charter audit verify¦, ¦charter audit verify-consistency OLD.checkpoint¦ and
¦charter verify-bundle¦ (offline: every file's SHA-256, the manifest's signature, the checkpoint and its inclusion
proofs) make the same checks.
`
