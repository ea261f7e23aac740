package publicform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/netaddr"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
)

// The windows the limits count over. They slide: a submission stops
// counting exactly one window after it was admitted.
const (
	Hour = time.Hour
	Day  = 24 * time.Hour
)

// Limit names the limit that refused a submission; it labels the refusal
// metric and the log line.
type Limit string

// The limits a submission is checked against, in this order.
const (
	LimitNetwork       Limit = "network_hour"
	LimitRecipientHour Limit = "recipient_hour"
	LimitRecipientDay  Limit = "recipient_day"
	LimitForm          Limit = "form_hour"
)

// Limits are the most submissions admitted per sliding window; each is at
// least 1 (internal/config checks the settings; a lower value counts as 1).
type Limits struct {
	// PerNetworkPerHour counts every form from one client network (an IPv4
	// address or an IPv6 /64).
	PerNetworkPerHour int
	// PerRecipientPerHour and PerRecipientPerDay count every form naming
	// one email address, from whatever source.
	PerRecipientPerHour int
	PerRecipientPerDay  int
	// PerFormPerHour counts one form from everyone: the global cap.
	PerFormPerHour int
}

// Submission is one attempt to use a public form or an anonymous action.
type Submission struct {
	Form     string // e.g. "packet_request"
	ClientIP string
	// Recipient is the email address the submission makes Charter write
	// to or about; "" when there is none (the limit per address is then
	// not checked).
	Recipient string
}

// Admission is a counted submission.
type Admission struct{ id int64 }

// LimitError refuses a submission over a limit. RetryAfter is when the
// oldest submission that keeps the limit reached leaves the window.
type LimitError struct {
	Form       string
	Limit      Limit
	RetryAfter time.Duration
	err        *apperr.Error
}

func (e *LimitError) Error() string { return e.err.Error() }

// Unwrap lets interfaces map it as apperr.TooMany.
func (e *LimitError) Unwrap() error { return e.err }

// submission is a row of the counting table.
type submission struct {
	ID            int64
	Form          string
	Network       string
	RecipientHash string
	SubmittedAt   time.Time
}

func (submission) TableName() string { return "public_form_submissions" }

// pgLimitLock is the PostgreSQL advisory lock that makes check-and-count
// one step across instances; SQLite write transactions are serialised
// already (BEGIN IMMEDIATE, store/groupcommit.go).
const pgLimitLock = 0x7075626c6963 // "public"

// Limiter applies Limits to the public forms, counting in the database so
// that several instances agree.
type Limiter struct {
	db     *gorm.DB
	now    func() time.Time
	limits Limits
}

// NewLimiter returns a Limiter on db.
func NewLimiter(db *gorm.DB, now func() time.Time, limits Limits) *Limiter {
	return &Limiter{db: db, now: now, limits: limits}
}

// Admit checks s against every limit and, when it is within all of them,
// counts it, in one transaction, so that concurrent submissions cannot
// slip past a limit together. A refused submission is not counted, so the
// windows keep sliding. Errors: *LimitError (apperr.TooMany).
func (l *Limiter) Admit(ctx context.Context, s Submission) (Admission, error) {
	row := submission{Form: s.Form, Network: netaddr.Network(s.ClientIP), RecipientHash: recipientHash(s.Recipient)}
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", pgLimitLock).Error; err != nil {
				return fmt.Errorf("publicform: locking the counts: %w", err)
			}
		}
		now := l.now().UTC().Truncate(time.Microsecond)
		for _, c := range []struct {
			limit  Limit
			column string
			value  string
			window time.Duration
			max    int
		}{
			{LimitNetwork, "network", row.Network, Hour, max(l.limits.PerNetworkPerHour, 1)},
			{LimitRecipientHour, "recipient_hash", row.RecipientHash, Hour, max(l.limits.PerRecipientPerHour, 1)},
			{LimitRecipientDay, "recipient_hash", row.RecipientHash, Day, max(l.limits.PerRecipientPerDay, 1)},
			{LimitForm, "form", row.Form, Hour, max(l.limits.PerFormPerHour, 1)},
		} {
			if c.value == "" {
				continue
			}
			var recent []time.Time
			if err := tx.Model(&submission{}).Where(c.column+" = ? AND submitted_at > ?", c.value, now.Add(-c.window)).
				Order("submitted_at DESC").Limit(c.max).Pluck("submitted_at", &recent).Error; err != nil {
				return err
			}
			if len(recent) < c.max {
				continue
			}
			// The newest max submissions fill the limit; it frees up when
			// the oldest of them leaves the window.
			wait := max(recent[len(recent)-1].Add(c.window).Sub(now), time.Second)
			return &LimitError{Form: s.Form, Limit: c.limit, RetryAfter: wait, err: apperr.New(apperr.TooMany, refusal(c.limit, wait))}
		}
		row.SubmittedAt = now
		return tx.Create(&row).Error
	})
	return Admission{id: row.ID}, err
}

// Withdraw stops counting an admitted submission against its recipient,
// for a submission the service then refused (invalid input, a dead link):
// nothing was sent to anyone, so a mistyped form does not use up the
// address's few emails. It still counts for its network and its form, so
// invalid submissions cannot be sent without limit.
func (l *Limiter) Withdraw(ctx context.Context, a Admission) error {
	if a.id == 0 {
		return nil
	}
	return l.db.WithContext(ctx).Model(&submission{}).Where("id = ?", a.id).Update("recipient_hash", "").Error
}

// Prune deletes the counts made before before; a count older than the
// longest window (Day) limits nothing. It returns how many it deleted.
func Prune(ctx context.Context, db *gorm.DB, before time.Time) (int64, error) {
	res := db.WithContext(ctx).Where("submitted_at < ?", before.UTC()).Delete(&submission{})
	return res.RowsAffected, res.Error
}

// refusal is the message shown with the 429.
func refusal(limit Limit, wait time.Duration) string {
	switch limit {
	case LimitNetwork:
		return "Too many submissions from your network. Please try again in " + roundUp(wait) + "."
	case LimitRecipientHour, LimitRecipientDay:
		return "Too many emails were asked for this address. Please try again in " + roundUp(wait) + "."
	default:
		return "This form is receiving too many submissions right now. Please try again in " + roundUp(wait) + "."
	}
}

// roundUp says a wait in whole minutes, or hours past 90 minutes.
func roundUp(d time.Duration) string {
	if d > 90*time.Minute {
		return strconv.Itoa(int((d+time.Hour-1)/time.Hour)) + " hours"
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return strconv.Itoa(m) + " minutes"
}

// recipientHash is what the table keeps of an address: the SHA-256 of its
// normalized form (trimmed, lower-case, as addresses are stored).
func recipientHash(email string) string {
	email = notify.NormalizeAddress(email)
	if email == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:])
}
