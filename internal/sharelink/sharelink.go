// Package sharelink is Charter's one implementation of share links
// (SECURITY.md): 256-bit random tokens, of which only the SHA-256 is stored;
// an expiry on every link; revocation effective on the next request. Areas
// name their links by purpose and point them at a subject (an employee, a
// packet, …).
package sharelink

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"gorm.io/gorm"
)

// Link is a share link without its token.
type Link struct {
	ID         int64
	Purpose    string
	SubjectID  int64
	TokenHash  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// TableName is the table of links.
func (Link) TableName() string { return "share_links" }

// MaxTTL is the longest a link may live (SECURITY.md: at most 90 days).
const MaxTTL = 90 * 24 * time.Hour

// Errors of resolving a token.
var (
	// ErrUnknown: no link has this token. Callers rate-limit these misses.
	ErrUnknown = apperr.New(apperr.NotFound, "this link is not valid")
	// ErrDead: the link expired or was revoked; answer 410 with no content.
	ErrDead = apperr.New(apperr.Gone, "this link has expired or was withdrawn; ask for a new one")
)

// Hash returns the stored form of a token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// WellFormed reports whether token could have been issued here, so that
// junk is refused without a query.
func WellFormed(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == 32
}

// Issue makes a new link in tx (the caller's transaction) and revokes the
// subject's earlier links of the same purpose, so that only the newest
// works. It returns the token, which is never stored.
func Issue(tx *gorm.DB, now time.Time, purpose string, subjectID int64, ttl time.Duration) (string, *Link, error) {
	if ttl <= 0 || ttl > MaxTTL {
		return "", nil, apperr.Field("ttl", "a link lives between a second and 90 days")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := Revoke(tx, now, purpose, subjectID); err != nil {
		return "", nil, err
	}
	l := Link{Purpose: purpose, SubjectID: subjectID, TokenHash: Hash(token), CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := tx.Create(&l).Error; err != nil {
		return "", nil, err
	}
	return token, &l, nil
}

// IssueAnother makes a new link without revoking the subject's others:
// for links that several emails carry at once, such as unsubscribe links.
func IssueAnother(tx *gorm.DB, now time.Time, purpose string, subjectID int64, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > MaxTTL {
		return "", apperr.Field("ttl", "a link lives between a second and 90 days")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	return token, tx.Create(&Link{Purpose: purpose, SubjectID: subjectID, TokenHash: Hash(token), CreatedAt: now, ExpiresAt: now.Add(ttl)}).Error
}

// Revoke ends every live link of the subject for this purpose.
func Revoke(tx *gorm.DB, now time.Time, purpose string, subjectID int64) error {
	return tx.Model(&Link{}).Where("purpose = ? AND subject_id = ? AND revoked_at IS NULL", purpose, subjectID).
		Update("revoked_at", now).Error
}

// Find returns the link for token, live or not, so that a refused access
// can still be logged against its subject. Errors: ErrUnknown.
func Find(db *gorm.DB, purpose, token string) (*Link, error) {
	if !WellFormed(token) {
		return nil, ErrUnknown
	}
	var l Link
	err := db.Where("token_hash = ? AND purpose = ?", Hash(token), purpose).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUnknown
	}
	return &l, err
}

// Live reports whether the link works at now.
func (l *Link) Live(now time.Time) bool { return l.RevokedAt == nil && now.Before(l.ExpiresAt) }

// Resolve finds the live link for token. Errors: ErrUnknown, ErrDead.
func Resolve(db *gorm.DB, now time.Time, purpose, token string) (*Link, error) {
	l, err := Find(db, purpose, token)
	if err != nil {
		return nil, err
	}
	if !l.Live(now) {
		return nil, ErrDead
	}
	return l, nil
}

// Touch records that a link was used.
func Touch(tx *gorm.DB, now time.Time, l *Link) error {
	return tx.Model(l).Update("last_used_at", now).Error
}

// LiveSubjects returns the subjects that have a live link of the purpose.
func LiveSubjects(db *gorm.DB, now time.Time, purpose string) (map[int64]bool, error) {
	var ids []int64
	if err := db.Model(&Link{}).Where("purpose = ? AND revoked_at IS NULL AND expires_at > ?", purpose, now).
		Distinct().Pluck("subject_id", &ids).Error; err != nil {
		return nil, err
	}
	live := make(map[int64]bool, len(ids))
	for _, id := range ids {
		live[id] = true
	}
	return live, nil
}
