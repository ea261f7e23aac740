package evidence

import "strings"

// auditLogDoc is docs/exports.md's account of the audit log's checkpoints
// and proofs, with an auditor's commands to check them.
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
  ¦GET /api/v1/audit/checkpoints¦ (every checkpoint, newest first, with ¦verifier_keys¦, the current last, and the
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
  differs; the file's full SHA-256 is what proves it unchanged.
- **Key rotation.** ¦charter audit rotate-key --new-key FILE¦ creates FILE (a 32-byte Ed25519 seed, mode 0600) unless it
  exists, records an ¦audit.key.announced¦ event, signs a last checkpoint with the current key, and stores a note naming
  the old and new verifier keys and the tree size, signed by both keys. The operator then stops Charter, keeps a copy of
  ¦DATA_DIR/packet-signing.key¦, moves FILE there and starts Charter. Checkpoints signed before stay verifiable with the
  old verifier key: Charter trusts the current key and, walking back through the announcements (each checked against
  both of its signatures), every key it replaced; ¦GET /api/v1/audit/checkpoints¦ lists them. The same file signs packet
  manifests and bundles, so a packet or bundle issued before the rotation verifies with the old public key, which the
  operator keeps publishing beside the new one.

## Verifying the audit log

Written to be pasted, block after block, into one ¦bash¦ in an empty directory (the variables as in
¦docs/verify.md¦: ¦BASE¦ the trust center's address, ¦API_TOKEN¦ an auditor's API token, ¦PUBLIC_KEY¦ the company's
Ed25519 public key, base64, obtained independently); a test runs these ¦sh¦ blocks as written against a fresh instance.
The tools are ¦curl¦, ¦jq¦, ¦openssl¦, ¦base64¦ and, for the proofs, Go with ¦golang.org/x/mod¦.

Fetch the newest checkpoint and the verifier key, keep the checkpoint, and check its signature with openssl: the signed
text is everything before the blank line, and the signature line (¦— NAME SIG¦) holds, in base64, a 4-byte key hash
and the 64-byte Ed25519 signature of that text:

¦¦¦sh
curl -sSf -H "Authorization: Bearer $API_TOKEN" -o audit.checkpoint "$BASE/api/v1/audit/checkpoint"
curl -sSf -H "Authorization: Bearer $API_TOKEN" -o verifier.key "$BASE/api/v1/audit/verifier-key"
cat audit.checkpoint
# The verifier key is NAME+KEYHASH+base64(0x01 || public key): the company's key.
test "$(cut -d+ -f3- verifier.key | base64 -d | tail -c 32 | base64)" = "$PUBLIC_KEY"
sed '/^$/,$d' audit.checkpoint > checkpoint.text
grep '^— ' audit.checkpoint | head -n 1 | cut -d' ' -f3 | base64 -d | tail -c 64 > checkpoint.sig
# The public key as PEM: the fixed DER prefix of an Ed25519 key, then its 32 bytes.
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; printf '%s' "$PUBLIC_KEY" | base64 -d; } |
  openssl pkey -pubin -inform DER -out audit-key.pem
openssl pkeyutl -verify -pubin -inkey audit-key.pem -rawin -in checkpoint.text -sigfile checkpoint.sig
¦¦¦

Check the checkpoint again with Go's note verifier, and RFC 9162 proofs from the API with Go's tlog package (neither is
Charter's code). The program, and the module it needs:

¦¦¦sh
mkdir -p auditcheck
cat > auditcheck/main.go <<'GO'
// auditcheck verifies a Charter audit log checkpoint with Go's note
// package, and inclusion and consistency proofs against it with tlog.
//
//	auditcheck checkpoint  VERIFIER_KEY CHECKPOINT
//	auditcheck inclusion   VERIFIER_KEY CHECKPOINT PROOF.json
//	auditcheck consistency VERIFIER_KEY CHECKPOINT OLD_CHECKPOINT PROOF.json
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	if len(os.Args) < 4 {
		fail("usage: auditcheck checkpoint|inclusion|consistency VERIFIER_KEY CHECKPOINT [OLD_CHECKPOINT] [PROOF.json]")
	}
	size, root := open(os.Args[2], os.Args[3])
	switch {
	case os.Args[1] == "checkpoint":
	case os.Args[1] == "inclusion" && len(os.Args) == 5:
		var p struct {
			LeafIndex int64    ¦json:"leaf_index"¦
			TreeSize  int64    ¦json:"tree_size"¦
			EventHash string   ¦json:"event_hash"¦
			AuditPath []string ¦json:"audit_path"¦
		}
		read(os.Args[4], &p)
		data, err := hex.DecodeString(p.EventHash)
		if err != nil || p.TreeSize != size {
			fail("the proof is not for this checkpoint's tree, or has no event hash")
		}
		// The leaf is the event's chain hash: SHA-256(0x00 || its 32 bytes).
		if err := tlog.CheckRecord(hashes(p.AuditPath), size, root, p.LeafIndex, tlog.RecordHash(data)); err != nil {
			fail(err.Error())
		}
		fmt.Printf("ok: the event with seq %d (hash %s) is in the log of %d events\n", p.LeafIndex+1, p.EventHash, size)
	case os.Args[1] == "consistency" && len(os.Args) == 6:
		oldSize, oldRoot := open(os.Args[2], os.Args[4])
		var p struct {
			From int64    ¦json:"from"¦
			To   int64    ¦json:"to"¦
			Path []string ¦json:"consistency_path"¦
		}
		read(os.Args[5], &p)
		if p.From != oldSize || p.To != size {
			fail("the proof is not between these checkpoints' sizes")
		}
		if err := tlog.CheckTree(hashes(p.Path), size, root, oldSize, oldRoot); err != nil {
			fail(err.Error())
		}
		fmt.Printf("ok: the log of %d events extends the log of %d\n", size, oldSize)
	default:
		fail("unknown check or wrong number of files")
	}
}

