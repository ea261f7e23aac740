package auth

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/netaddr"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Sign-in throttling (SECURITY.md; ASVS 4.0.3 V2.2.1). Failed passwords
// and failed second-factor codes are counted over a sliding hour in the
// database, so that every instance shares the counts, by account, by
// client network (an IPv4 address or an IPv6 /64, see netaddr.Network)
// and by the pair.
//
// Only a network's own failures ever refuse it, so that a stranger cannot
// lock anyone else out:
//
//   - a network with MaxNetworkFailures failures, whatever the accounts,
//     is refused (429) for every account;
//   - a network with MaxAccountNetworkFailures failures for one account is
//     refused for that account.
//
// An account with AccountUnderAttackFailures failures from all networks
// together is under attack. Then, until the count falls back:
//
//   - every attempt on it, from any network, waits UnderAttackDelay before
//     the password or code is checked, which slows guessing without
//     refusing anyone;
//   - a network that has itself failed MaxAccountNetworkFailuresUnderAttack
//     times for the account is refused for it, so a spread-out attack gets
//     only a few guesses per network;
//   - a network that has failed less (the owner who mistyped, or who never
//     failed at all) still signs in with the right password and code;
//   - the owner and the admins are emailed once per window (alertAccount).
//
// Refusals are audited but not counted, so the window keeps sliding: a
// network is refused for at most an hour after its last counted failure.
const (
	ThrottleWindow = time.Hour
	// MaxNetworkFailures per client network per hour, over all accounts
	// (an office behind one NAT address shares it).
	MaxNetworkFailures = 300
	// MaxAccountNetworkFailures per account per client network per hour.
	MaxAccountNetworkFailures = 100
	// AccountUnderAttackFailures per account per hour, from all networks,
	// slow every attempt on the account down and alert its owner and the
	// admins.
	AccountUnderAttackFailures = 100
	// MaxAccountNetworkFailuresUnderAttack is the per-network limit while
	// the account is under attack.
	MaxAccountNetworkFailuresUnderAttack = 10
	// UnderAttackDelay is how long each attempt on an account under
	// attack waits.
	UnderAttackDelay = 2 * time.Second
)

type loginFailure struct {
	ID      int64
	Email   string
	IP      string `gorm:"column:ip"`
	Network string
	At      time.Time
}

func (loginFailure) TableName() string { return "login_failures" }

// loginAlert records when an account's owner and the admins were last told
// of failed sign-ins.
type loginAlert struct {
	Email  string `gorm:"primaryKey"`
	SentAt time.Time
}

func (loginAlert) TableName() string { return "login_alerts" }

// ThrottledError refuses a sign-in over a limit; RetryAfter is when the
// counted failures that caused it fall back under the limit.
type ThrottledError struct {
	RetryAfter time.Duration
	err        *apperr.Error
}

func (e *ThrottledError) Error() string { return e.err.Error() }

// Unwrap lets interfaces map it as TooMany.
func (e *ThrottledError) Unwrap() error { return e.err }

// sleepContext waits d, or less if ctx ends first.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SetSleep replaces how the service waits before checking an attempt on
// an account under attack; tests pass one that only records the wait.
func (s *Service) SetSleep(sleep func(context.Context, time.Duration) error) { s.sleep = sleep }

// SetBaseURL gives the service the public base URL, for the links and the
// Message-IDs of the emails it sends.
func (s *Service) SetBaseURL(baseURL string) { s.baseURL = strings.TrimRight(baseURL, "/") }

// recentFailures returns the times of the newest failures within the
// window for email and from network ("" for any), at most max of them,
// newest first.
func recentFailures(db *gorm.DB, since time.Time, max int, email, network string) ([]time.Time, error) {
	q := db.Model(&loginFailure{}).Where("at > ?", since)
	if email != "" {
		q = q.Where("email = ?", email)
	}
	if network != "" {
		q = q.Where("network = ?", network)
	}
	var at []time.Time
	return at, q.Order("at DESC").Limit(max).Pluck("at", &at).Error
}

// over reports whether recent holds max failures, and when the oldest of
// them leaves the window.
func over(recent []time.Time, max int, now time.Time) (bool, time.Duration) {
	if len(recent) < max {
		return false, 0
	}
	return true, recent[max-1].Add(ThrottleWindow).Sub(now)
}

// throttle refuses the attempt when the client's network is over one of
// its limits, and makes it wait when the account is under attack. The
// refusal is audited, with factor ("password" or "totp") and the reason.
func (s *Service) throttle(ctx context.Context, email, factor string, from audit.Actor) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	since := now.Add(-ThrottleWindow)
	db := s.db.WithContext(ctx)
	network := netaddr.Network(from.IP)

	account, err := recentFailures(db, since, AccountUnderAttackFailures, email, "")
	if err != nil {
		return err
	}
	underAttack, attackWait := over(account, AccountUnderAttackFailures, now)
	if network != "" {
		fromNetwork, err := recentFailures(db, since, MaxNetworkFailures, "", network)
		if err != nil {
			return err
		}
		if ok, wait := over(fromNetwork, MaxNetworkFailures, now); ok {
			return s.refuse(ctx, email, factor, from, now, wait, "network", "from your network")
		}
		pair, err := recentFailures(db, since, MaxAccountNetworkFailures, email, network)
		if err != nil {
			return err
		}
		if ok, wait := over(pair, MaxAccountNetworkFailures, now); ok {
			return s.refuse(ctx, email, factor, from, now, wait, "account from this network", "for this account from your network")
		}
		if ok, wait := over(pair, MaxAccountNetworkFailuresUnderAttack, now); ok && underAttack {
			// Either count falling back ends the refusal.
			return s.refuse(ctx, email, factor, from, now, min(wait, attackWait), "account under attack from this network", "for this account from your network")
		}
	}
	if underAttack {
		return s.sleep(ctx, UnderAttackDelay)
	}
	return nil
}

