package people

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CheckStatus is where an employee's background check stands.
type CheckStatus string

// The statuses (as background-check providers report them).
const (
	CheckNotStarted CheckStatus = "not_started"
	CheckInProgress CheckStatus = "in_progress"
	CheckClear      CheckStatus = "clear"
	CheckConsider   CheckStatus = "consider"
	CheckAdverse    CheckStatus = "adverse"
	CheckExempt     CheckStatus = "exempt"
)

// CheckStatuses lists every status.
var CheckStatuses = []CheckStatus{CheckNotStarted, CheckInProgress, CheckClear, CheckConsider, CheckAdverse, CheckExempt}

// Complete reports whether the check needs no more work: finished with any
// result, or exempt.
func (c CheckStatus) Complete() bool {
	return c == CheckClear || c == CheckConsider || c == CheckAdverse || c == CheckExempt
}

// BackgroundCheck is an employee's current check: status and dates only,
// never the report's contents.
type BackgroundCheck struct {
	EmployeeID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Status          CheckStatus
	Provider        string
	InitiatedOn     *time.Time
	CompletedOn     *time.Time
	ExemptionReason string
	UpdatedAt       time.Time
}

// CheckInput is a background check as typed in a form or JSON.
type CheckInput struct {
	Status          string `validate:"oneof=not_started in_progress clear consider adverse exempt"`
	Provider        string `validate:"max=200"`
	InitiatedOn     string `validate:"omitempty,date"`
	CompletedOn     string `validate:"omitempty,date"`
	ExemptionReason string
}

// Parse checks the input and names each bad field.
func (in CheckInput) Parse(v *check.Validator) (BackgroundCheck, check.Errors) {
	in = CheckInput{Status: strings.TrimSpace(in.Status), Provider: strings.TrimSpace(in.Provider), InitiatedOn: strings.TrimSpace(in.InitiatedOn),
		CompletedOn: strings.TrimSpace(in.CompletedOn), ExemptionReason: strings.TrimSpace(in.ExemptionReason)}
	errs := v.Struct(in)
	c := BackgroundCheck{Status: CheckStatus(in.Status), Provider: in.Provider, ExemptionReason: in.ExemptionReason}
	date := func(field, v string) *time.Time {
		if v == "" || errs.Has(field) {
			return nil
		}
		d := check.Date(v)
		return &d
	}
	c.InitiatedOn = date("initiated_on", in.InitiatedOn)
	c.CompletedOn = date("completed_on", in.CompletedOn)
	finished := c.Status == CheckClear || c.Status == CheckConsider || c.Status == CheckAdverse
	if (c.Status == CheckInProgress || finished) && c.InitiatedOn == nil && !errs.Has("provider") {
		errs.Add("initiated_on", "is required once the check has started")
	}
	if finished && c.CompletedOn == nil {
		errs.Add("completed_on", "is required for a finished check")
	} else if !finished && c.CompletedOn != nil {
		errs.Add("completed_on", "only a finished check (clear, consider or adverse) has a completion date")
	} else if c.CompletedOn != nil && c.InitiatedOn != nil && c.CompletedOn.Before(*c.InitiatedOn) {
		errs.Add("completed_on", "must not be before the initiation date")
	}
	if c.Status == CheckExempt && c.ExemptionReason == "" {
		errs.Add("exemption_reason", "is required for an exemption, e.g. not permitted in the employee's country")
	} else if c.Status != CheckExempt && c.ExemptionReason != "" {
		errs.Add("exemption_reason", "applies only to the exempt status")
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

func checkState(c *BackgroundCheck) map[string]any {
	return map[string]any{"status": c.Status, "provider": c.Provider, "initiated_on": c.InitiatedOn,
		"completed_on": c.CompletedOn, "exemption_reason": c.ExemptionReason}
}

// checkOf returns e's check, or a not-started one.
func checkOf(db *gorm.DB, employeeID int64) (*BackgroundCheck, error) {
	var c BackgroundCheck
	err := db.Where("employee_id = ?", employeeID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &BackgroundCheck{EmployeeID: employeeID, Status: CheckNotStarted}, nil
	}
	return &c, err
}

// SetBackgroundCheck records the employee's current check; the change and
// the previous state go to the audit trail. Errors: ErrEmployeeNotFound,
// Invalid naming each field.
func (s *Service) SetBackgroundCheck(ctx context.Context, by audit.Actor, email string, in CheckInput) (*BackgroundCheck, error) {
	next, errs := in.Parse(s.check)
	if errs != nil {
		return nil, apperr.Fields(errs)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		e, err := byEmail(tx, email)
		if err != nil {
			return err
		}
		cur, err := checkOf(store.ForUpdate(tx), e.ID)
		if err != nil {
			return err
		}
		now := s.clock()
		next.EmployeeID, next.UpdatedAt = e.ID, now
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&next).Error; err != nil {
			return err
		}
		if err := audit.Append(tx, by, audit.Entry{At: now, Action: "background_check.updated", ObjectType: "employee", ObjectID: e.Email,
			Before: checkState(cur), After: checkState(&next)}); err != nil {
			return err
		}
		return s.refresh(tx, e.ID)
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// checkDue is when an employee's background check must be complete.
func (s *Service) checkDue(start time.Time) time.Time {
	return start.AddDate(0, 0, s.settings.BackgroundCheckDays)
}
