package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"gorm.io/gorm"
)

// Sign-in throttling (SECURITY.md; ASVS 4.0.3 V2.2.1): failures are
// counted over a sliding hour, per account and per client IP, in the
// database, so that every instance shares the counts. The window slides,
// so an attacker can keep an account locked for at most an hour after
// their last failure, and only while they keep failing at the limit.
const (
	ThrottleWindow     = time.Hour
	MaxAccountFailures = 100 // per account per hour
	MaxIPFailures      = 300 // per client IP per hour (an office behind one NAT)
)

type loginFailure struct {
	ID    int64
	Email string
	IP    string `gorm:"column:ip"`
	At    time.Time
}

func (loginFailure) TableName() string { return "login_failures" }

// ThrottledError refuses a sign-in over a limit; RetryAfter is when the
// oldest counted failure leaves the window.
type ThrottledError struct {
	RetryAfter time.Duration
	err        *apperr.Error
}

func (e *ThrottledError) Error() string { return e.err.Error() }

// Unwrap lets interfaces map it as TooMany.
func (e *ThrottledError) Unwrap() error { return e.err }

// throttle refuses the attempt when the account or the client IP is over
// its limit; the refusal is audited but not counted, so the window keeps
// sliding.
func (s *Service) throttle(ctx context.Context, email string, from audit.Actor) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	since := now.Add(-ThrottleWindow)
	db := s.db.WithContext(ctx)
	for _, limit := range []struct {
		column, value, scope string
		max                  int
	}{
		{"email", email, "account", MaxAccountFailures},
		{"ip", from.IP, "address", MaxIPFailures},
	} {
		if limit.value == "" {
			continue
		}
		var recent []time.Time
		if err := db.Model(&loginFailure{}).Where(limit.column+" = ? AND at > ?", limit.value, since).Order("at DESC").Limit(limit.max).Pluck("at", &recent).Error; err != nil {
			return err
		}
		if len(recent) < limit.max {
			continue
		}
		wait := recent[len(recent)-1].Add(ThrottleWindow).Sub(now)
		if wait < time.Second {
			wait = time.Second
		}
		if err := db.Transaction(func(tx *gorm.DB) error {
			by := from
			by.Label = email
			return audit.Append(tx, by, audit.Entry{At: now, Action: "auth.login.failed", ObjectType: "user", ObjectID: email,
				After: map[string]string{"factor": "password", "reason": "throttled: too many failures for this " + limit.scope}})
		}); err != nil {
			return err
		}
		return &ThrottledError{RetryAfter: wait, err: apperr.New(apperr.TooMany,
			fmt.Sprintf("too many failed sign-ins for this %s; try again in %s", limit.scope, roundUp(wait)))}
	}
	return nil
}

func roundUp(d time.Duration) string {
	m := int(d.Minutes())
	if d > time.Duration(m)*time.Minute {
		m++
	}
	if m <= 1 {
		return "a minute"
	}
	return strconv.Itoa(m) + " minutes"
}

// PruneLoginFailures deletes failures older than the window.
func (s *Service) PruneLoginFailures(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("at <= ?", s.now().UTC().Add(-ThrottleWindow)).Delete(&loginFailure{})
	return res.RowsAffected, res.Error
}
