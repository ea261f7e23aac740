package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// tokenPrefix marks Charter API tokens so that secret scanners can find them.
const tokenPrefix = "charter_"

// APIToken is a bearer token acting with its user's role.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string `json:"-"`
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// HashToken returns the stored form of a secret token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tokenName is what a token is called in lists and the audit trail.
type tokenName struct {
	Name string `validate:"required,max=100"`
}

// CreateToken makes an API token for the user with the given email and
// returns the secret once; only its hash is kept. A zero ttl means no expiry.
// Errors: ErrUserNotFound, Invalid.
func (s *Service) CreateToken(ctx context.Context, by audit.Actor, email, name string, ttl time.Duration) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if s.check.Struct(tokenName{Name: name}).Has("name") {
		return "", nil, apperr.Field("name", "is required (at most 100 characters)")
	}
	if ttl < 0 {
		return "", nil, apperr.Field("expires", "must be a positive duration")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	t := APIToken{Name: name, TokenHash: HashToken(secret), CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("email = ?", notify.NormalizeAddress(email)).Take(&u).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		if !u.Active() {
			return apperr.Field("email", "the user is disabled")
		}
		t.UserID = u.ID
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "api_token.created", ObjectType: "api_token",
			ObjectID: strconv.FormatInt(t.ID, 10),
			After:    map[string]any{"user": u.Email, "name": t.Name, "expires_at": t.ExpiresAt}})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &t, nil
}

// lastUsedGranularity bounds how often a token's last use is written, so
// that reads through the API do not each cost a write.
const lastUsedGranularity = time.Minute

// AuthenticateToken returns the active user behind a bearer token.
// Errors: ErrTokenInvalid.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (*User, *APIToken, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, nil, ErrTokenInvalid
	}
	var t APIToken
	err := s.db.WithContext(ctx).Where("token_hash = ?", HashToken(secret)).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, ErrTokenInvalid
	} else if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return nil, nil, ErrTokenInvalid
	}
	u, err := s.Get(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	if !u.CanSignIn(now) {
		return nil, nil, ErrTokenInvalid
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedGranularity {
		if err := s.db.WithContext(ctx).Model(&t).Update("last_used_at", now).Error; err != nil {
			return nil, nil, err
		}
	}
	return u, &t, nil
}

// TokenInfo is a token with its owner's email, for listings.
type TokenInfo struct {
	APIToken
	Email string
}

// Active reports whether the token still authenticates at now.
func (t *APIToken) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// ListTokens returns the tokens of one user (userID > 0) or of everyone,
// newest first.
func (s *Service) ListTokens(ctx context.Context, userID int64) ([]TokenInfo, error) {
	q := s.db.WithContext(ctx).Table("api_tokens").
		Select("api_tokens.*, users.email AS email").
		Joins("JOIN users ON users.id = api_tokens.user_id").
		Order("api_tokens.id DESC")
	if userID > 0 {
		q = q.Where("api_tokens.user_id = ?", userID)
	}
	var out []TokenInfo
	err := q.Scan(&out).Error
	return out, err
}

// RevokeToken stops a token from working from the next request on.
// Errors: ErrTokenNotFound, ErrAlreadyRevoked.
func (s *Service) RevokeToken(ctx context.Context, by audit.Actor, id int64) (*APIToken, error) {
	var t APIToken
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).First(&t, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrTokenNotFound
		} else if err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return ErrAlreadyRevoked
		}
		t.RevokedAt = &now
		if err := tx.Model(&t).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "api_token.revoked", ObjectType: "api_token",
			ObjectID: strconv.FormatInt(t.ID, 10), After: map[string]any{"name": t.Name, "user_id": t.UserID}})
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}
