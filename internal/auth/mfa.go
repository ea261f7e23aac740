package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/keys"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"
)

// TOTP second factor (SECURITY.md; ASVS 5 V6.5): RFC 6238 codes of 6
// digits every 30 seconds, one step of clock skew either way, each time
// step accepted once; ten single-use recovery codes stored hashed. The
// secret is encrypted at rest with AES-256-GCM under a key kept in the
// data directory.

// MFAKeyFile is the encryption key's file in the data directory.
const MFAKeyFile = "mfa.key"

// RecoveryCodes is how many recovery codes an enrolment gives.
const RecoveryCodes = 10

// LoadOrCreateMFAKey reads the 32-byte key at path, creating it (0600) on
// first use; a key others can read is refused.
func LoadOrCreateMFAKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating the MFA key: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		return key, f.Close()
	} else if err != nil {
		return nil, fmt.Errorf("reading the MFA key: %w", err)
	}
	return checkMFAKey(path, key)
}

// LoadMFAKey reads the 32-byte key at path, which must exist: a key given
// by a setting is shared by every instance.
func LoadMFAKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the MFA key %s does not exist; make it once (head -c 32 /dev/urandom > %s; chmod 600 %s) and give the same file to every instance", path, path, path)
	} else if err != nil {
		return nil, fmt.Errorf("reading the MFA key: %w", err)
	}
	return checkMFAKey(path, key)
}

func checkMFAKey(path string, key []byte) ([]byte, error) {
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the MFA key %s is readable by other users (mode %v); chmod 600 it", path, info.Mode().Perm())
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the MFA key %s is not 32 bytes", path)
	}
	return key, nil
}

// SetMFAKey gives the service the key that encrypts TOTP secrets.
func (s *Service) SetMFAKey(key []byte) { s.mfaKey = key }

// RotateMFAKey re-encrypts every stored TOTP secret under newKey in one
// transaction, with an audit event and whatever record adds in the same
// transaction (the new key's fingerprint), then uses newKey. A secret
// the current key cannot open stops the rotation: nothing is changed.
// An enrolment begun but not confirmed before it must be started again.
func (s *Service) RotateMFAKey(ctx context.Context, by audit.Actor, newKey []byte, record func(tx *gorm.DB) error) (int, error) {
	if len(newKey) != 32 {
		return 0, errors.New("the new MFA key is not 32 bytes")
	}
	if bytes.Equal(newKey, s.mfaKey) {
		return 0, errors.New("the new MFA key is the current key")
	}
	next := &Service{mfaKey: newKey}
	n := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var users []User
		if err := tx.Select("id", "mfa_secret").Where("mfa_secret <> ''").Order("id").Find(&users).Error; err != nil {
			return err
		}
		for _, u := range users {
			secret, err := s.open(u.MFASecret)
			if err != nil {
				return fmt.Errorf("user %d's TOTP secret does not open with the current MFA key: %w", u.ID, err)
			}
			sealed, err := next.seal(secret)
			if err != nil {
				return err
			}
			if err := tx.Model(&User{}).Where("id = ?", u.ID).Update("mfa_secret", sealed).Error; err != nil {
				return err
			}
		}
		n = len(users)
		if err := audit.Append(tx, by, audit.Entry{At: s.now(), Action: "mfa.key.rotated", ObjectType: "mfa_key", ObjectID: "mfa",
			After: map[string]int{"secrets_reencrypted": n}}); err != nil {
			return err
		}
		return record(tx)
	})
	if err != nil {
		return 0, err
	}
	s.mfaKey = newKey
	return n, nil
}

func (s *Service) seal(plain string) (string, error) { return keys.Seal(s.mfaKey, plain, "") }

func (s *Service) open(sealed string) (string, error) { return keys.Open(s.mfaKey, sealed, "") }

// HasMFA reports whether the user signs in with a second factor.
func (u *User) HasMFA() bool { return u.MFAEnabledAt != nil }

// Enrolment is a TOTP secret waiting to be confirmed with a first code.
type Enrolment struct {
	Secret string // base32, for typing into an app
	URL    string // otpauth:// URL
	QRCode string // data: URL of a PNG of the URL
	Sealed string // the secret encrypted, to carry to the confirmation
}

// BeginEnrolment makes a new secret for the user; nothing is stored until
// ConfirmEnrolment.
func (s *Service) BeginEnrolment(u *User, issuer string) (*Enrolment, error) {
	return s.enrolment(u, totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, SecretSize: 20})
}

// ResumeEnrolment is the enrolment of sealed again, so that a refused
// confirmation keeps the secret already scanned; a new one when sealed is
// empty or cannot be opened.
func (s *Service) ResumeEnrolment(u *User, issuer, sealed string) (*Enrolment, error) {
	secret, err := s.open(sealed)
	if err != nil {
		return s.BeginEnrolment(u, issuer)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return s.BeginEnrolment(u, issuer)
	}
	return s.enrolment(u, totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Secret: raw})
}

func (s *Service) enrolment(u *User, opts totp.GenerateOpts) (*Enrolment, error) {
	key, err := totp.Generate(opts)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	sealed, err := s.seal(key.Secret())
	if err != nil {
		return nil, err
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL(), QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), Sealed: sealed}, nil
}

// ErrBadCode refuses a wrong, expired or replayed code.
var ErrBadCode = apperr.Field("code", "is wrong, expired or already used")

