package auditlog

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// ed25519Signer signs notes with an existing Ed25519 key: note.NewSigner
// takes only keys in its own text form, and Charter's key is the seed file
// that also signs packets and bundles.
type ed25519Signer struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
}

func (s ed25519Signer) Name() string                    { return s.name }
func (s ed25519Signer) KeyHash() uint32                 { return s.hash }
func (s ed25519Signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// newSigner returns a note signer for key under name, and the verifier
// key that checks its signatures.
func newSigner(key ed25519.PrivateKey, name string) (note.Signer, string, error) {
	vkey, err := note.NewEd25519VerifierKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, "", fmt.Errorf("auditlog: verifier key for %q: %w", name, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, "", err
	}
	return ed25519Signer{name: name, hash: v.KeyHash(), key: key}, vkey, nil
}

// CheckpointText is the C2SP tlog-checkpoint body: origin, tree size and
// the base64 root hash, each on its own line.
func CheckpointText(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, EncodeHash(root))
}

func signCheckpoint(key ed25519.PrivateKey, origin string, size int64, root tlog.Hash) (signed []byte, vkey string, err error) {
	signer, vkey, err := newSigner(key, origin)
	if err != nil {
		return nil, "", err
	}
	signed, err = note.Sign(&note.Note{Text: CheckpointText(origin, size, root)}, signer)
	return signed, vkey, err
}

// ParsedCheckpoint is a checkpoint whose signature verified.
type ParsedCheckpoint struct {
	Origin   string
	TreeSize int64
	RootHash tlog.Hash
	// SignedBy is the name and key hash of the key that verified it.
	SignedBy string
}

