package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/charter-registry/charter/internal/store"
)

// Jobs is the schedule of `charter serve`: every job with its period,
// claimed per period in the database so that several instances run each
// once.
func (a *App) Jobs() []jobs.Job {
	scheduled := []jobs.Job{
		a.Privacy.ApplyDueJob(),
		a.DSAR.RedactJob(),
		a.Documents.LapseJob(),
		a.Exceptions.Job(),
		a.Policies.ReminderJob(),
		a.AuditLog.Job(),
		a.DSAR.ReminderJob(func(ctx context.Context) ([]string, error) { return a.Users.Emails(ctx, auth.Editor) }),
		{Name: "auth.prune-login-failures", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
			n, err := a.Users.PruneLoginFailures(ctx)
			return fmt.Sprintf("%d old failed sign-in(s) pruned", n), err
		}},
		publicform.RetentionJob(a.Store.DB, a.Now, a.Config.UnconfirmedRetention,
			publicform.Expirer{What: "policy request(s)", Delete: a.Packets.DeleteUnconfirmed},
			publicform.Expirer{What: "privacy request(s)", Delete: a.DSAR.DeleteUnconfirmed},
			publicform.Expirer{What: "subscription(s)", Delete: a.Privacy.DeleteUnconfirmed},
			publicform.Expirer{What: "DPA signature(s)", Delete: a.Privacy.DeleteUnconfirmedSignatures}),
	}
	if a.Config.BackupInterval > 0 && a.Store.Dialect == store.SQLite {
		scheduled = append(scheduled, a.BackupJob())
	}
	if a.Config.Reminders {
		scheduled = append(scheduled, jobs.Job{Name: "people.reminders", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
			n, err := a.People.QueueReminders(ctx, audit.System("job:reminders"))
			return fmt.Sprintf("%d reminder(s) queued", n), err
		}})
	}
	return scheduled
}

// BackupJob writes a checked copy of the SQLite database into the backup
// directory once per backup interval, keeping the newest BackupKeep.
func (a *App) BackupJob() jobs.Job {
	interval, dir, keep := a.Config.BackupInterval, a.Config.BackupDir, a.Config.BackupKeep
	return jobs.Job{Name: "backup", Period: func(t time.Time) string { return t.UTC().Truncate(interval).Format(time.RFC3339) },
		Do: func(ctx context.Context) (string, error) {
			name := filepath.Join(dir, "charter-"+a.Now().UTC().Format("20060102T150405Z")+".db")
			if err := a.Store.Backup(ctx, name); err != nil {
				return "", err
			}
			pruned, err := pruneBackups(dir, keep)
			return fmt.Sprintf("wrote %s, pruned %d", filepath.Base(name), pruned), err
		}}
}

func pruneBackups(dir string, keep int) (int, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "charter-*.db"))
	if err != nil {
		return 0, err
	}
	sort.Strings(matches) // the names sort by time
	pruned := 0
	for len(matches) > keep {
		if err := os.Remove(matches[0]); err != nil {
			return pruned, err
		}
		matches, pruned = matches[1:], pruned+1
	}
	return pruned, nil
}