// refuse audits a throttled attempt and returns the error that says so.
func (s *Service) refuse(ctx context.Context, email, factor string, from audit.Actor, now time.Time, wait time.Duration, scope, says string) error {
	wait = max(wait, time.Second)
	if err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		by := from
		by.Label = email
		return audit.Append(tx, by, audit.Entry{At: now, Action: "auth.login.failed", ObjectType: "user", ObjectID: email,
			After: map[string]string{"factor": factor, "reason": "throttled: too many failures for this " + scope}})
	}); err != nil {
		return err
	}
	return &ThrottledError{RetryAfter: wait, err: apperr.New(apperr.TooMany,
		fmt.Sprintf("too many failed sign-ins %s; try again in %s", says, roundUp(wait)))}
}

// recordFailure counts a failed password or code in tx, and alerts the
// account's owner and the admins when u, a known account, is now under
// attack.
func (s *Service) recordFailure(tx *gorm.DB, email string, u *User, from audit.Actor, now time.Time) error {
	if err := tx.Create(&loginFailure{Email: email, IP: from.IP, Network: netaddr.Network(from.IP), At: now}).Error; err != nil {
		return err
	}
	if u == nil {
		// Nobody owns an unknown address; alerting the admins about each
		// made-up one would let anyone flood their mailboxes.
		return nil
	}
	since := now.Add(-ThrottleWindow)
	recent, err := recentFailures(tx, since, AccountUnderAttackFailures, email, "")
	if err != nil || len(recent) < AccountUnderAttackFailures {
		return err
	}
	return s.alertAccount(tx, u, from, now)
}

// alertAccount emails the owner of an account under attack and every
// admin, at most once per window for the account: the claim on
// login_alerts succeeds for one failure only, even when several instances
// record failures at once. The email gives the count, the number of
// networks and the period, but no addresses: it also goes to the owner,
// who may not read the audit trail, and the addresses are personal data
// that the admins can read there.
func (s *Service) alertAccount(tx *gorm.DB, u *User, from audit.Actor, now time.Time) error {
	since := now.Add(-ThrottleWindow)
	claim := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "email"}},
		DoUpdates: clause.AssignmentColumns([]string{"sent_at"}),
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "login_alerts.sent_at <= ?", Vars: []any{since}}}},
	}).Create(&loginAlert{Email: u.Email, SentAt: now})
	if claim.Error != nil || claim.RowsAffected == 0 {
		return claim.Error
	}
	var stats struct{ N, Networks int64 }
	if err := tx.Model(&loginFailure{}).Select("COUNT(*) AS n, COUNT(DISTINCT network) AS networks").
		Where("email = ? AND at > ?", u.Email, since).Scan(&stats).Error; err != nil {
		return err
	}
	// The oldest failure in the window, read apart from the counts: an
	// aggregate MIN(at) comes back from SQLite as text.
	var oldest []time.Time
	if err := tx.Model(&loginFailure{}).Where("email = ? AND at > ?", u.Email, since).Order("at").Limit(1).Pluck("at", &oldest).Error; err != nil {
		return err
	}
	first := now
	if len(oldest) == 1 {
		first = oldest[0].UTC()
	}
	var admins []string
	if err := tx.Model(&User{}).Where("role = ? AND disabled_at IS NULL", Admin).Order("email").Pluck("email", &admins).Error; err != nil {
		return err
	}
	var to []string
	if u.Active() {
		to = append(to, u.Email)
	}
	for _, a := range admins {
		if a != u.Email {
			to = append(to, a)
		}
	}
	domain := notify.MessageDomain(s.baseURL)
	for _, addr := range to {
		alert := notify.SignInAlert{Account: u.Email, ToOwner: addr == u.Email, Failures: stats.N, Networks: stats.Networks,
			First: first, Last: now, BaseURL: s.baseURL}
		if _, err := s.mail.Enqueue(tx, now, domain, addr, alert); err != nil {
			return err
		}
	}
	by := from
	by.Label = u.Email
	return audit.Append(tx, by, audit.Entry{At: now, Action: "auth.login.under_attack", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10),
		After: map[string]any{"failures": stats.N, "networks": stats.Networks, "since": first.Format(time.RFC3339), "notified": len(to)}})
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

// PruneLoginFailures deletes failures, and records of alerts, older than
// the window.
func (s *Service) PruneLoginFailures(ctx context.Context) (int64, error) {
	since := s.now().UTC().Add(-ThrottleWindow)
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("at <= ?", since).Delete(&loginFailure{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return tx.Where("sent_at <= ?", since).Delete(&loginAlert{}).Error
	})
	return n, err
}