// open verifies a signed checkpoint and returns its tree size and root.
func open(keyFile, file string) (int64, tlog.Hash) {
	vkey, err := os.ReadFile(keyFile)
	if err != nil {
		fail(err.Error())
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		fail(err.Error())
	}
	msg, err := os.ReadFile(file)
	if err != nil {
		fail(err.Error())
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail(file + ": " + err.Error())
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail(file + ": no tree size")
	}
	fmt.Printf("ok: %s is signed by %s: %d events, root %s\n", file, n.Sigs[0].Name, size, lines[2])
	return size, hash(lines[2])
}

func hash(s string) tlog.Hash {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		fail(s + " is not a base64 SHA-256 hash")
	}
	copy(h[:], b)
	return h
}

func hashes(ss []string) []tlog.Hash {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		out[i] = hash(s)
	}
	return out
}

func read(file string, v any) {
	b, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		fail(file + ": " + err.Error())
	}
}

func fail(msg string) {
	fmt.Println("FAILED:", msg)
	os.Exit(1)
}
GO
(cd auditcheck && { test -f go.mod || go mod init auditcheck; } && go get golang.org/x/mod@v0.42.0 && go build -o ../auditcheck-bin .)
./auditcheck-bin checkpoint verifier.key audit.checkpoint
¦¦¦

An inclusion proof of the first event and of the newest one in the checkpoint's tree (the event's ¦hash¦ is in
¦GET /api/v1/audit-events¦ and the bundle's ¦audit_log.csv¦):

¦¦¦sh
SIZE=$(sed -n 2p audit.checkpoint)
for SEQ in 1 "$SIZE"; do
  curl -sSf -H "Authorization: Bearer $API_TOKEN" -o "inclusion-$SEQ.json" "$BASE/api/v1/audit/proof/inclusion?seq=$SEQ&size=$SIZE"
  ./auditcheck-bin inclusion verifier.key audit.checkpoint "inclusion-$SEQ.json"
done
¦¦¦

Next quarter, with the checkpoint kept today as ¦old.checkpoint¦, prove that the log extends it (here the same
checkpoint stands in for the old one):

¦¦¦sh
cp audit.checkpoint old.checkpoint
curl -sSf -H "Authorization: Bearer $API_TOKEN" -o audit.checkpoint "$BASE/api/v1/audit/checkpoint"
OLD=$(sed -n 2p old.checkpoint)
NEW=$(sed -n 2p audit.checkpoint)
curl -sSf -H "Authorization: Bearer $API_TOKEN" -o consistency.json "$BASE/api/v1/audit/proof/consistency?from=$OLD&to=$NEW"
./auditcheck-bin consistency verifier.key audit.checkpoint old.checkpoint consistency.json
¦¦¦

The operator's commands (Charter's CLI, on the instance) make the same checks on the database itself:
¦charter audit verify¦ recomputes the chain and every checkpoint's root from the events and names the oldest checkpoint
that no longer matches; ¦charter audit verify-consistency old.checkpoint¦ proves that the log extends a kept checkpoint;
¦charter verify-bundle evidence.zip --public-key "$PUBLIC_KEY"¦ checks a bundle offline: every file's SHA-256 (naming a
changed file and the block of its first changed byte), the manifest's signature, the checkpoint's signature and each
inclusion proof against the checkpoint's root.
`
