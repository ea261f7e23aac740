// Package exception is the policy exceptions register: a departure from a
// policy (or one section of it), requested with its scope, reason and
// compensating controls and an expiry, approved by an editor or admin
// other than the requester (segregation of duties), in force until its
// expiry, when it lapses by itself. A renewal is a new request naming the
// exception it renews, so the history stays whole; approving it
// supersedes the old one. Requesters and approvers are reminded before an
// exception expires. Every change is an audit event.
package exception

import (
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/check"
)

// State is where an exception stands.
type State string

// The states. requested → approved | rejected; approved → lapsed (on its
// expiry date, by the daily job) | revoked | superseded (by an approved
// renewal).
const (
	Requested  State = "requested"
	Approved   State = "approved"
	Rejected   State = "rejected"
	Revoked    State = "revoked"
	Lapsed     State = "lapsed"
	Superseded State = "superseded"
)

// States lists every state, in the order the list's filter offers them.
var States = []State{Requested, Approved, Rejected, Revoked, Lapsed, Superseded}

// Exception is one entry of the register.
type Exception struct {
	ID       int64
	PolicyID int64
	// PolicySlug and PolicyTitle are read with the exception, never written.
	PolicySlug           string `gorm:"->"`
	PolicyTitle          string `gorm:"->"`
	Section              string
	Scope                string
	Reason               string
	CompensatingControls string
	State                State
	// ExpiresOn is the first day the exception no longer applies: it is
	// in force up to the end of the day before.
	ExpiresOn     time.Time
	RenewsID      *int64
	RequestedByID int64
	RequestedBy   string
	RequestedAt   time.Time
	DecidedByID   *int64
	DecidedBy     string
	DecidedAt     *time.Time
	DecisionNote  string
	ApprovedAt    *time.Time
	EndedAt       *time.Time
	EndedBy       string
	EndNote       string
	RemindedAt    *time.Time
	UpdatedAt     time.Time
}

// TableName is the register's table.
func (Exception) TableName() string { return "policy_exceptions" }

// InForce reports whether the exception applies on day (a UTC date).
func (e *Exception) InForce(day time.Time) bool {
	return e.State == Approved && day.Before(e.ExpiresOn)
}

// CanApprove reports whether the user may decide the request: it waits,
// and the user is someone other than its requester. The role (editor or
// admin) is the route's to check; Approve and the pages apply this rule.
func (e *Exception) CanApprove(userID int64) bool {
	return e.State == Requested && userID != 0 && userID != e.RequestedByID
}

// Renewable reports whether a renewal may be requested: the exception is
// or was in force and was not ended on purpose.
func (e *Exception) Renewable() bool { return e.State == Approved || e.State == Lapsed }

// Input is a request as typed in the form or sent as JSON.
type Input struct {
	Policy               string `validate:"required,max=80"`
	Section              string `validate:"max=200"`
	Scope                string `validate:"required,max=2000"`
	Reason               string `validate:"required,max=4000"`
	CompensatingControls string `validate:"required,max=4000"`
	ExpiresOn            string `validate:"required,date"`
}

// parse checks in against today and the longest allowed term, and
// returns the exception it describes (without its policy's ID) and the
// problems found, for the caller to add the policy's.
func (in Input) parse(v *check.Validator, today time.Time, maxDays int) (Exception, check.Errors) {
	in = Input{Policy: strings.TrimSpace(in.Policy), Section: strings.TrimSpace(in.Section), Scope: strings.TrimSpace(in.Scope),
		Reason: strings.TrimSpace(in.Reason), CompensatingControls: strings.TrimSpace(in.CompensatingControls), ExpiresOn: strings.TrimSpace(in.ExpiresOn)}
	errs := v.Struct(in)
	e := Exception{PolicySlug: in.Policy, Section: in.Section, Scope: in.Scope, Reason: in.Reason, CompensatingControls: in.CompensatingControls}
	if !errs.Has("expires_on") {
		e.ExpiresOn = check.Date(in.ExpiresOn)
		switch {
		case !e.ExpiresOn.After(today):
			errs.Add("expires_on", "must be after today")
		case e.ExpiresOn.After(today.AddDate(0, 0, maxDays)):
			errs.Add("expires_on", "must be at most "+plural(maxDays, "day")+" from today ("+today.AddDate(0, 0, maxDays).Format(time.DateOnly)+")")
		}
	}
	return e, errs
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Errors of the register.
var (
	ErrNotFound       = apperr.New(apperr.NotFound, "no such exception")
	ErrSelfApproval   = apperr.New(apperr.Forbidden, "an exception must be approved by someone other than its requester")
	ErrNotRequested   = apperr.New(apperr.Conflict, "this exception is not waiting for a decision")
	ErrNotApproved    = apperr.New(apperr.Conflict, "this exception is not in force")
	ErrNotRenewable   = apperr.New(apperr.Conflict, "only an exception in force or lapsed can be renewed")
	ErrRenewalPending = apperr.New(apperr.Conflict, "a renewal of this exception already waits for a decision")
	ErrExpired        = apperr.New(apperr.Conflict, "this request's expiry date has passed: request it again with a later date")
)
