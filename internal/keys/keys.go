// Package keys records the fingerprints of the keys every instance must
// share (the signing key of packets, bundles and checkpoints, and the key
// that encrypts TOTP secrets), so that an instance given other keys
// refuses to start, and one whose keys were rotated underneath it stops
// answering ready, instead of serving signatures nobody can verify or
// failing to read second factors.
package keys

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The keys whose fingerprints are recorded.
const (
	Signing = "signing"
	MFA     = "mfa"
)

// Record is one key's recorded fingerprint.
type Record struct {
	Name        string `gorm:"primaryKey"`
	Fingerprint string
	RecordedAt  time.Time
}

// TableName is the table of recorded fingerprints.
func (Record) TableName() string { return "key_fingerprints" }

// SigningFingerprint is the SHA-256 of the raw Ed25519 public key.
func SigningFingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// mfaLabel is what the MFA key's fingerprint authenticates: a symmetric
// key has no public half, and its plain hash would be a test of guesses
// at the key itself.
const mfaLabel = "charter mfa key fingerprint v1"

// MFAFingerprint is an HMAC-SHA-256 of a fixed label under the key.
func MFAFingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(mfaLabel))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// Setting names the setting that supplies a key, for the messages.
type Setting struct {
	Flag string
	Env  string
}

// SettingOf is the setting that supplies the key name.
func SettingOf(name string) Setting {
	if name == MFA {
		return Setting{Flag: "--mfa-key-file", Env: "CHARTER_MFA_KEY_FILE"}
	}
	return Setting{Flag: "--signing-key-file", Env: "CHARTER_SIGNING_KEY_FILE"}
}

// describe is how the messages name each key.
func describe(name string) string {
	switch name {
	case Signing:
		return "the signing key (packets, evidence bundles and audit checkpoints)"
	case MFA:
		return "the MFA key (it encrypts the TOTP secrets)"
	}
	return "the key " + name
}

// MismatchError says that an instance holds another key than the one the
// database was set up with.
type MismatchError struct {
	Key      string
	Path     string
	Have     string
	Recorded string
}

func (e *MismatchError) Error() string {
	s := SettingOf(e.Key)
	return fmt.Sprintf("%s %s (fingerprint %s) differs from the one this database was set up with (fingerprint %s); "+
		"give every instance the same key with %s (%s), or rotate it with %s",
		describe(e.Key), e.Path, e.Have, e.Recorded, s.Env, s.Flag, rotateCommand(e.Key))
}

func rotateCommand(name string) string {
	if name == MFA {
		return "charter keys rotate-mfa --new-key FILE"
	}
	return "charter audit rotate-key --new-key FILE"
}

// Held is a key this instance holds: its name, the file it came from and
// its fingerprint.
type Held struct {
	Name        string
	Path        string
	Fingerprint string
}

// Registry compares the keys this instance holds with the recorded ones.
type Registry struct {
	db   *gorm.DB
	now  func() time.Time
	held []Held
}

// NewRegistry is a registry of the keys held, over db.
func NewRegistry(db *gorm.DB, now func() time.Time, held ...Held) *Registry {
	return &Registry{db: db, now: now, held: held}
}

// Establish records the fingerprint of every held key the database has
// none for yet (on first start, with an audit event in the same
// transaction), then checks every held key against the record. Several
// instances starting at once record the fingerprints once: the first
// insert wins and the others compare against it.
func (r *Registry) Establish(ctx context.Context, by audit.Actor) error {
	for _, h := range r.held {
		err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := r.now().UTC().Truncate(time.Microsecond)
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Record{Name: h.Name, Fingerprint: h.Fingerprint, RecordedAt: now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return nil
			}
			return audit.Append(tx, by, audit.Entry{At: now, Action: "keys.fingerprint.recorded", ObjectType: "key", ObjectID: h.Name,
				After: map[string]string{"fingerprint": h.Fingerprint}})
		})
		if err != nil {
			return fmt.Errorf("recording the fingerprint of %s: %w", describe(h.Name), err)
		}
	}
	return r.Check(ctx)
}

// Check compares every held key with its recorded fingerprint (one small
// query), returning a *MismatchError for the first that differs. A key
// with no record yet passes: Establish records it.
func (r *Registry) Check(ctx context.Context) error {
	var recs []Record
	if err := r.db.WithContext(ctx).Find(&recs).Error; err != nil {
		return err
	}
	recorded := make(map[string]string, len(recs))
	for _, rec := range recs {
		recorded[rec.Name] = rec.Fingerprint
	}
	for _, h := range r.held {
		if fp, ok := recorded[h.Name]; ok && fp != h.Fingerprint {
			return &MismatchError{Key: h.Name, Path: h.Path, Have: h.Fingerprint, Recorded: fp}
		}
	}
	return nil
}

// Replace records fp as the fingerprint of the key name inside tx, the
// transaction that moves to the new key, with an audit event. From then
// on instances holding the old key fail Check.
func Replace(tx *gorm.DB, by audit.Actor, at time.Time, name, fp string) error {
	at = at.UTC().Truncate(time.Microsecond)
	var old Record
	err := tx.Take(&old, "name = ?", name).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return err
	}
	if err := tx.Save(&Record{Name: name, Fingerprint: fp, RecordedAt: at}).Error; err != nil {
		return err
	}
	return audit.Append(tx, by, audit.Entry{At: at, Action: "keys.fingerprint.replaced", ObjectType: "key", ObjectID: name,
		Before: map[string]string{"fingerprint": old.Fingerprint}, After: map[string]string{"fingerprint": fp}})
}
