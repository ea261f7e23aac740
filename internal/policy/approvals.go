package policy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
)

// Approver is a user who may approve versions: an active editor or admin.
type Approver struct {
	UserID int64
	Email  string
	Admin  bool
}

// Approvals is how drafts reach the people who approve them.
type Approvals struct {
	// Approvers lists the active editors and admins.
	Approvers func(ctx context.Context) ([]Approver, error)
	Mail      *notify.Templates
	BaseURL   string // for the links in emails
	// RemindAfter is how long a draft waits before its approvers are
	// reminded, then once a day.
	RemindAfter time.Duration
}

// DefaultRemindAfter is the wait before the first approval reminder.
const DefaultRemindAfter = 3 * 24 * time.Hour

// SetApprovals configures who hears of drafts. Without it, nobody is
// emailed and no approver can be named.
func (s *Service) SetApprovals(a Approvals) {
	if a.Mail == nil {
		a.Mail = notify.MustTemplates()
	}
	if a.RemindAfter <= 0 {
		a.RemindAfter = DefaultRemindAfter
	}
	s.approvals = a
}

// Approvers returns the users who may approve versions.
func (s *Service) Approvers(ctx context.Context) ([]Approver, error) {
	if s.approvals.Approvers == nil {
		return nil, nil
	}
	return s.approvals.Approvers(ctx)
}

// CanApprove reports whether the user may approve v: a draft, by someone
// other than its author and last editor (segregation of duties), and, when
// an approver is named, by that approver or an admin (so that a draft is
// not stuck while its approver is away). Approve and the pages apply this
// one rule.
func (v *Version) CanApprove(userID int64, admin bool) bool {
	if v.Status != StatusDraft || userID == 0 || sameUser(v.AuthorID, userID) || sameUser(v.EditedByID, userID) {
		return false
	}
	return v.ApproverID == nil || *v.ApproverID == userID || admin
}

// Waiting reports whether v waits for approval.
func (v *Version) Waiting() bool { return v.Status == StatusDraft }

// WaitingSince is when v was (last) submitted for approval.
func (v *Version) WaitingSince() time.Time {
	if v.SubmittedAt != nil {
		return *v.SubmittedAt
	}
	return v.UpdatedAt
}

func isAdmin(approvers []Approver, userID int64) bool {
	for _, a := range approvers {
		if a.UserID == userID {
			return a.Admin
		}
	}
	return false
}

// namedApprover resolves the approver a draft names by email: an active
// editor or admin other than the author and the person saving. It returns
// the problem with the name, if any.
func namedApprover(approvers []Approver, email string, author *int64, by int64) (*Approver, string) {
	email = notify.NormalizeAddress(email)
	if email == "" {
		return nil, ""
	}
	for i := range approvers {
		a := &approvers[i]
		if a.Email != email {
			continue
		}
		if a.UserID == by || sameUser(author, a.UserID) {
			return nil, "must be someone other than the draft's author or editor"
		}
		return a, ""
	}
	return nil, "must be an active editor or admin"
}

// recipients are who hear of a draft: its named approver, or every
// approver who may approve it.
func recipients(approvers []Approver, v *Version) []string {
	var to []string
	for _, a := range approvers {
		if v.CanApprove(a.UserID, a.Admin) && (v.ApproverID == nil || *v.ApproverID == a.UserID) {
			to = append(to, a.Email)
		}
	}
	return to
}

func (s *Service) link(path string) string {
	return strings.TrimRight(s.approvals.BaseURL, "/") + path
}

func versionPath(p *Policy, v *Version) string {
	return "/app/policies/" + p.Slug + "/versions/" + v.Number()
}

// submit marks v as waiting for approval by approver (nil: anyone
// allowed), emails who may approve it and records the event, in tx.
func (s *Service) submit(tx *gorm.DB, by audit.Actor, p *Policy, v *Version, approvers []Approver, approver *Approver, now time.Time) error {
	v.ApproverID, v.Approver = nil, ""
	if approver != nil {
		id := approver.UserID
		v.ApproverID, v.Approver = &id, approver.Email
	}
	v.SubmittedAt, v.RemindedAt = &now, nil
	if err := tx.Model(v).Select("approver_id", "approver", "submitted_at", "reminded_at").Updates(v).Error; err != nil {
		return err
	}
	to := recipients(approvers, v)
	if s.approvals.Mail != nil {
		mail := notify.ApprovalRequest{Policy: p.Title, Version: v.Number(), Author: by.Label, ChangeSummary: v.ChangeSummary,
			Material: v.Material, Named: approver != nil, Link: s.link(versionPath(p, v))}
		for _, addr := range to {
			if _, err := s.approvals.Mail.Enqueue(tx, now, notify.MessageDomain(s.approvals.BaseURL), addr, mail); err != nil {
				return err
			}
		}
	}
	return audit.Append(tx, by, audit.Entry{At: now, Action: "policy.version.submitted", ObjectType: "policy_version",
		ObjectID: p.Slug + "@" + v.Number(), After: map[string]any{"approver": v.Approver, "notified": len(to)}})
}

// RemindApprovers emails the approvers of every draft that has waited
// RemindAfter or longer, at most once a UTC day per draft: the day's
// reminder is claimed on the version itself, so two instances, or the job
// and a rerun, never remind twice. It returns the drafts reminded.
func (s *Service) RemindApprovers(ctx context.Context) (int, error) {
	if s.approvals.Approvers == nil {
		return 0, nil
	}
	approvers, err := s.approvals.Approvers(ctx)
	if err != nil {
		return 0, err
	}
	now := s.clock()
	today := now.Truncate(24 * time.Hour)
	var due []Version
	if err := s.db.WithContext(ctx).Omit("body").Where("status = ? AND COALESCE(submitted_at, updated_at) <= ? AND (reminded_at IS NULL OR reminded_at < ?)",
		StatusDraft, now.Add(-s.approvals.RemindAfter), today).Order("id").Find(&due).Error; err != nil {
		return 0, err
	}
	reminded := 0
	for i := range due {
		v := &due[i]
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			claim := tx.Model(&Version{}).Where("id = ? AND status = ? AND (reminded_at IS NULL OR reminded_at < ?)", v.ID, StatusDraft, today).
				Update("reminded_at", now)
			if claim.Error != nil || claim.RowsAffected == 0 {
				return claim.Error
			}
			var p Policy
			if err := tx.Take(&p, v.PolicyID).Error; err != nil {
				return err
			}
			mail := notify.ApprovalReminder{Policy: p.Title, Version: v.Number(), Author: v.Author,
				Waiting: Age(v.WaitingSince(), now), Link: s.link(versionPath(&p, v))}
			for _, addr := range recipients(approvers, v) {
				if _, err := s.approvals.Mail.Enqueue(tx, now, notify.MessageDomain(s.approvals.BaseURL), addr, mail); err != nil {
					return err
				}
			}
			reminded++
			return nil
		})
		if err != nil {
			return reminded, err
		}
	}
	return reminded, nil
}

// ReminderJob is the daily job that reminds approvers of drafts waiting.
func (s *Service) ReminderJob() jobs.Job {
	return jobs.Job{Name: "policies.approval-reminders", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
		n, err := s.RemindApprovers(ctx)
		return fmt.Sprintf("%d draft(s) brought to their approvers again", n), err
	}}
}

// Age says how long ago since was, in words: "today", "1 day", "3 days".
func Age(since, now time.Time) string {
	days := int(now.Sub(since) / (24 * time.Hour))
	switch {
	case days <= 0:
		return "today"
	case days == 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}
