package document

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

// When the owner of a document hears that its version in force lapses:
// a month ahead, a week ahead, and when it has lapsed.
const (
	EarlyReminderDays = 30
	FinalReminderDays = 7
)

// LapseJob is the daily job that reminds owners of lapsing documents and
// records the lapse of each (the version leaves /trust by itself; the
// audit trail says when).
func (s *Service) LapseJob() jobs.Job {
	return jobs.Job{Name: "documents.lapse", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
		n, err := s.RemindOwners(ctx)
		return fmt.Sprintf("%d owner reminder(s) queued", n), err
	}}
}

// RemindOwners queues, for each document whose version in force lapses
// within EarlyReminderDays, the reminder its stage is due, once, and
// records lapses in the audit trail. It returns how many emails it queued.
func (s *Service) RemindOwners(ctx context.Context) (int, error) {
	today := s.Today()
	var due []struct {
		Version
		Title      string
		Slug       string
		OwnerEmail string
	}
	err := s.db.WithContext(ctx).Table("trust_document_versions AS v").
		Select("v.*, d.title, d.slug, d.owner_email").
		Joins("JOIN trust_documents d ON d.current_version_id = v.id").
		Where("v.valid_until IS NOT NULL AND v.valid_until <= ? AND v.reminder_stage <> ?", today.AddDate(0, 0, EarlyReminderDays), "lapsed").
		Order("v.id").Scan(&due).Error
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		days := int(d.ValidUntil.Sub(today).Hours() / 24)
		stage := "early"
		switch {
		case days < 0:
			stage = "lapsed"
		case days <= FinalReminderDays:
			stage = "final"
		}
		if stage == d.ReminderStage {
			continue
		}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// The stage only moves forward, and only from what was read:
			// a second instance running the same job changes nothing.
			res := tx.Model(&Version{}).Where("id = ? AND reminder_stage = ?", d.ID, d.ReminderStage).Update("reminder_stage", stage)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			now := s.clock()
			if stage == "lapsed" {
				if err := audit.Append(tx, audit.System("job:documents.lapse"), audit.Entry{At: now, Action: "document.lapsed", ObjectType: "document",
					ObjectID: d.Slug, After: map[string]any{"version": d.Version.Version, "valid_until": d.ValidUntil.Format(time.DateOnly)}}); err != nil {
					return err
				}
			}
			_, err := s.settings.Mail.Enqueue(tx, now, notify.MessageDomain(s.settings.BaseURL), d.OwnerEmail, notify.DocumentExpiring{
				Title: d.Title, Version: d.Version.Version, ValidUntil: *d.ValidUntil, DaysLeft: days, Lapsed: stage == "lapsed",
				Link: strings.TrimRight(s.settings.BaseURL, "/") + "/app/documents/" + d.Slug})
			if err == nil {
				sent++
			}
			return err
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}
