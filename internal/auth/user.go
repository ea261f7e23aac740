// Package auth keeps operator accounts: users and their roles, passwords,
// dashboard sessions and API tokens.
package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// User is an operator account.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         Role
	PasswordHash string `json:"-"`
	DisabledAt   *time.Time
	// AccessUntil is the last day the account works (auditors: the end
	// of their engagement); nil for no end.
	AccessUntil *time.Time
	LastLoginAt *time.Time
	// MFASecret is the TOTP secret, sealed with the MFA key; MFAEnabledAt
	// is set once enrolment is confirmed.
	MFASecret    string `json:"-" gorm:"column:mfa_secret"`
	MFAEnabledAt *time.Time
	MFALastStep  int64 `json:"-" gorm:"column:mfa_last_step"`
	// SSOOnly accounts may not sign in with a password.
	SSOOnly bool `gorm:"column:sso_only"`
	// MustChangePassword is set when an admin reset the password: the
	// one-time password works only to choose a new one.
	MustChangePassword bool `gorm:"column:must_change_password"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Active reports whether the user is not disabled.
func (u *User) Active() bool { return u.DisabledAt == nil }

// Expired reports whether the account's access end date has passed at now.
func (u *User) Expired(now time.Time) bool {
	return u.AccessUntil != nil && !now.Before(u.AccessUntil.AddDate(0, 0, 1))
}

// CanSignIn reports whether the user may sign in or use a token at now.
func (u *User) CanSignIn(now time.Time) bool { return u.Active() && !u.Expired(now) }

// DefaultAuditorAccess is how long an auditor account works when no end
// date is given.
const DefaultAuditorAccess = 90 * 24 * time.Hour

// Actor returns the audit actor for u, with the request's details.
func (u *User) Actor(ip, userAgent, requestID string) audit.Actor {
	return audit.Actor{UserID: u.ID, Label: u.Email, IP: ip, UserAgent: userAgent, RequestID: requestID}
}

// userState is what the audit trail records of a user (never the hash).
type userState struct {
	Email       string `json:"email"`
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	Disabled    bool   `json:"disabled"`
	AccessUntil string `json:"access_until,omitempty"`
}

func (u *User) state() userState {
	st := userState{Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.DisabledAt != nil}
	if u.AccessUntil != nil {
		st.AccessUntil = u.AccessUntil.Format(time.DateOnly)
	}
	return st
}

// Errors of the user service.
var (
	ErrUserNotFound    = apperr.New(apperr.NotFound, "no such user")
	ErrBadCredentials  = apperr.New(apperr.Unauthorized, "email or password is wrong")
	ErrUserExists      = apperr.New(apperr.Conflict, "a user with this email already exists")
	ErrTokenInvalid    = apperr.New(apperr.Unauthorized, "API token is missing, unknown, expired or revoked")
	ErrAlreadyDisabled = apperr.New(apperr.Conflict, "the user is already disabled")
)

// Service manages users, API tokens and their sessions.
type Service struct {
	db        *gorm.DB
	now       func() time.Time
	passwords *PasswordChecker
	// dummyHash is verified against when the email is unknown, so that a
	// miss costs as much time as a wrong password.
	dummyHash string
	// mfaKey seals TOTP secrets (SetMFAKey).
	mfaKey []byte
	// recovery makes the links of forgotten-password emails (SetRecovery).
	recovery RecoverySettings
	// NoPasswords turns password sign-in off for everyone (SSO only).
	NoPasswords bool
	// sleep waits before an attempt on an account under attack is
	// checked (SetSleep); baseURL is for links in emails (SetBaseURL).
	sleep   func(context.Context, time.Duration) error
	baseURL string
	// mail renders the emails (SetMail).
	mail *notify.Templates
	// check runs the input rules.
	check *check.Validator
}

// NewService returns a Service on db with the given clock.
func NewService(db *gorm.DB, now func() time.Time) *Service {
	h, err := HashPassword("charter-timing-equaliser")
	if err != nil {
		panic(err)
	}
	return &Service{db: db, now: now, passwords: NewPasswordChecker(), dummyHash: h, recovery: RecoverySettings{LinkTTL: DefaultResetLinkTTL}, sleep: sleepContext,
		mail: notify.MustTemplates(), check: check.New()}
}

// SetMail gives the service the email templates the other services use
// (NewService parses its own, which a test may keep).
func (s *Service) SetMail(t *notify.Templates) { s.mail = t }

// NewUser is the input of Create.
type NewUser struct {
	Email    string `validate:"required,address"`
	Name     string `validate:"max=200"`
	Role     Role   `validate:"oneof=admin editor auditor viewer"`
	Password string // checked against the password policy
	// AccessUntil is the last day the account works; for an auditor
	// without one, DefaultAuditorAccess from today.
	AccessUntil *time.Time
}

// Create adds a user. Errors: Invalid (naming the field), ErrUserExists.
func (s *Service) Create(ctx context.Context, by audit.Actor, in NewUser) (*User, error) {
	in.Email, in.Name = notify.NormalizeAddress(in.Email), strings.TrimSpace(in.Name)
	fields := s.check.Struct(in)
	if msg := s.passwords.Check(in.Password, in.Email); msg != "" {
		fields.Add("password", msg)
	}
	if in.AccessUntil != nil && in.AccessUntil.Before(s.now().UTC().Truncate(24*time.Hour)) {
		fields.Add("access_until", "cannot be in the past")
	}
	if err := fields.Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	u := User{Email: in.Email, Name: in.Name, Role: in.Role, PasswordHash: hash, AccessUntil: dayOf(in.AccessUntil), CreatedAt: now, UpdatedAt: now}
	if u.AccessUntil == nil && u.Role == Auditor {
		u.AccessUntil = dayOf(ptr(now.Add(DefaultAuditorAccess)))
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrUserExists
			}
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.created", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), After: u.state()})
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func ptr[T any](v T) *T { return &v }

// dayOf keeps the date of t (UTC midnight).
func dayOf(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	d := t.UTC().Truncate(24 * time.Hour)
	return &d
}

// SetAccessUntil sets (or, with nil, removes) the last day a user's
// account works, and ends their sessions when it is already past.
func (s *Service) SetAccessUntil(ctx context.Context, by audit.Actor, id int64, until *time.Time) (*User, error) {
	var u User
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).First(&u, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		if until == nil && u.Role == Auditor {
			return apperr.Field("access_until", "an auditor's access needs an end date")
		}
		before := u.state()
		u.AccessUntil, u.UpdatedAt = dayOf(until), now
		if err := tx.Model(&u).Updates(map[string]any{"access_until": u.AccessUntil, "updated_at": now}).Error; err != nil {
			return err
		}
		if u.Expired(now) {
			if err := endSessions(tx, u.ID); err != nil {
				return err
			}
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.access_until_set", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), Before: before, After: u.state()})
	})
	return &u, err
}

// EndSession ends one of a user's sessions, named by its ID (the token's
// SHA-256). Errors: NotFound when the user has no such session.
func (s *Service) EndSession(ctx context.Context, by audit.Actor, userID int64, sessionID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("token_hash = ? AND user_id = ?", sessionID, userID).Delete(&sessionRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.NotFound, "no such session")
		}
		return audit.Append(tx, by, audit.Entry{At: s.now(), Action: "session.ended", ObjectType: "user", ObjectID: strconv.FormatInt(userID, 10),
			After: map[string]string{"session": sessionID[:min(12, len(sessionID))]}})
	})
}

// EndAllSessions ends every session of a user (an admin's action).
func (s *Service) EndAllSessions(ctx context.Context, by audit.Actor, userID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&User{}, userID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		res := tx.Where("user_id = ?", userID).Delete(&sessionRow{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return audit.Append(tx, by, audit.Entry{At: s.now(), Action: "session.ended_all", ObjectType: "user", ObjectID: strconv.FormatInt(userID, 10),
			After: map[string]int64{"sessions": n}})
	})
	return n, err
}

// Count returns the number of users.
func (s *Service) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}

// Get returns a user by ID. Errors: ErrUserNotFound.
func (s *Service) Get(ctx context.Context, id int64) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).First(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUserNotFound
	}
	return &u, err
}

// ByEmail returns a user by email. Errors: ErrUserNotFound.
func (s *Service) ByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", notify.NormalizeAddress(email)).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUserNotFound
	}
	return &u, err
}

// List returns every user, by email.
func (s *Service) List(ctx context.Context) ([]User, error) {
	var us []User
	err := s.db.WithContext(ctx).Order("email").Find(&us).Error
	return us, err
}

// Emails returns the addresses of the active users with at least role
// need: the operations team, for need = Editor.
func (s *Service) Emails(ctx context.Context, need Role) ([]string, error) {
	us, err := s.List(ctx)
	var out []string
	for _, u := range us {
		if u.Active() && u.Role.Allows(need) {
			out = append(out, u.Email)
		}
	}
	return out, err
}

// Authenticate checks an email and password and records the attempt in the
// audit trail, success or failure. from carries the request's IP, user
// agent and request ID. Errors: ErrBadCredentials (for an unknown email, a
// wrong password and a disabled user alike, so that accounts cannot be
// enumerated).
func (s *Service) Authenticate(ctx context.Context, email, password string, from audit.Actor) (*User, error) {
	email = notify.NormalizeAddress(email)
	if err := s.throttle(ctx, email, "password", from); err != nil {
		return nil, err
	}
	var u User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	found := err == nil
	hash := s.dummyHash
	if found {
		hash = u.PasswordHash
	}
	ok := VerifyPassword(hash, password) && found
	reason := ""
	switch {
	case !found:
		reason = "unknown email"
	case !ok:
		reason = "wrong password"
	case !u.Active():
		ok, reason = false, "user disabled"
	case u.Expired(s.now().UTC()):
		ok, reason = false, "access ended "+u.AccessUntil.Format(time.DateOnly)
	case s.NoPasswords || u.SSOOnly:
		ok, reason = false, "password sign-in is off for this account"
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		by := from
		by.Label = email
		if found {
			by.UserID = u.ID
		}
		entry := audit.Entry{At: now, ObjectType: "user", ObjectID: email,
			After: map[string]string{"factor": "password"}}
		if found {
			entry.ObjectID = strconv.FormatInt(u.ID, 10)
		}
		if !ok {
			entry.Action = "auth.login.failed"
			entry.After = map[string]string{"factor": "password", "reason": reason}
			if err := audit.Append(tx, by, entry); err != nil {
				return err
			}
			var owner *User
			if found {
				owner = &u
			}
			return s.recordFailure(tx, email, owner, from, now)
		}
		entry.Action = "auth.login.succeeded"
		if err := tx.Model(&u).Update("last_login_at", now).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, entry)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	return &u, nil
}

// RecordLogout notes a sign-out in the audit trail.
func (s *Service) RecordLogout(ctx context.Context, by audit.Actor) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Append(tx, by, audit.Entry{At: s.now(), Action: "auth.logout", ObjectType: "user",
			ObjectID: strconv.FormatInt(by.UserID, 10)})
	})
}

// Disable stops a user from signing in and ends all of their sessions and
// API tokens at once. Errors: ErrUserNotFound, ErrAlreadyDisabled,
// ErrLastAdmin.
func (s *Service) Disable(ctx context.Context, by audit.Actor, id int64) (*User, error) {
	var u User
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).First(&u, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		if !u.Active() {
			return ErrAlreadyDisabled
		}
		if err := ensureAnotherAdmin(tx, &u); err != nil {
			return err
		}
		before := u.state()
		u.DisabledAt, u.UpdatedAt = &now, now
		if err := tx.Model(&u).Updates(map[string]any{"disabled_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := endSessions(tx, u.ID); err != nil {
			return err
		}
		if err := tx.Model(&APIToken{}).Where("user_id = ? AND revoked_at IS NULL", u.ID).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.disabled", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), Before: before, After: u.state()})
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Errors of account management.
var (
	ErrLastAdmin       = apperr.New(apperr.Conflict, "this is the last active admin; make another user admin first")
	ErrWrongPassword   = apperr.Field("current_password", "is not your current password")
	ErrTokenNotFound   = apperr.New(apperr.NotFound, "no such API token")
	ErrAlreadyRevoked  = apperr.New(apperr.Conflict, "the token is already revoked")
	ErrSameRole        = apperr.New(apperr.Conflict, "the user already has this role")
	ErrDisabledAccount = apperr.New(apperr.Conflict, "the user is disabled")
)

// ensureAnotherAdmin fails when u is the only active admin.
func ensureAnotherAdmin(tx *gorm.DB, u *User) error {
	if u.Role != Admin || !u.Active() {
		return nil
	}
	// Lock the admins, so that two admins demoting each other at once on
	// PostgreSQL cannot both succeed.
	var others []int64
	if err := store.ForUpdate(tx).Model(&User{}).Where("role = ? AND disabled_at IS NULL AND id <> ?", Admin, u.ID).
		Pluck("id", &others).Error; err != nil {
		return err
	}
	if len(others) == 0 {
		return ErrLastAdmin
	}
	return nil
}

// endSessions deletes every dashboard session of the user.
func endSessions(tx *gorm.DB, userID int64) error {
	return tx.Where("user_id = ?", userID).Delete(&sessionRow{}).Error
}

// SetRole changes a user's role and ends their sessions, so that the new
// role applies from their next sign-in. Errors: ErrUserNotFound, Invalid,
// ErrSameRole, ErrDisabledAccount, ErrLastAdmin.
func (s *Service) SetRole(ctx context.Context, by audit.Actor, id int64, role Role) (*User, error) {
	if !role.Valid() {
		return nil, apperr.Field("role", "must be one of admin, editor, auditor, viewer")
	}
	var u User
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).First(&u, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		switch {
		case !u.Active():
			return ErrDisabledAccount
		case u.Role == role:
			return ErrSameRole
		}
		if role != Admin {
			if err := ensureAnotherAdmin(tx, &u); err != nil {
				return err
			}
		}
		before := u.state()
		u.Role, u.UpdatedAt = role, now
		changes := map[string]any{"role": role, "updated_at": now}
		if role == Auditor && u.AccessUntil == nil {
			u.AccessUntil = dayOf(ptr(now.Add(DefaultAuditorAccess)))
			changes["access_until"] = u.AccessUntil
		}
		if err := tx.Model(&u).Updates(changes).Error; err != nil {
			return err
		}
		if err := endSessions(tx, u.ID); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.role_changed", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10), Before: before, After: u.state()})
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ChangePassword sets a new password after checking the current one,
// clears a pending forced change, and ends all of the user's sessions (the
// caller starts a fresh one for the browser that made the change). Errors: ErrUserNotFound, Invalid naming
// current_password or new_password.
func (s *Service) ChangePassword(ctx context.Context, by audit.Actor, id int64, current, next string) error {
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !VerifyPassword(u.PasswordHash, current) {
		return ErrWrongPassword
	}
	if msg := s.passwords.Check(next, u.Email); msg != "" {
		return apperr.Field("new_password", msg)
	}
	if next == current {
		return apperr.Field("new_password", "must differ from the current password")
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"password_hash": hash, "must_change_password": false, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := endSessions(tx, u.ID); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "user.password_changed", ObjectType: "user",
			ObjectID: strconv.FormatInt(u.ID, 10)})
	})
}
