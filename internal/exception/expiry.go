package exception

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

// JobName names the daily expiry job, in job_runs and as the actor of
// the lapses it records.
const JobName = "exceptions.expiry"

// Job is the daily job that lapses the exceptions whose expiry has come
// and reminds the people behind those expiring soon.
func (s *Service) Job() jobs.Job {
	return jobs.Job{Name: JobName, Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
		lapsed, reminded, err := s.RunExpiry(ctx)
		return fmt.Sprintf("%d exception(s) lapsed, %d reminded", lapsed, reminded), err
	}}
}

// RunExpiry lapses what is due, then queues the reminders due: the work
// of the daily job and of `charter exceptions expire`. Running it twice
// on a day changes nothing the second time.
func (s *Service) RunExpiry(ctx context.Context) (lapsed, reminded int, err error) {
	if lapsed, err = s.LapseDue(ctx); err != nil {
		return lapsed, 0, err
	}
	reminded, err = s.RemindExpiring(ctx)
	return lapsed, reminded, err
}

// LapseDue marks lapsed every approved exception whose expiry date has
// come (today or earlier), each in its own transaction with its audit
// event and an email to its requester and approver. It returns how many
// lapsed.
func (s *Service) LapseDue(ctx context.Context) (int, error) {
	due, err := s.approvedExpiringBefore(ctx, s.Today().AddDate(0, 0, 1), false)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range due {
		done, err := s.lapseOne(ctx, &due[i])
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// lapseOne is where an exception lapses: the state, the audit event and
// the email commit together, and only once (a second instance finds it
// lapsed and does nothing).
func (s *Service) lapseOne(ctx context.Context, e *Exception) (bool, error) {
	done := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before, now := state(e), s.clock()
		res := tx.Model(&Exception{}).Where("id = ? AND state = ?", e.ID, Approved).
			Updates(map[string]any{"state": Lapsed, "ended_at": now, "ended_by": "system", "end_note": "expired", "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		e.State, e.EndedAt, e.EndedBy, e.EndNote, e.UpdatedAt = Lapsed, &now, "system", "expired", now
		if err := s.record(tx, audit.System("job:"+JobName), now, "exception.lapsed", e, before); err != nil {
			return err
		}
		done = true
		if e.RemindedAt == nil {
			if err := s.lapsingWebhook(tx, now, e, true); err != nil {
				return err
			}
		}
		return s.mail(tx, now, e, 0, true)
	})
	return done, err
}

// RemindExpiring queues, for each approved exception expiring within
// ReminderDays, one reminder to its requester and approver, once: the
// reminder is claimed on the exception itself. It returns how many
// exceptions were brought up.
func (s *Service) RemindExpiring(ctx context.Context) (int, error) {
	today := s.Today()
	due, err := s.approvedExpiringBefore(ctx, today.AddDate(0, 0, s.settings.ReminderDays+1), true)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range due {
		e := &due[i]
		if !e.ExpiresOn.After(today) {
			continue // lapses instead
		}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := s.clock()
			res := tx.Model(&Exception{}).Where("id = ? AND state = ? AND reminded_at IS NULL", e.ID, Approved).Update("reminded_at", now)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			n++
			if err := s.lapsingWebhook(tx, now, e, false); err != nil {
				return err
			}
			return s.mail(tx, now, e, int(e.ExpiresOn.Sub(today).Hours()/24), false)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Service) approvedExpiringBefore(ctx context.Context, day time.Time, unreminded bool) ([]Exception, error) {
	q := query(s.db.WithContext(ctx)).Where("e.state = ? AND e.expires_on < ?", Approved, day)
	if unreminded {
		q = q.Where("e.reminded_at IS NULL")
	}
	var out []Exception
	err := q.Order("e.expires_on, e.id").Find(&out).Error
	return out, err
}

// mail queues the expiry email to the requester and the approver.
func (s *Service) mail(tx *gorm.DB, now time.Time, e *Exception, daysLeft int, lapsed bool) error {
	data := notify.ExceptionExpiring{Policy: e.PolicyTitle, Section: e.Section, Scope: e.Scope, ExpiresOn: e.ExpiresOn,
		DaysLeft: daysLeft, Lapsed: lapsed, Link: s.link(e)}
	to := []string{notify.NormalizeAddress(e.RequestedBy)}
	if a := notify.NormalizeAddress(e.DecidedBy); a != "" && a != to[0] {
		to = append(to, a)
	}
	for _, addr := range to {
		if !strings.Contains(addr, "@") {
			continue // a system or CLI actor has no mailbox
		}
		if _, err := s.settings.Mail.Enqueue(tx, now, notify.MessageDomain(s.settings.BaseURL), addr, data); err != nil {
			return err
		}
	}
	return nil
}
