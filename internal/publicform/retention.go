package publicform

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/jobs"
	"gorm.io/gorm"
)

// Expirer deletes one area's unconfirmed submissions (requests whose
// address was never confirmed) made before a time, with an audit event for
// each in the same transaction, and returns how many it deleted.
type Expirer struct {
	What   string // for the job's outcome: "policy request(s)"
	Delete func(ctx context.Context, by audit.Actor, before time.Time) (int, error)
}

// RetentionJobName names the daily job of RetentionJob.
const RetentionJobName = "public-forms.expire"

// RetentionJob is the daily job that deletes the unconfirmed submissions
// older than retention, so that a form filled in with someone else's
// address leaves nothing behind, and prunes the counts older than the
// longest window.
func RetentionJob(db *gorm.DB, now func() time.Time, retention time.Duration, expirers ...Expirer) jobs.Job {
	return jobs.Job{Name: RetentionJobName, Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
		at := now().UTC()
		by := audit.System("job:public-forms")
		var done []string
		for _, e := range expirers {
			n, err := e.Delete(ctx, by, at.Add(-retention))
			if err != nil {
				return strings.Join(done, ", "), fmt.Errorf("deleting unconfirmed %s: %w", e.What, err)
			}
			done = append(done, fmt.Sprintf("%d unconfirmed %s deleted", n, e.What))
		}
		n, err := Prune(ctx, db, at.Add(-Day))
		if err != nil {
			return strings.Join(done, ", "), fmt.Errorf("pruning submission counts: %w", err)
		}
		done = append(done, fmt.Sprintf("%d old submission count(s) pruned", n))
		return strings.Join(done, ", "), nil
	}}
}
