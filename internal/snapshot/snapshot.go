// Package snapshot keeps dated, signed snapshots of the public promises:
// what /trust, the sub-processor list, the standard DPA, the public
// documents and the advisories said. A snapshot is recorded in the
// transaction of every change to them (when the content differs from the
// newest snapshot), signed with the instance's Ed25519 key, and its
// SHA-256 goes into the audit trail, whose signed checkpoints then cover
// it. Snapshots are kept forever: there is no path that changes or
// deletes one, and the database refuses it.
package snapshot

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/keys"
	"gorm.io/gorm"
)

// Snapshot is one recorded state of the public promises.
type Snapshot struct {
	ID      int64
	TakenAt time.Time
	SHA256  string `gorm:"column:sha256"`
	// Content is the canonical JSON of Content; SHA256 is its hash.
	Content string
	// Signature is the base64 Ed25519 signature of Message(TakenAt, SHA256).
	Signature      string
	KeyFingerprint string
}

// TableName is the snapshots table.
func (Snapshot) TableName() string { return "promise_snapshots" }

// Recorded is the audit action of a new snapshot; its after-state holds
// the snapshot's ID, time and SHA-256.
const Recorded = "promise_snapshot.recorded"

// MessagePrefix opens every signed message, so that a snapshot signature
// cannot be taken for a signature of anything else the key signs.
const MessagePrefix = "charter-promise-snapshot-v1"

// Message is what a snapshot's signature signs: three lines, each ending
// in a newline — the prefix, the time taken (RFC 3339, UTC, nanoseconds
// as needed) and the content's SHA-256 in lowercase hex.
func Message(takenAt time.Time, sum string) []byte {
	return []byte(MessagePrefix + "\n" + takenAt.UTC().Format(time.RFC3339Nano) + "\n" + sum + "\n")
}

// AsOfPath is the public page of the day the snapshot was taken.
func (s *Snapshot) AsOfPath() string { return "/trust/as-of/" + s.TakenAt.UTC().Format(time.DateOnly) }

// Path is the public address of exactly this snapshot.
func (s *Snapshot) Path() string { return "/trust/snapshots/" + strconv.FormatInt(s.ID, 10) + ".json" }

// Verify checks a snapshot against a public key: its content hashes to
// its SHA256, and its signature signs Message over them.
func Verify(pub ed25519.PublicKey, s *Snapshot) error {
	sum := sha256.Sum256([]byte(s.Content))
	if hex.EncodeToString(sum[:]) != s.SHA256 {
		return errors.New("snapshot: content does not match its SHA-256")
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil {
		return fmt.Errorf("snapshot: signature: %w", err)
	}
	if !ed25519.Verify(pub, Message(s.TakenAt, s.SHA256), sig) {
		return errors.New("snapshot: signature does not verify")
	}
	return nil
}

// ErrNone is the answer for a date before the first snapshot.
var ErrNone = apperr.New(apperr.NotFound, "no snapshot of the public promises was taken on or before that date")

// Service records and reads snapshots.
type Service struct {
	db          *gorm.DB
	now         func() time.Time
	key         ed25519.PrivateKey
	fingerprint string
}

// NewService returns a Service signing with key.
func NewService(db *gorm.DB, now func() time.Time, key ed25519.PrivateKey) *Service {
	return &Service{db: db, now: now, key: key, fingerprint: keys.SigningFingerprint(key.Public().(ed25519.PublicKey))}
}

// PublicKey is the key that verifies snapshots (published at
// /trust/signing-key.pem).
func (s *Service) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Record builds the public promises in tx, the transaction making a
// change, and stores a signed snapshot of them when they differ from the
// newest snapshot. It returns the snapshot in force after the change: the
// new one, or the newest when nothing public changed.
func (s *Service) Record(tx *gorm.DB) (*Snapshot, error) {
	// The audit chain's lock orders snapshots as it orders events: the
	// newest read below is the newest, and times only grow.
	if err := audit.LockChain(tx); err != nil {
		return nil, err
	}
	content, err := Build(tx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: reading the public promises: %w", err)
	}
	body, err := content.Canonical()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	hexSum := hex.EncodeToString(sum[:])
	var latest Snapshot
	err = tx.Order("id DESC").Limit(1).Take(&latest).Error
	switch {
	case err == nil && latest.SHA256 == hexSum:
		return &latest, nil
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, err
	}
	taken := s.now().UTC().Truncate(time.Microsecond)
	if err == nil && taken.Before(latest.TakenAt) {
		// Snapshots are in time order, so that "in force on a date" is
		// the newest taken before it, even if clocks disagree.
		taken = latest.TakenAt
	}
	snap := &Snapshot{TakenAt: taken, SHA256: hexSum, Content: string(body), KeyFingerprint: s.fingerprint,
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, Message(taken, hexSum)))}
	if err := tx.Create(snap).Error; err != nil {
		return nil, err
	}
	return snap, audit.Append(tx, audit.System("snapshot"), audit.Entry{At: taken, Action: "promise_snapshot.recorded", ObjectType: "promise_snapshot",
		ObjectID: strconv.FormatInt(snap.ID, 10), After: map[string]any{"sha256": hexSum, "taken_at": taken.Format(time.RFC3339Nano),
			"key_fingerprint": s.fingerprint}})
}