// matchStep returns the time step whose code is passcode, within one step
// of now, or 0.
func matchStep(secret, passcode string, now time.Time) int64 {
	passcode = strings.ReplaceAll(strings.TrimSpace(passcode), " ", "")
	step := now.Unix() / 30
	for _, d := range []int64{0, -1, 1} {
		code, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && code == passcode {
			return step + d
		}
	}
	return 0
}

// ConfirmEnrolment checks the current password and a first code, turns
// the second factor on, ends the user's other sessions and returns the
// recovery codes (shown once).
func (s *Service) ConfirmEnrolment(ctx context.Context, by audit.Actor, userID int64, currentPassword, sealed, code string) ([]string, error) {
	secret, err := s.open(sealed)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "the enrolment expired; start again")
	}
	var u User
	if err := s.db.WithContext(ctx).Take(&u, userID).Error; err != nil {
		return nil, err
	}
	// Every problem at once: the password and the code.
	errs := map[string]string{}
	switch {
	case currentPassword == "":
		errs["current_password"] = "is required"
	case !VerifyPassword(u.PasswordHash, currentPassword):
		errs["current_password"] = "is not your current password"
	}
	step := matchStep(secret, code, s.now())
	switch {
	case strings.TrimSpace(code) == "":
		errs["code"] = "is required"
	case step == 0:
		errs["code"] = ErrBadCode.Fields["code"]
	}
	if len(errs) > 0 {
		return nil, apperr.Fields(errs)
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		stored, err := s.seal(secret)
		if err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"mfa_secret": stored, "mfa_enabled_at": now, "mfa_last_step": step, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := replaceRecoveryCodes(tx, userID, hashes); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "mfa.enabled", ObjectType: "user", ObjectID: strconv.FormatInt(userID, 10),
			After: map[string]any{"factor": "totp", "recovery_codes": RecoveryCodes}})
	})
	return codes, err
}

func newRecoveryCodes() (codes, hashes []string, err error) {
	for range RecoveryCodes {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, err
		}
		c := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
		code := c[:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
		codes = append(codes, code)
		hashes = append(hashes, recoveryHash(code))
	}
	return codes, hashes, nil
}

// recoveryHash is the stored form of a recovery code; the codes carry 80
// random bits, so a plain SHA-256 suffices.
func recoveryHash(code string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))))
	return hex.EncodeToString(sum[:])
}

type recoveryCode struct {
	ID       int64
	UserID   int64
	CodeHash string
	UsedAt   *time.Time
}

func (recoveryCode) TableName() string { return "recovery_codes" }

func replaceRecoveryCodes(tx *gorm.DB, userID int64, hashes []string) error {
	if err := tx.Where("user_id = ?", userID).Delete(&recoveryCode{}).Error; err != nil {
		return err
	}
	rows := make([]recoveryCode, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryCode{UserID: userID, CodeHash: h}
	}
	return tx.Create(&rows).Error
}

// VerifySecondFactor checks a TOTP code (each time step once) or an
// unused recovery code, and audits the outcome. It returns the factor
// used.
func (s *Service) VerifySecondFactor(ctx context.Context, from audit.Actor, userID int64, code string) (string, error) {
	var u User
	if err := s.db.WithContext(ctx).Take(&u, userID).Error; err != nil {
		return "", err
	}
	if !u.HasMFA() {
		return "", apperr.New(apperr.Conflict, "no second factor is set up")
	}
	if err := s.throttle(ctx, u.Email, "totp", from); err != nil {
		return "", err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	factor, ok := "totp", false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if secret, err := s.open(u.MFASecret); err == nil {
			if step := matchStep(secret, code, now); step != 0 {
				// The conditional update accepts each step once, even
				// against a concurrent sign-in with the same code.
				res := tx.Model(&User{}).Where("id = ? AND mfa_last_step < ?", userID, step).Update("mfa_last_step", step)
				if res.Error != nil {
					return res.Error
				}
				ok = res.RowsAffected == 1
			}
		}
		if !ok && len(strings.TrimSpace(code)) > 8 {
			factor = "recovery code"
			res := tx.Model(&recoveryCode{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, recoveryHash(code)).Update("used_at", now)
			if res.Error != nil {
				return res.Error
			}
			ok = res.RowsAffected == 1
		}
		by := from
		by.UserID, by.Label = u.ID, u.Email
		action, after := "auth.mfa.succeeded", map[string]string{"factor": factor}
		if !ok {
			action, after["reason"] = "auth.mfa.failed", "wrong, expired or reused code"
		}
		if err := audit.Append(tx, by, audit.Entry{At: now, Action: action, ObjectType: "user", ObjectID: strconv.FormatInt(userID, 10), After: after}); err != nil {
			return err
		}
		if ok {
			return nil
		}
		return s.recordFailure(tx, u.Email, &u, from, now)
	})
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrBadCode
	}
	return factor, nil
}

// DisableMFA turns the second factor off after checking the password.
func (s *Service) DisableMFA(ctx context.Context, by audit.Actor, userID int64, currentPassword string) error {
	var u User
	if err := s.db.WithContext(ctx).Take(&u, userID).Error; err != nil {
		return err
	}
	if !VerifyPassword(u.PasswordHash, currentPassword) {
		return apperr.Field("current_password", "is not your current password")
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		if err := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"mfa_secret": "", "mfa_enabled_at": nil, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", userID).Delete(&recoveryCode{}).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "mfa.disabled", ObjectType: "user", ObjectID: strconv.FormatInt(userID, 10)})
	})
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID int64) (int64, error) {
	var n int64
	return n, s.db.WithContext(ctx).Model(&recoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
}
