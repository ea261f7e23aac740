package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Account recovery: an admin resets another user's password (a one-time
// password that must be replaced at the next sign-in) or second factor, or
// clears the failed sign-ins counted against the account; a user who
// forgot their password asks for a reset link by email. Each ends the
// user's sessions, except Unlock, which changes no credential.

// PasswordResetPurpose names reset links among the share links.
const PasswordResetPurpose = "password_reset"

// DefaultResetLinkTTL is how long a reset link works unless set otherwise:
// long enough to read the email, short enough that an old mailbox is not a
// way in.
const DefaultResetLinkTTL = 30 * time.Minute

// RecoverySettings are what the forgotten-password emails need.
// Their links start with the base URL of SetBaseURL.
type RecoverySettings struct {
	// LinkTTL is how long a reset link works.
	LinkTTL time.Duration
}

// SetRecovery gives the service the base URL and link lifetime of reset
// emails; a zero LinkTTL keeps DefaultResetLinkTTL.
func (s *Service) SetRecovery(r RecoverySettings) {
	if r.LinkTTL <= 0 {
		r.LinkTTL = DefaultResetLinkTTL
	}
	s.recovery = r
}

// Errors of account recovery.
var (
	ErrOwnAccount = apperr.New(apperr.Conflict, "you cannot reset your own account here; use your account page")
	ErrSSOAccount = apperr.New(apperr.Conflict, "this user signs in only through single sign-on; allow password sign-in first")
	ErrNoMFA      = apperr.New(apperr.Conflict, "this user has no two-factor sign-in to reset")
)

// lockUser loads and locks the user an admin acts on. Errors:
// ErrUserNotFound, ErrOwnAccount, ErrDisabledAccount.
func lockUser(tx *gorm.DB, by audit.Actor, id int64) (*User, error) {
	var u User
	if err := store.ForUpdate(tx).First(&u, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUserNotFound
	} else if err != nil {
		return nil, err
	}
	// An admin's own credentials change only with their current password.
	if by.UserID != 0 && by.UserID == u.ID {
		return nil, ErrOwnAccount
	}
	if !u.Active() {
		return nil, ErrDisabledAccount
	}
	return &u, nil
}

// ResetPassword gives another user a new, generated password, returned
// once; they must replace it at their next sign-in. Their sessions and any
// reset link sent to them end. Errors: ErrUserNotFound, ErrOwnAccount,
// ErrDisabledAccount, ErrSSOAccount.
func (s *Service) ResetPassword(ctx context.Context, by audit.Actor, id int64) (string, *User, error) {
	pw := GeneratePassword()
	hash, err := HashPassword(pw)
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var u *User
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if u, err = lockUser(tx, by, id); err != nil {
			return err
		}
		if u.SSOOnly {
			return ErrSSOAccount
		}
		u.PasswordHash, u.MustChangePassword, u.UpdatedAt = hash, true, now
		if err := tx.Model(u).Updates(map[string]any{"password_hash": hash, "must_change_password": true, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := endSessions(tx, u.ID); err != nil {
			return err
		}
		if err := sharelink.Revoke(tx, now, PasswordResetPurpose, u.ID); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.password_reset", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), After: map[string]bool{"must_change_password": true}})
	})
	if err != nil {
		return "", nil, err
	}
	return pw, u, nil
}

// ResetMFA removes another user's second factor and recovery codes, so
// that they enrol again (at their next sign-in, where their role requires
// it), and ends their sessions. Errors: ErrUserNotFound, ErrOwnAccount,
// ErrDisabledAccount, ErrNoMFA.
func (s *Service) ResetMFA(ctx context.Context, by audit.Actor, id int64) (*User, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	var u *User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if u, err = lockUser(tx, by, id); err != nil {
			return err
		}
		if !u.HasMFA() {
			return ErrNoMFA
		}
		u.MFASecret, u.MFAEnabledAt, u.UpdatedAt = "", nil, now
		if err := tx.Model(u).Updates(map[string]any{"mfa_secret": "", "mfa_enabled_at": nil, "updated_at": now}).Error; err != nil {
			return err
		}
		codes := tx.Where("user_id = ?", u.ID).Delete(&recoveryCode{})
		if codes.Error != nil {
			return codes.Error
		}
		if err := endSessions(tx, u.ID); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "mfa.reset", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10),
			After: map[string]any{"factor": "totp", "recovery_codes_removed": codes.RowsAffected}})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Unlock forgets the failed sign-ins counted against a user's account, so
// that a throttled account can sign in again at once; it returns how many
// were cleared. Errors: ErrUserNotFound.
func (s *Service) Unlock(ctx context.Context, by audit.Actor, id int64) (int64, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	var cleared int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.First(&u, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		res := tx.Where("email = ?", u.Email).Delete(&loginFailure{})
		if res.Error != nil {
			return res.Error
		}
		cleared = res.RowsAffected
		// A new attack after the unlock is reported again at once.
		if err := tx.Where("email = ?", u.Email).Delete(&loginAlert{}).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.sign_in_unlocked", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10),
			After: map[string]int64{"failures_cleared": cleared}})
	})
	return cleared, err
}

// resettable reports whether a forgotten password may be reset by email:
// the account works and signs in with a password.
func (s *Service) resettable(u *User, now time.Time) bool {
	return u.CanSignIn(now) && !u.SSOOnly && !s.NoPasswords
}