// OpenCheckpoint verifies a signed checkpoint with any of the verifier
// keys vkeys and parses its text.
func OpenCheckpoint(signed []byte, vkeys ...string) (ParsedCheckpoint, error) {
	var p ParsedCheckpoint
	var verifiers []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return p, fmt.Errorf("verifier key %q: %w", k, err)
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open(signed, note.VerifierList(verifiers...))
	if err != nil {
		return p, fmt.Errorf("the checkpoint's signature does not verify: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	// Origin, size, root and the empty string after the final newline;
	// C2SP allows extension lines after the root, which Charter never writes.
	if len(lines) < 4 {
		return p, errors.New("the checkpoint text has fewer than three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return p, fmt.Errorf("the checkpoint's tree size %q is not a number", lines[1])
	}
	root, err := DecodeHash(lines[2])
	if err != nil {
		return p, err
	}
	sig := n.Sigs[0]
	return ParsedCheckpoint{Origin: lines[0], TreeSize: size, RootHash: root, SignedBy: fmt.Sprintf("%s+%08x", sig.Name, sig.Hash)}, nil
}

// VerifierKeys returns the verifier keys this log trusts, the current
// one last: the current key, and walking back through the key
// announcements (each signed by both keys), every key it replaced. Old
// checkpoints stay verifiable with the key that signed them; a key that
// only appears in the database without a signed announcement is not
// trusted.
func (l *Log) VerifierKeys(ctx context.Context) ([]string, error) {
	current, err := l.VerifierKey(ctx)
	if err != nil {
		return nil, err
	}
	announcements, err := l.Announcements(ctx)
	if err != nil {
		return nil, err
	}
	// Walk back from the current key through every announcement it (or a
	// key it vouched for) signed as the new key.
	found := []string{current}
	seen := map[string]bool{current: true}
	for i := 0; i < len(found); i++ {
		for _, a := range announcements {
			if a.NewKey != found[i] || seen[a.OldKey] {
				continue
			}
			if oldKey, newKey, err := VerifyAnnouncement([]byte(a.Note)); err != nil || oldKey != a.OldKey || newKey != a.NewKey {
				continue
			}
			seen[a.OldKey] = true
			found = append(found, a.OldKey)
		}
	}
	keys := make([]string, len(found))
	for i, k := range found {
		keys[len(found)-1-i] = k
	}
	return keys, nil
}

// CheckpointCheck is the outcome of checking the newest checkpoint
// against the audit events as they are now.
type CheckpointCheck struct {
	Checkpoint Checkpoint
	// Problem is empty when the checkpoint verifies and the events hash
	// to its root.
	Problem string
}

// Name identifies a checkpoint in messages: its ID, size and time.
func (c Checkpoint) Name() string {
	return fmt.Sprintf("checkpoint %d (tree size %d, %s)", c.ID, c.TreeSize, c.CreatedAt.UTC().Format(time.RFC3339))
}

// CheckLatest verifies the newest checkpoint's signature with the key
// that signed it and recomputes the root at its size from the audit
// events: a trail rewritten after the checkpoint, its chain hashes
// recomputed, no longer has that root. Errors: ErrNoCheckpoint.
func (l *Log) CheckLatest(ctx context.Context) (CheckpointCheck, error) {
	c, err := l.Latest(ctx)
	if err != nil {
		return CheckpointCheck{}, err
	}
	return l.check(ctx, c), nil
}

// CheckAll verifies every stored checkpoint's signature and recomputes
// all their roots from the audit events in one pass, and reports the
// first (oldest) checkpoint that fails, or a zero CheckpointCheck with
// checked set to their number. Errors: ErrNoCheckpoint.
func (l *Log) CheckAll(ctx context.Context) (checked int, failed CheckpointCheck, err error) {
	var cps []Checkpoint
	if err := l.db.WithContext(ctx).Order("tree_size").Find(&cps).Error; err != nil {
		return 0, failed, err
	}
	if len(cps) == 0 {
		return 0, failed, ErrNoCheckpoint
	}
	keys, err := l.VerifierKeys(ctx)
	if err != nil {
		return 0, failed, err
	}
	sizes := make([]int64, len(cps))
	signed := make([]tlog.Hash, len(cps))
	for i, c := range cps {
		parsed, err := OpenCheckpoint([]byte(c.Note), keys...)
		switch {
		case err != nil:
			return i, CheckpointCheck{Checkpoint: c, Problem: err.Error()}, nil
		case parsed.TreeSize != c.TreeSize || EncodeHash(parsed.RootHash) != c.RootHash:
			return i, CheckpointCheck{Checkpoint: c, Problem: "the stored size or root differs from the signed note"}, nil
		}
		sizes[i], signed[i] = c.TreeSize, parsed.RootHash
	}
	roots, err := RootsFromEvents(ctx, l.db, sizes)
	if err != nil {
		// The events are fewer than a checkpoint signed: name the first
		// checkpoint that the trail no longer reaches.
		var have int64
		if err := l.db.WithContext(ctx).Model(&audit.Event{}).Count(&have).Error; err != nil {
			return 0, failed, err
		}
		for i, c := range cps {
			if c.TreeSize > have {
				return i, CheckpointCheck{Checkpoint: c, Problem: err.Error()}, nil
			}
		}
		return 0, failed, err
	}
	for i, c := range cps {
		if roots[i] != signed[i] {
			return i, CheckpointCheck{Checkpoint: c, Problem: "the audit events no longer hash to the signed root: the trail was changed after it was signed"}, nil
		}
	}
	return len(cps), failed, nil
}

func (l *Log) check(ctx context.Context, c Checkpoint) CheckpointCheck {
	res := CheckpointCheck{Checkpoint: c}
	keys, err := l.VerifierKeys(ctx)
	if err != nil {
		res.Problem = err.Error()
		return res
	}
	parsed, err := OpenCheckpoint([]byte(c.Note), keys...)
	switch {
	case err != nil:
		res.Problem = err.Error()
	case parsed.TreeSize != c.TreeSize || EncodeHash(parsed.RootHash) != c.RootHash:
		res.Problem = "the stored size or root differs from the signed note"
	default:
		root, err := RootFromEvents(ctx, l.db, c.TreeSize)
		if err != nil {
			res.Problem = err.Error()
		} else if root != parsed.RootHash {
			res.Problem = "the audit events no longer hash to the signed root: the trail was changed after it was signed"
		}
	}
	return res
}

// ExtendsCheck is the outcome of checking that the log extends an
// older checkpoint.
type ExtendsCheck struct {
	Old    ParsedCheckpoint
	Latest Checkpoint
	Proof  ConsistencyProof
}

// CheckExtends verifies old (a signed checkpoint kept by an auditor) with
// the log's verifier keys, proves with a consistency proof that the
// newest checkpoint extends it, and checks that the audit events as they
// are now hash to the newest checkpoint's root. Any failure is an error
// that says which step failed.
func (l *Log) CheckExtends(ctx context.Context, old []byte) (ExtendsCheck, error) {
	var res ExtendsCheck
	keys, err := l.VerifierKeys(ctx)
	if err != nil {
		return res, err
	}
	parsed, err := OpenCheckpoint(old, keys...)
	if err != nil {
		return res, fmt.Errorf("the old checkpoint: %w", err)
	}
	res.Old = parsed
	if origin, err := l.Origin(ctx); err != nil {
		return res, err
	} else if parsed.Origin != origin {
		return res, fmt.Errorf("the old checkpoint is of the log %q, not of this log %q", parsed.Origin, origin)
	}
	latest, err := l.Latest(ctx)
	if err != nil {
		return res, err
	}
	res.Latest = latest
	if parsed.TreeSize > latest.TreeSize {
		return res, fmt.Errorf("the old checkpoint has %d events, more than the newest checkpoint here (%s): the log was cut short", parsed.TreeSize, latest.Name())
	}
	if chk := l.check(ctx, latest); chk.Problem != "" {
		return res, fmt.Errorf("%s: %s", latest.Name(), chk.Problem)
	}
	latestRoot, err := DecodeHash(latest.RootHash)
	if err != nil {
		return res, err
	}
	if parsed.TreeSize == 0 {
		return res, nil
	}
	// The tree table may have been rewritten with the events; the proof
	// is checked against the two signed roots, so stale or forged tree
	// hashes fail here rather than pass.
	proof, err := l.Consistency(ctx, parsed.TreeSize, latest.TreeSize)
	if err != nil {
		return res, err
	}
	res.Proof = proof
	if err := tlog.CheckTree(proof.Path, latest.TreeSize, latestRoot, parsed.TreeSize, parsed.RootHash); err != nil {
		return res, fmt.Errorf("the log at %s does not extend the old checkpoint of size %d: the events it covered were changed", latest.Name(), parsed.TreeSize)
	}
	root, err := RootFromEvents(ctx, l.db, parsed.TreeSize)
	if err != nil {
		return res, err
	}
	if root != parsed.RootHash {
		return res, fmt.Errorf("the audit events no longer hash to the old checkpoint's root (size %d): the trail was changed after it was signed", parsed.TreeSize)
	}
	return res, nil
}

// Announcement is a signed statement that the log's signing key changes.
type Announcement struct {
	ID       int64 `gorm:"primaryKey"`
	OldKey   string
	NewKey   string
	TreeSize int64
	// Note is signed by the old key and by the new one: the old key
	// vouches for the new, and the new one shows it is held.
	Note      string
	CreatedAt time.Time
}

// TableName is the table of key announcements.
func (Announcement) TableName() string { return "audit_key_announcements" }

// AnnouncementText is the text of a key announcement.
func AnnouncementText(origin, oldKey, newKey string, size int64) string {
	return fmt.Sprintf("%s key rotation\nold %s\nnew %s\nfrom tree size %d\n", origin, oldKey, newKey, size)
}

// AnnounceKey prepares the move to newKey: it records the rotation as an
// audit event, signs a last checkpoint with the current key (covering
// that event), and stores a statement naming both verifier keys, signed
// by both. The operator then installs newKey as the signing key file;
// checkpoints made before stay verifiable with the old verifier key,
// which VerifierKeys keeps listing.
func (l *Log) AnnounceKey(ctx context.Context, by audit.Actor, newKey ed25519.PrivateKey) (Announcement, error) {
	return l.AnnounceKeyAnd(ctx, by, newKey, func(*gorm.DB) error { return nil })
}

// AnnounceKeyAnd is AnnounceKey with record run in the transaction that
// stores the announcement (recording the new key's fingerprint), so that
// the key counts as rotated exactly when it is announced.
func (l *Log) AnnounceKeyAnd(ctx context.Context, by audit.Actor, newKey ed25519.PrivateKey, record func(tx *gorm.DB) error) (Announcement, error) {
	var a Announcement
	origin, err := l.Origin(ctx)
	if err != nil {
		return a, err
	}
	oldSigner, oldKey, err := newSigner(l.key, origin)
	if err != nil {
		return a, err
	}
	newSigner, newKeyText, err := newSigner(newKey, origin)
	if err != nil {
		return a, err
	}
	if oldKey == newKeyText {
		return a, errors.New("the new key is the current key")
	}
	if err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Append(tx, by, audit.Entry{At: l.now(), Action: "audit.key.announced", ObjectType: "audit_log", ObjectID: origin,
			After: map[string]string{"old_key": oldKey, "new_key": newKeyText}})
	}); err != nil {
		return a, err
	}
	c, _, err := l.Checkpoint(ctx, "key-rotation")
	if err != nil {
		return a, err
	}
	signed, err := note.Sign(&note.Note{Text: AnnouncementText(origin, oldKey, newKeyText, c.TreeSize)}, oldSigner, newSigner)
	if err != nil {
		return a, err
	}
	a = Announcement{OldKey: oldKey, NewKey: newKeyText, TreeSize: c.TreeSize, Note: string(signed), CreatedAt: l.now().UTC().Truncate(time.Microsecond)}
	return a, l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		return record(tx)
	})
}

// Announcements returns every key announcement, oldest first.
func (l *Log) Announcements(ctx context.Context) ([]Announcement, error) {
	var as []Announcement
	err := l.db.WithContext(ctx).Order("id").Find(&as).Error
	return as, err
}

// VerifyAnnouncement checks that an announcement is signed by both the
// old and the new key it names.
func VerifyAnnouncement(signed []byte) (oldKey, newKey string, err error) {
	// Read the keys from the unverified text first, then require both.
	text, _, _ := strings.Cut(string(signed), "\n\n")
	for _, line := range strings.Split(text, "\n") {
		if k, ok := strings.CutPrefix(line, "old "); ok {
			oldKey = k
		}
		if k, ok := strings.CutPrefix(line, "new "); ok {
			newKey = k
		}
	}
	for _, k := range []string{oldKey, newKey} {
		v, err := note.NewVerifier(k)
		if err != nil {
			return "", "", fmt.Errorf("the announcement names no valid key: %w", err)
		}
		if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
			return "", "", fmt.Errorf("the announcement is not signed by %s: %w", k, err)
		}
	}
	return oldKey, newKey, nil
}
