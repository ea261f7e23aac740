package exception

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
	"gorm.io/gorm"
)

// Defaults of the settings.
const (
	// DefaultMaxDays bounds an exception's term: a year, after which it is
	// looked at again through a renewal.
	DefaultMaxDays = 365
	// DefaultReminderDays is how long before its expiry an exception's
	// requester and approver are reminded.
	DefaultReminderDays = 14
)

// Settings are what the register needs from the configuration.
type Settings struct {
	// BaseURL prefixes the links in reminders.
	BaseURL string
	// Mail renders the reminders; NewService parses its own when nil.
	Mail *notify.Templates
	// MaxDays is the longest term from the request to the expiry.
	MaxDays int
	// ReminderDays: an exception's requester and approver are reminded
	// this many days before it expires, once.
	ReminderDays int
	// Approvers lists the addresses of the active editors and admins, who
	// hear of each request (but its requester); nobody is emailed when nil.
	Approvers func(ctx context.Context) ([]string, error)
}

// Service keeps the register.
type Service struct {
	db       *gorm.DB
	now      func() time.Time
	settings Settings
	check    *check.Validator
}

// NewService returns the register on db.
func NewService(db *gorm.DB, now func() time.Time, settings Settings) *Service {
	if settings.Mail == nil {
		settings.Mail = notify.MustTemplates()
	}
	if settings.MaxDays <= 0 {
		settings.MaxDays = DefaultMaxDays
	}
	if settings.ReminderDays <= 0 {
		settings.ReminderDays = DefaultReminderDays
	}
	return &Service{db: db, now: now, settings: settings, check: check.New()}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Today is the current UTC calendar date, the day expiries are judged on.
func (s *Service) Today() time.Time { return s.now().UTC().Truncate(24 * time.Hour) }

// ReminderDays is how many days before its expiry an exception is
// brought to its requester and approver.
func (s *Service) ReminderDays() int { return s.settings.ReminderDays }

// MaxDays is the longest term an exception may be requested for.
func (s *Service) MaxDays() int { return s.settings.MaxDays }

// state is what the audit trail records of an exception.
func state(e *Exception) map[string]any {
	m := map[string]any{"policy": e.PolicySlug, "section": e.Section, "scope": e.Scope, "reason": e.Reason,
		"compensating_controls": e.CompensatingControls, "state": e.State, "expires_on": e.ExpiresOn.Format(time.DateOnly),
		"requested_by": e.RequestedBy}
	if e.RenewsID != nil {
		m["renews"] = *e.RenewsID
	}
	if e.DecidedBy != "" {
		m["decided_by"], m["decision_note"] = e.DecidedBy, e.DecisionNote
	}
	if e.EndedAt != nil {
		m["ended_by"], m["end_note"] = e.EndedBy, e.EndNote
	}
	return m
}

func (s *Service) record(tx *gorm.DB, by audit.Actor, at time.Time, action string, e *Exception, before map[string]any) error {
	return audit.Append(tx, by, audit.Entry{At: at, Action: action, ObjectType: "policy_exception", ObjectID: strconv.FormatInt(e.ID, 10),
		Before: before, After: state(e)})
}

// query reads exceptions with their policy's slug and title.
func query(tx *gorm.DB) *gorm.DB {
	return tx.Table("policy_exceptions AS e").Select("e.*, p.slug AS policy_slug, p.title AS policy_title").
		Joins("JOIN policies p ON p.id = e.policy_id")
}

func get(tx *gorm.DB, id int64) (*Exception, error) {
	var e Exception
	err := query(tx).Where("e.id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Get returns one exception. Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Exception, error) {
	return get(s.db.WithContext(ctx), id)
}

// Filter narrows List.
type Filter struct {
	State  State  // any when empty
	Policy string // a policy's slug; any when empty
	// RenewsID keeps the renewals of one exception.
	RenewsID int64
	// ExpiresBefore keeps exceptions expiring before this day.
	ExpiresBefore *time.Time
}

// List returns the exceptions f keeps, the newest request first.
func (s *Service) List(ctx context.Context, f Filter) ([]Exception, error) {
	q := query(s.db.WithContext(ctx))
	if f.State != "" {
		q = q.Where("e.state = ?", f.State)
	}
	if f.Policy != "" {
		q = q.Where("p.slug = ?", f.Policy)
	}
	if f.RenewsID != 0 {
		q = q.Where("e.renews_id = ?", f.RenewsID)
	}
	if f.ExpiresBefore != nil {
		q = q.Where("e.expires_on < ?", *f.ExpiresBefore)
	}
	var out []Exception
	err := q.Order("e.requested_at DESC, e.id DESC").Find(&out).Error
	return out, err
}

// Request records a request for an exception, waiting for approval.
// Errors: Invalid (naming the field: an unknown policy, an expiry not
// after today or beyond MaxDays).
func (s *Service) Request(ctx context.Context, by audit.Actor, in Input) (*Exception, error) {
	return s.request(ctx, by, in, nil)
}

// Renew requests a renewal of exception id: a new request for the same
// policy, linked to it; approving it supersedes id. Errors: Invalid,
// ErrNotFound, ErrNotRenewable, ErrRenewalPending.
func (s *Service) Renew(ctx context.Context, by audit.Actor, id int64, in Input) (*Exception, error) {
	return s.request(ctx, by, in, &id)
}

func (s *Service) request(ctx context.Context, by audit.Actor, in Input, renews *int64) (*Exception, error) {
	db := s.db.WithContext(ctx)
	if renews != nil {
		old, err := get(db, *renews)
		if err != nil {
			return nil, err
		}
		in.Policy = old.PolicySlug
	}
	e, errs := in.parse(s.check, s.Today(), s.settings.MaxDays)
	var p struct {
		ID    int64
		Title string
	}
	if !errs.Has("policy") {
		if err := db.Table("policies").Select("id, title").Where("slug = ?", e.PolicySlug).Take(&p).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			errs.Add("policy", "is not a policy in the register")
		} else if err != nil {
			return nil, err
		}
	}
	err := errs.Err()
	if err != nil {
		return nil, err
	}
	var approvers []string
	if s.settings.Approvers != nil {
		if approvers, err = s.settings.Approvers(ctx); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	e.PolicyID, e.PolicyTitle = p.ID, p.Title
	e.State, e.RenewsID, e.RequestedByID, e.RequestedBy, e.RequestedAt, e.UpdatedAt = Requested, renews, by.UserID, by.Label, now, now
	err = db.Transaction(func(tx *gorm.DB) error {
		if renews != nil {
			old, err := get(tx, *renews)
			if err != nil {
				return err
			}
			if !old.Renewable() {
				return ErrNotRenewable
			}
			var pending int64
			if err := tx.Model(&Exception{}).Where("renews_id = ? AND state = ?", old.ID, Requested).Count(&pending).Error; err != nil {
				return err
			}
			if pending > 0 {
				return ErrRenewalPending
			}
		}
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		if err := s.askApprovers(tx, now, &e, approvers); err != nil {
			return err
		}
		if renews != nil {
			return s.record(tx, by, now, "exception.renewal_requested", &e, nil)
		}
		return s.record(tx, by, now, "exception.requested", &e, nil)
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// askApprovers emails a request to each approver but its requester, in
// the request's transaction.
func (s *Service) askApprovers(tx *gorm.DB, now time.Time, e *Exception, approvers []string) error {
	data := notify.ExceptionRequest{Policy: e.PolicyTitle, Section: e.Section, Scope: e.Scope, Reason: e.Reason,
		CompensatingControls: e.CompensatingControls, ExpiresOn: e.ExpiresOn, Requester: e.RequestedBy, Renewal: e.RenewsID != nil,
		Link: s.link(e)}
	for _, addr := range approvers {
		if notify.NormalizeAddress(addr) == notify.NormalizeAddress(e.RequestedBy) {
			continue
		}
		if _, err := s.settings.Mail.Enqueue(tx, now, notify.MessageDomain(s.settings.BaseURL), addr, data); err != nil {
			return err
		}
	}
	return nil
}

// link is the exception's page, for emails.
func (s *Service) link(e *Exception) string {
	return strings.TrimRight(s.settings.BaseURL, "/") + "/app/exceptions/" + strconv.FormatInt(e.ID, 10)
}

// Approve puts a requested exception in force; when it renews another,
// that one is superseded in the same step. Errors: ErrNotFound,
// ErrNotRequested, ErrSelfApproval, ErrExpired.
func (s *Service) Approve(ctx context.Context, by audit.Actor, id int64, note string) (*Exception, error) {
	var e *Exception
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if e, err = get(tx, id); err != nil {
			return err
		}
		if e.State != Requested {
			return ErrNotRequested
		}
		if !e.CanApprove(by.UserID) {
			return ErrSelfApproval
		}
		if !s.Today().Before(e.ExpiresOn) {
			return ErrExpired
		}
		before, now := state(e), s.clock()
		uid := by.UserID
		e.State, e.DecidedByID, e.DecidedBy, e.DecidedAt, e.DecisionNote, e.ApprovedAt, e.UpdatedAt =
			Approved, &uid, by.Label, &now, strings.TrimSpace(note), &now, now
		if err := s.transition(tx, e, Requested, map[string]any{"state": e.State, "decided_by_id": uid, "decided_by": e.DecidedBy,
			"decided_at": now, "decision_note": e.DecisionNote, "approved_at": now, "updated_at": now}); err != nil {
			return err
		}
		if err := s.record(tx, by, now, "exception.approved", e, before); err != nil {
			return err
		}
		if e.RenewsID == nil {
			return nil
		}
		old, err := get(tx, *e.RenewsID)
		if err != nil || old.State != Approved {
			return err
		}
		before = state(old)
		old.State, old.EndedAt, old.EndedBy, old.EndNote, old.UpdatedAt = Superseded, &now, by.Label, "renewed by exception "+strconv.FormatInt(e.ID, 10), now
		if err := s.transition(tx, old, Approved, map[string]any{"state": old.State, "ended_at": now, "ended_by": old.EndedBy,
			"end_note": old.EndNote, "updated_at": now}); err != nil {
			return err
		}
		return s.record(tx, by, now, "exception.superseded", old, before)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// transition writes changes to e if it is still in state from: a second
// decision made at the same time finds it moved on.
func (s *Service) transition(tx *gorm.DB, e *Exception, from State, changes map[string]any) error {
	res := tx.Model(&Exception{}).Where("id = ? AND state = ?", e.ID, from).Updates(changes)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return wrongState(from)
	}
	return nil
}

// wrongState is the error for an exception no longer in state from.
func wrongState(from State) error {
	if from == Requested {
		return ErrNotRequested
	}
	return ErrNotApproved
}

// Reject refuses a requested exception; the requester may withdraw their
// own request this way. Errors: Invalid (no note), ErrNotFound,
// ErrNotRequested.
func (s *Service) Reject(ctx context.Context, by audit.Actor, id int64, note string) (*Exception, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, apperr.Field("note", "is required: say why the exception is refused")
	}
	return s.move(ctx, id, Requested, func(tx *gorm.DB, e *Exception, before map[string]any, now time.Time) error {
		uid := by.UserID
		e.State, e.DecidedByID, e.DecidedBy, e.DecidedAt, e.DecisionNote, e.UpdatedAt = Rejected, &uid, by.Label, &now, note, now
		if err := s.transition(tx, e, Requested, map[string]any{"state": e.State, "decided_by_id": uid, "decided_by": e.DecidedBy,
			"decided_at": now, "decision_note": note, "updated_at": now}); err != nil {
			return err
		}
		return s.record(tx, by, now, "exception.rejected", e, before)
	})
}

// Revoke ends an exception in force before its expiry. Errors: Invalid
// (no note), ErrNotFound, ErrNotApproved.
func (s *Service) Revoke(ctx context.Context, by audit.Actor, id int64, note string) (*Exception, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, apperr.Field("note", "is required: say why the exception ends early")
	}
	return s.move(ctx, id, Approved, func(tx *gorm.DB, e *Exception, before map[string]any, now time.Time) error {
		e.State, e.EndedAt, e.EndedBy, e.EndNote, e.UpdatedAt = Revoked, &now, by.Label, note, now
		if err := s.transition(tx, e, Approved, map[string]any{"state": e.State, "ended_at": now, "ended_by": e.EndedBy,
			"end_note": note, "updated_at": now}); err != nil {
			return err
		}
		return s.record(tx, by, now, "exception.revoked", e, before)
	})
}

// move loads exception id and, if it is in state from, runs step in the
// same transaction with its state before and the time: step changes it and
// records its audit event (with its action written out, as auditview's
// coverage test reads it). Errors: ErrNotFound, and ErrNotRequested or
// ErrNotApproved when it is not in state from.
func (s *Service) move(ctx context.Context, id int64, from State,
	step func(tx *gorm.DB, e *Exception, before map[string]any, now time.Time) error) (*Exception, error) {
	var e *Exception
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if e, err = get(tx, id); err != nil {
			return err
		}
		if e.State != from {
			return wrongState(from)
		}
		return step(tx, e, state(e), s.clock())
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}