// checkEmailInput refuses what cannot be an email address, before any
// query: control characters and invalid UTF-8 included, which PostgreSQL
// would refuse with an error instead of an answer.
func checkEmailInput(email string) error {
	ok := email != "" && len(email) <= 254 && strings.Contains(email, "@") && utf8.ValidString(email)
	for _, r := range email {
		if r < 0x20 || r == 0x7f {
			ok = false
		}
	}
	if !ok {
		return apperr.Field("email", notify.AddressProblem)
	}
	return nil
}

// RequestPasswordReset emails a single-use reset link to the account with
// this email. The caller cannot tell whether it exists: for an unknown,
// disabled or expired account nothing is stored or sent and the answer is
// the same; an account that signs in only through SSO is sent a note
// saying so instead of a link. Errors: Invalid (email) for input that is
// not an address.
func (s *Service) RequestPasswordReset(ctx context.Context, from audit.Actor, email string) error {
	// Checked before normalizing: lower-casing turns invalid UTF-8 into
	// U+FFFD, which would hide it.
	if err := checkEmailInput(strings.TrimSpace(email)); err != nil {
		return err
	}
	email = notify.NormalizeAddress(email)
	if s.baseURL == "" {
		return errors.New("auth: no base URL for reset links (SetRecovery)")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if !u.CanSignIn(now) {
		return nil
	}
	domain := notify.MessageDomain(s.baseURL)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		by := from
		by.Label = "anonymous"
		entry := audit.Entry{At: now, Action: "user.password_reset_requested", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10)}
		if !s.resettable(&u, now) {
			entry.After = map[string]string{"sent": "single sign-on notice"}
			if _, err := s.mail.Enqueue(tx, now, domain, u.Email, notify.PasswordResetSSO{Account: u.Email, BaseURL: s.baseURL}); err != nil {
				return err
			}
			return audit.Append(tx, by, entry)
		}
		token, _, err := sharelink.Issue(tx, now, PasswordResetPurpose, u.ID, s.recovery.LinkTTL)
		if err != nil {
			return err
		}
		entry.After = map[string]string{"sent": "reset link", "expires_at": now.Add(s.recovery.LinkTTL).Format(time.RFC3339)}
		if _, err := s.mail.Enqueue(tx, now, domain, u.Email, notify.PasswordReset{Account: u.Email, BaseURL: s.baseURL,
			Lifetime: humanDuration(s.recovery.LinkTTL), Link: ResetLinkURL(s.baseURL, token)}); err != nil {
			return err
		}
		return audit.Append(tx, by, entry)
	})
}

// ResetLinkLifetime says in words how long a reset link works.
func (s *Service) ResetLinkLifetime() string { return humanDuration(s.recovery.LinkTTL) }

// ResetLinkURL is the address of the page a reset link opens.
func ResetLinkURL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + "/login/reset/" + token
}

// humanDuration says a link lifetime in words: "30 minutes", "2 hours".
func humanDuration(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	if d < 2*time.Hour {
		return plural(int((d+time.Minute-1)/time.Minute), "minute")
	}
	return plural(int((d+time.Hour-1)/time.Hour), "hour")
}

// resetLink finds the live reset link for token and its user. Errors:
// sharelink.ErrUnknown, sharelink.ErrDead (also when the account may no
// longer reset its password).
func (s *Service) resetLink(db *gorm.DB, now time.Time, token string) (*sharelink.Link, *User, error) {
	l, err := sharelink.Resolve(db, now, PasswordResetPurpose, token)
	if err != nil {
		return nil, nil, err
	}
	var u User
	if err := db.Take(&u, l.SubjectID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, sharelink.ErrDead
	} else if err != nil {
		return nil, nil, err
	}
	if !s.resettable(&u, now) {
		return nil, nil, sharelink.ErrDead
	}
	return l, &u, nil
}

// CheckPasswordReset reports whether a reset link works, before its form
// is shown. Errors: sharelink.ErrUnknown, sharelink.ErrDead.
func (s *Service) CheckPasswordReset(ctx context.Context, token string) error {
	_, _, err := s.resetLink(s.db.WithContext(ctx), s.now().UTC(), token)
	return err
}

// CompletePasswordReset sets a new password through a reset link, which
// then stops working; a forced change is cleared and every session of the
// user ends. Errors: sharelink.ErrUnknown, sharelink.ErrDead (expired,
// used, superseded, or the account can no longer reset), Invalid
// (new_password).
func (s *Service) CompletePasswordReset(ctx context.Context, from audit.Actor, token, newPassword string) (*User, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	l, u, err := s.resetLink(s.db.WithContext(ctx), now, token)
	if err != nil {
		return nil, err
	}
	if msg := s.passwords.Check(newPassword, u.Email); msg != "" {
		return nil, apperr.Field("new_password", msg)
	}
	hash, err := HashPassword(newPassword)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Spend the link conditionally, so that of two uses at once only
		// one sets a password.
		spent := tx.Model(&sharelink.Link{}).Where("id = ? AND revoked_at IS NULL AND expires_at > ?", l.ID, now).
			Updates(map[string]any{"revoked_at": now, "last_used_at": now})
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected != 1 {
			return sharelink.ErrDead
		}
		u.PasswordHash, u.MustChangePassword, u.UpdatedAt = hash, false, now
		if err := tx.Model(u).Updates(map[string]any{"password_hash": hash, "must_change_password": false, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := endSessions(tx, u.ID); err != nil {
			return err
		}
		by := from
		by.UserID, by.Label = u.ID, u.Email
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.password_reset_completed", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), After: map[string]string{"through": "email link"}})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
