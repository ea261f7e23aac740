package people

import (
	"context"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ReminderWindow: what falls due this soon is included in a reminder.
const ReminderWindow = 7 * 24 * time.Hour

// reminderSent marks that an employee was reminded on a day.
type reminderSent struct {
	EmployeeID int64     `gorm:"primaryKey;autoIncrement:false"`
	Day        time.Time `gorm:"primaryKey"`
}

func (reminderSent) TableName() string { return "reminders_sent" }

// QueueReminders queues, in the outbox, one email to each active employee
// who has something overdue or due within seven days: policies to
// acknowledge (with a new link) and training to complete. Nobody gets two
// reminders on the same day, however often it runs. It returns how many
// were queued. The work is one transaction with a fixed number of queries.
func (s *Service) QueueReminders(ctx context.Context, by audit.Actor) (int, error) {
	queued := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		today := s.today()
		var emps []Employee
		if err := tx.Where("end_date IS NULL OR end_date > ?", today).Order("email").Find(&emps).Error; err != nil {
			return err
		}
		f, err := loadFacts(tx, nil)
		if err != nil {
			return err
		}
		satisfied := map[[2]int64]bool{} // (employee, policy)
		if len(f.reqs) > 0 {
			pairs := make([][]any, len(f.reqs))
			for i, r := range f.reqs {
				pairs[i] = []any{r.PolicyID, r.Major}
			}
			var acked []struct{ EmployeeID, PolicyID int64 }
			if err := tx.Model(&Acknowledgement{}).Distinct("employee_id", "policy_id").Where("(policy_id, major) IN ?", pairs).
				Scan(&acked).Error; err != nil {
				return err
			}
			for _, a := range acked {
				satisfied[[2]int64{a.EmployeeID, a.PolicyID}] = true
			}
		}
		var already []int64
		if err := tx.Model(&reminderSent{}).Where("day = ?", today).Pluck("employee_id", &already).Error; err != nil {
			return err
		}
		sent := map[int64]bool{}
		for _, id := range already {
			sent[id] = true
		}
		horizon := today.Add(ReminderWindow)
		for i := range emps {
			e := &emps[i]
			if sent[e.ID] {
				continue
			}
			var acks, training []notify.ReminderItem
			for _, r := range f.reqs {
				if due := s.dueFor(e.StartDate, r); !satisfied[[2]int64{e.ID, r.PolicyID}] && !due.After(horizon) {
					acks = append(acks, notify.ReminderItem{What: r.Title, Due: due, Overdue: due.Before(today)})
				}
			}
			for _, c := range f.courses {
				st := s.standing(e, c, f.latest[[2]int64{e.ID, c.ID}], today)
				if !st.Due.IsZero() && (st.Overdue || !st.Due.After(horizon)) {
					training = append(training, notify.ReminderItem{What: c.Name, Due: st.Due, Overdue: st.Overdue})
				}
			}
			if len(acks)+len(training) == 0 {
				continue
			}
			if err := s.queueReminder(tx, by, e, today, acks, training); err != nil {
				return err
			}
			queued++
		}
		return nil
	})
	return queued, err
}

func (s *Service) queueReminder(tx *gorm.DB, by audit.Actor, e *Employee, today time.Time, acks, training []notify.ReminderItem) error {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&reminderSent{EmployeeID: e.ID, Day: today})
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	reminder := notify.Reminder{FirstName: firstName(e.Name), Policies: acks, Training: training}
	if len(acks) > 0 {
		// A fresh link: earlier tokens cannot be recovered (only hashes are kept).
		url, _, err := s.newAckLink(tx, by, e, "reminder")
		if err != nil {
			return err
		}
		reminder.Link = url
	}
	now := s.clock()
	m, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), e.Email, reminder)
	if err != nil {
		return err
	}
	return audit.Append(tx, by, audit.Entry{At: now, Action: "reminder.queued", ObjectType: "employee", ObjectID: e.Email,
		After: map[string]any{"policies": len(acks), "training": len(training), "outbox_message": m.MessageID}})
}
