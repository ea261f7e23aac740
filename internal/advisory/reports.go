package advisory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// ReportStatuses are the states of a vulnerability report's triage.
var ReportStatuses = []string{"new", "triaged", "valid", "invalid", "duplicate", "fixed"}

// Report is a vulnerability report from the public form.
type Report struct {
	ID         int64     `json:"-"`
	Reference  string    `json:"reference"`
	Email      string    `json:"email"`
	Summary    string    `json:"summary"`
	Details    string    `json:"details"`
	Steps      string    `json:"steps"`
	Product    string    `json:"product"`
	Status     string    `json:"status"`
	AdvisoryID *int64    `json:"-"`
	RewardNote string    `json:"reward_note"`
	Notes      string    `json:"notes"` // internal
	ClientIP   string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// TableName is the reports table.
func (Report) TableName() string { return "vulnerability_reports" }

// ReportInput is the public form.
type ReportInput struct {
	Email   string `validate:"required,address"`
	Summary string `validate:"required,max=200"`
	Details string `validate:"required,max=20000"`
	Steps   string `validate:"max=20000"`
	Product string `validate:"max=200"`
}

// SubmitReport records a report and acknowledges it by email with its
// reference number; the security contact hears of it too.
func (s *Service) SubmitReport(ctx context.Context, from audit.Actor, in ReportInput, securityEmail string) (*Report, error) {
	in = ReportInput{Email: notify.NormalizeAddress(in.Email), Summary: strings.TrimSpace(in.Summary), Details: strings.TrimSpace(in.Details),
		Steps: strings.TrimSpace(in.Steps), Product: strings.TrimSpace(in.Product)}
	errs := s.check.Struct(in)
	if errs.Has("email") {
		errs["email"] = "must be an email address we can reply to"
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	r := Report{Email: in.Email, Summary: in.Summary, Details: in.Details, Steps: in.Steps, Product: in.Product, Status: "new", ClientIP: from.IP}
	company, err := s.company(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.TakeTurn(tx, "vulnerability_reports.reference"); err != nil {
			return err
		}
		now := s.clock()
		var n int64
		if err := tx.Model(&Report{}).Where("reference LIKE ?", "VR-"+now.Format("2006")+"-%").Count(&n).Error; err != nil {
			return err
		}
		r.Reference = fmt.Sprintf("VR-%s-%04d", now.Format("2006"), n+1)
		r.CreatedAt, r.UpdatedAt = now, now
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		domain := notify.MessageDomain(s.settings.BaseURL)
		if _, err := s.settings.Mail.Enqueue(tx, now, domain, r.Email,
			notify.VulnerabilityReportAck{Company: company, Reference: r.Reference, Summary: r.Summary}); err != nil {
			return err
		}
		if securityEmail != "" {
			if _, err := s.settings.Mail.Enqueue(tx, now, domain, securityEmail, notify.VulnerabilityReport{Reference: r.Reference, Reporter: r.Email,
				Summary: r.Summary, Product: r.Product, Link: strings.TrimRight(s.settings.BaseURL, "/") + "/app/reports/" + r.Reference}); err != nil {
				return err
			}
		}
		by := from
		by.Label = "reporter:" + r.Email
		return audit.Append(tx, by, audit.Entry{At: now, Action: "vulnerability_report.received", ObjectType: "vulnerability_report", ObjectID: r.Reference,
			After: map[string]any{"summary": r.Summary, "product": r.Product}})
	})
	return &r, err
}

// ReportUpdate is the team's triage.
type ReportUpdate struct {
	Status     string `validate:"oneof=new triaged valid invalid duplicate fixed"`
	Advisory   string // an advisory's ID, or empty
	RewardNote string `validate:"max=1000"`
	Notes      string `validate:"max=20000"`
}

// ErrReportNotFound is returned for an unknown reference.
var ErrReportNotFound = apperr.New(apperr.NotFound, "no such report")

// UpdateReport records the triage of a report.
func (s *Service) UpdateReport(ctx context.Context, by audit.Actor, reference string, in ReportUpdate) (*Report, error) {
	in = ReportUpdate{Status: strings.TrimSpace(in.Status), Advisory: strings.TrimSpace(in.Advisory), RewardNote: strings.TrimSpace(in.RewardNote),
		Notes: strings.TrimSpace(in.Notes)}
	if err := s.check.Struct(in).Err(); err != nil {
		return nil, err
	}
	var r Report
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Where("reference = ?", reference).Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrReportNotFound
		} else if err != nil {
			return err
		}
		before := r
		r.AdvisoryID = nil
		if id := in.Advisory; id != "" {
			var a Advisory
			if err := tx.Where("public_id = ?", id).Take(&a).Error; errors.Is(err, gorm.ErrRecordNotFound) {
				return apperr.Field("advisory", "is not an advisory's ID")
			} else if err != nil {
				return err
			}
			r.AdvisoryID = &a.ID
		}
		r.Status, r.RewardNote, r.Notes, r.UpdatedAt = in.Status, in.RewardNote, in.Notes, s.clock()
		if err := tx.Save(&r).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: r.UpdatedAt, Action: "vulnerability_report.updated", ObjectType: "vulnerability_report", ObjectID: r.Reference,
			Before: map[string]any{"status": before.Status, "advisory_id": before.AdvisoryID, "reward_note": before.RewardNote},
			After:  map[string]any{"status": r.Status, "advisory_id": r.AdvisoryID, "reward_note": r.RewardNote}})
	})
	return &r, err
}

// Reports returns reports, newest first; status "" means all.
func (s *Service) Reports(ctx context.Context, status string) ([]Report, error) {
	q := s.db.WithContext(ctx).Order("created_at DESC, id DESC")
	if status != "" {
		if !slices.Contains(ReportStatuses, status) {
			return nil, apperr.Field("status", "must be one of "+strings.Join(ReportStatuses, ", "))
		}
		q = q.Where("status = ?", status)
	}
	var out []Report
	return out, q.Limit(500).Find(&out).Error
}

// ReportDetail is a report with its advisory's ID.
type ReportDetail struct {
	Report
	Advisory string
}

// ReportByReference returns one report.
func (s *Service) ReportByReference(ctx context.Context, reference string) (*ReportDetail, error) {
	var d ReportDetail
	if err := s.db.WithContext(ctx).Where("reference = ?", reference).Take(&d.Report).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrReportNotFound
	} else if err != nil {
		return nil, err
	}
	if d.AdvisoryID != nil {
		var a Advisory
		if err := s.db.WithContext(ctx).Take(&a, *d.AdvisoryID).Error; err == nil {
			d.Advisory = a.PublicID
		}
	}
	return &d, nil
}
