// Package auditlog makes the audit trail a transparency log (RFC 9162,
// as Certificate Transparency and Go's checksum database): a Merkle tree
// over the audit events, signed checkpoints of it in the C2SP
// tlog-checkpoint format, inclusion and consistency proofs, and the
// announcement of a new signing key.
//
// It is a package of its own, beside internal/audit, because every
// register imports audit to append events: the tree, the signing key and
// the proofs are needed only by exports, the API and the CLI, and keeping
// them out of audit keeps that import small.
//
// Leaf i of the tree (0-based) is the event with seq i+1. Its leaf data is
// the 32 bytes of that event's chain hash (the hex of audit_events.hash,
// decoded), so its leaf hash is SHA-256(0x00 || those 32 bytes). The chain
// hash covers every field of the event and the previous event's hash, so a
// leaf commits to the event and to the whole trail before it.
//
// Checkpoints are not audit events. A checkpoint that appended an event
// would add a leaf to the very tree it signs, so the log would never be
// covered by its newest checkpoint, and the hourly job, which checkpoints
// only when there are new events, would find one every hour forever.
package auditlog

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/jobs"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// pgTreeLock is the PostgreSQL advisory lock that serialises extending
// the tree and signing checkpoints, so that two instances never write the
// same tree hash or two checkpoints of one size.
const pgTreeLock = 0x74726565 // "tree"

// Errors.
var (
	ErrNoCheckpoint = apperr.New(apperr.NotFound, "no checkpoint has been made yet")
	ErrEmptyLog     = apperr.New(apperr.NotFound, "the audit trail has no events to checkpoint")
)

// Checkpoint is one signed checkpoint as stored.
type Checkpoint struct {
	ID       int64 `gorm:"primaryKey"`
	TreeSize int64
	// RootHash is the tree's root, base64 as in the checkpoint text.
	RootHash string
	// Note is the signed note: the checkpoint text, a blank line and the
	// signature lines.
	Note string
	// VerifierKey is the note verifier key of the key that signed it.
	VerifierKey string
	// Reason says what made it: schedule, export, command or key-rotation.
	Reason    string
	CreatedAt time.Time
}

// TableName is the table of checkpoints.
func (Checkpoint) TableName() string { return "audit_checkpoints" }

// Origin returns the checkpoint's origin line.
func (c Checkpoint) Origin() string {
	origin, _, _ := strings.Cut(c.Note, "\n")
	return origin
}

type treeHash struct {
	Idx  int64 `gorm:"primaryKey;autoIncrement:false"`
	Hash string
}

func (treeHash) TableName() string { return "audit_tree_hashes" }

// Log is the transparency log of one instance's audit trail.
type Log struct {
	db  *gorm.DB
	now func() time.Time
	key ed25519.PrivateKey
	// defaultOrigin is used until the first checkpoint; after it, the
	// stored checkpoints' origin is kept, so a changed base URL does not
	// split the log in two.
	defaultOrigin string
}

// NewLog returns the log of db's audit trail, signing with key.
func NewLog(db *gorm.DB, now func() time.Time, key ed25519.PrivateKey, origin string) *Log {
	return &Log{db: db, now: now, key: key, defaultOrigin: origin}
}

// OriginFor derives a checkpoint origin from the instance's base URL: its
// host and path followed by "/audit-log", e.g. "trust.example.com/audit-log".
// It names the log in the checkpoint's first line and the signing key.
func OriginFor(baseURL string) string {
	u, err := url.Parse(baseURL)
	host := ""
	if err == nil {
		host = u.Host + strings.TrimRight(u.Path, "/")
	}
	host = strings.NewReplacer(" ", "", "+", "").Replace(host)
	if host == "" {
		host = "charter"
	}
	return host + "/audit-log"
}

// Origin returns the log's origin: that of its checkpoints, or the
// configured one before the first.
func (l *Log) Origin(ctx context.Context) (string, error) {
	c, err := l.Latest(ctx)
	if errors.Is(err, ErrNoCheckpoint) {
		return l.defaultOrigin, nil
	}
	if err != nil {
		return "", err
	}
	return c.Origin(), nil
}