// RecordNow records a snapshot in a transaction of its own: the first
// start and the seed call it, so an install has a snapshot before its
// first change.
func (s *Service) RecordNow(ctx context.Context) (*Snapshot, error) {
	var snap *Snapshot
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		snap, err = s.Record(tx)
		return err
	})
	return snap, err
}

// ParseDay reads a YYYY-MM-DD date. Errors: Invalid naming field.
func ParseDay(field, v string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, apperr.Field(field, "must be a date as YYYY-MM-DD")
	}
	return t, nil
}

// AsOf returns the snapshot in force at the end of day (UTC): the newest
// taken before the next day began. A day after today is refused: its
// answer is not known yet. Errors: ErrNone, Invalid (field "date").
func (s *Service) AsOf(ctx context.Context, day time.Time) (*Snapshot, error) {
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	if start.After(s.now().UTC()) {
		return nil, apperr.Field("date", "is after today (UTC): a snapshot shows what was promised, not what will be")
	}
	end := start.AddDate(0, 0, 1)
	var snap Snapshot
	err := s.db.WithContext(ctx).Where("taken_at < ?", end).Order("taken_at DESC, id DESC").Limit(1).Take(&snap).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNone
	}
	return &snap, err
}

// ErrNotFound is the answer for an unknown snapshot ID.
var ErrNotFound = apperr.New(apperr.NotFound, "no such snapshot")

// Get returns one snapshot. Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Snapshot, error) {
	var snap Snapshot
	err := s.db.WithContext(ctx).Take(&snap, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &snap, err
}

// Summary is a snapshot without its content, for lists.
type Summary struct {
	ID             int64
	TakenAt        time.Time
	SHA256         string `gorm:"column:sha256"`
	KeyFingerprint string
}

// List returns the newest snapshots first: limit of them (200 when not
// positive) after the first offset.
func (s *Service) List(ctx context.Context, offset, limit int) ([]Summary, error) {
	if limit <= 0 {
		limit = 200
	}
	var out []Summary
	return out, s.db.WithContext(ctx).Model(&Snapshot{}).Select("id", "taken_at", "sha256", "key_fingerprint").
		Order("id DESC").Offset(offset).Limit(limit).Find(&out).Error
}

// Decode returns the snapshot's content.
func (s *Snapshot) Decode() (*Content, error) {
	var c Content
	if err := json.Unmarshal([]byte(s.Content), &c); err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", s.ID, err)
	}
	return &c, nil
}