// VerifierKey returns the note verifier key of the current signing key
// for the log's origin, as `note.NewVerifier` and `note.Open` take it.
func (l *Log) VerifierKey(ctx context.Context) (string, error) {
	origin, err := l.Origin(ctx)
	if err != nil {
		return "", err
	}
	return note.NewEd25519VerifierKey(origin, l.key.Public().(ed25519.PublicKey))
}

// Latest returns the newest checkpoint. Errors: ErrNoCheckpoint.
func (l *Log) Latest(ctx context.Context) (Checkpoint, error) {
	var c Checkpoint
	err := l.db.WithContext(ctx).Order("tree_size DESC").Limit(1).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, ErrNoCheckpoint
	}
	return c, err
}

// History returns limit checkpoints, newest first, skipping the offset
// newest: one a hour, the whole list grows by thousands a year.
func (l *Log) History(ctx context.Context, offset, limit int) ([]Checkpoint, error) {
	var cs []Checkpoint
	err := l.db.WithContext(ctx).Order("tree_size DESC").Offset(offset).Limit(limit).Find(&cs).Error
	return cs, err
}

// Checkpoint extends the tree to the newest event and signs a checkpoint
// of it, unless the newest checkpoint already covers every event: then it
// returns that one and made is false. Errors: ErrEmptyLog.
func (l *Log) Checkpoint(ctx context.Context, reason string) (c Checkpoint, made bool, err error) {
	// Catch up in bounded transactions first, so that a first run over a
	// long trail does not hold the write lock for all of it at once.
	for {
		added, err := l.extendBatch(ctx)
		if err != nil {
			return c, false, err
		}
		if added < extendBatchSize {
			break
		}
	}
	err = l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockTree(tx); err != nil {
			return err
		}
		size, err := extend(tx, -1)
		if err != nil {
			return err
		}
		if size == 0 {
			return ErrEmptyLog
		}
		var latest Checkpoint
		err = tx.Order("tree_size DESC").Limit(1).Take(&latest).Error
		switch {
		case err == nil && latest.TreeSize >= size:
			c = latest
			return nil
		case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		origin := l.defaultOrigin
		if err == nil {
			origin = latest.Origin()
		}
		root, err := tlog.TreeHash(size, &hashReader{tx: tx})
		if err != nil {
			return fmt.Errorf("auditlog: computing the root: %w", err)
		}
		signed, vkey, err := signCheckpoint(l.key, origin, size, root)
		if err != nil {
			return err
		}
		c = Checkpoint{TreeSize: size, RootHash: EncodeHash(root), Note: string(signed), VerifierKey: vkey,
			Reason: reason, CreatedAt: l.now().UTC().Truncate(time.Microsecond)}
		made = true
		return tx.Create(&c).Error
	})
	return c, made, err
}

// Job is the scheduled checkpoint: hourly, and only when there were new
// events since the last one (Checkpoint then makes none).
func (l *Log) Job() jobs.Job {
	return jobs.Job{Name: "audit.checkpoint", Period: func(t time.Time) string { return t.UTC().Format("2006-01-02T15") },
		Do: func(ctx context.Context) (string, error) {
			c, made, err := l.Checkpoint(ctx, "schedule")
			switch {
			case errors.Is(err, ErrEmptyLog):
				return "no events yet", nil
			case err != nil:
				return "", err
			case !made:
				return fmt.Sprintf("no new events since the checkpoint of size %d", c.TreeSize), nil
			}
			return fmt.Sprintf("checkpoint of size %d signed", c.TreeSize), nil
		}}
}

// lockTree serialises tree writers on PostgreSQL; SQLite transactions
// begin immediate, which serialises them already.
func lockTree(tx *gorm.DB) error {
	if tx.Dialector.Name() == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", pgTreeLock).Error; err != nil {
			return fmt.Errorf("auditlog: locking the tree: %w", err)
		}
	}
	return nil
}

// readEvents returns the seq and chain hash of up to limit events after
// seq after, in order.
func readEvents(tx *gorm.DB, after int64, limit int) ([]audit.Event, error) {
	var rows []audit.Event
	err := tx.Select("seq", "hash").Where("seq > ?", after).Order("seq").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading events: %w", err)
	}
	return rows, nil
}
