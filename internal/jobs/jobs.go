// Package jobs runs Charter's scheduled work (reminders, sub-processor
// changes, backups, retention and the rest) in-process, safely when several instances
// share one PostgreSQL database: a run is claimed by inserting a row keyed
// by (job, period) under a primary key, so no job runs twice for the same
// period. A claim is a lease the running instance keeps renewing: when the
// instance dies mid-run, another takes the run over after the lease and
// runs it again for its period; a finished run is never repeated. Every
// job also has a CLI command that does the same work once.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Run is one claimed run of a job.
type Run struct {
	Job        string `gorm:"primaryKey"`
	Period     string `gorm:"primaryKey"`
	StartedAt  time.Time
	FinishedAt *time.Time
	Outcome    string
	// LeaseUntil is when an unfinished run may be taken over: its
	// instance is presumed dead. A running instance keeps moving it on.
	LeaseUntil *time.Time
	// ClaimToken names the claim (the instance's run) that owns the row.
	ClaimToken string
}

// TableName is the table of runs.
func (Run) TableName() string { return "job_runs" }

// Lease bounds.
const (
	// DefaultLease is how long a claim holds without being renewed.
	DefaultLease = 30 * time.Second
	// MinLease and MaxLease bound the setting: a lease shorter than a
	// few seconds could lapse between two renewals of a live runner; a
	// longer one leaves a dead runner's work waiting.
	MinLease = 5 * time.Second
	MaxLease = 5 * time.Minute
)

// Claim records that this instance runs job for period, and reports false
// when another run (here or on another instance) holds it or finished it.
// An unfinished run whose lease has passed is taken over.
func Claim(ctx context.Context, db *gorm.DB, job, period string, now time.Time) (bool, error) {
	token, err := claim(ctx, db, job, period, now, DefaultLease)
	return token != "", err
}

// claim returns the new claim's token, or "" when the run is not free.
func claim(ctx context.Context, db *gorm.DB, job, period string, now time.Time, lease time.Duration) (string, error) {
	token, err := newClaimToken()
	if err != nil {
		return "", err
	}
	now = now.UTC()
	until := now.Add(lease)
	err = db.WithContext(ctx).Create(&Run{Job: job, Period: period, StartedAt: now, LeaseUntil: &until, ClaimToken: token}).Error
	if err == nil {
		return token, nil
	}
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return "", err
	}
	// Taken: by a live run, a finished one, or a dead instance's run
	// whose lease has passed, which this claim takes over. The update is
	// one statement, so two instances cannot both take it over.
	res := db.WithContext(ctx).Model(&Run{}).
		Where("job = ? AND period = ? AND finished_at IS NULL AND (lease_until IS NULL OR lease_until < ?)", job, period, now).
		Updates(map[string]any{"started_at": now, "lease_until": until, "claim_token": token})
	if res.Error != nil || res.RowsAffected == 0 {
		return "", res.Error
	}
	return token, nil
}

// renew moves a held claim's lease on; it reports false when the claim
// was lost (taken over after this instance stalled past its lease).
func renew(ctx context.Context, db *gorm.DB, job, period, token string, now time.Time, lease time.Duration) (bool, error) {
	res := db.WithContext(ctx).Model(&Run{}).
		Where("job = ? AND period = ? AND claim_token = ? AND finished_at IS NULL", job, period, token).
		Update("lease_until", now.UTC().Add(lease))
	return res.RowsAffected == 1, res.Error
}

func newClaimToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Finish records how a claimed run ended.
func Finish(ctx context.Context, db *gorm.DB, job, period string, now time.Time, outcome string) error {
	return finish(db.WithContext(ctx).Where("job = ? AND period = ?", job, period), now, outcome)
}

func finish(scope *gorm.DB, now time.Time, outcome string) error {
	return scope.Model(&Run{}).Updates(map[string]any{"finished_at": now.UTC(), "outcome": outcome}).Error
}

// Job is scheduled work.
type Job struct {
	Name string
	// Period names the period a time falls in; the job runs once per period.
	Period func(time.Time) string
	// Do does the work and describes the outcome.
	Do func(ctx context.Context) (string, error)
}

// Daily is the period of a daily job: the UTC date.
func Daily(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Scheduler runs jobs whose current period has not run yet.
type Scheduler struct {
	db    *gorm.DB
	now   func() time.Time
	log   *slog.Logger
	jobs  []Job
	lease time.Duration
}

// NewScheduler returns a scheduler for jobs, claiming runs for
// DefaultLease unless WithLease says otherwise.
func NewScheduler(db *gorm.DB, now func() time.Time, log *slog.Logger, jobs ...Job) *Scheduler {
	return &Scheduler{db: db, now: now, log: log, jobs: jobs, lease: DefaultLease}
}

// WithLease sets how long a claim holds without renewal: after it, a run
// whose instance died is run again by another instance.
func (s *Scheduler) WithLease(lease time.Duration) *Scheduler {
	s.lease = lease
	return s
}

// Tick runs every job whose current period is unclaimed, or claimed by an
// instance whose lease has passed.
func (s *Scheduler) Tick(ctx context.Context) {
	for _, j := range s.jobs {
		now := s.now()
		period := j.Period(now)
		token, err := claim(ctx, s.db, j.Name, period, now, s.lease)
		if err != nil {
			s.log.Error("claiming a job run", "job", j.Name, "period", period, "error", err)
			continue
		}
		if token == "" {
			continue
		}
		outcome, err := s.runHoldingLease(ctx, j, period, token)
		if err != nil {
			outcome = fmt.Sprintf("failed: %v", err)
			s.log.Error("job failed", "job", j.Name, "period", period, "error", err)
		} else {
			s.log.Info("job done", "job", j.Name, "period", period, "outcome", outcome)
		}
		mine := s.db.WithContext(ctx).Where("job = ? AND period = ? AND claim_token = ?", j.Name, period, token)
		if err := finish(mine, s.now(), outcome); err != nil {
			s.log.Error("recording a job run", "job", j.Name, "error", err)
		}
	}
}

// runHoldingLease runs j while renewing its claim every third of the
// lease, so a long run (a backup) is not taken over while alive.
func (s *Scheduler) runHoldingLease(ctx context.Context, j Job, period, token string) (string, error) {
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				held, err := renew(ctx, s.db, j.Name, period, token, s.now(), s.lease)
				switch {
				case err != nil:
					s.log.Error("renewing a job's lease", "job", j.Name, "period", period, "error", err)
				case !held:
					s.log.Warn("a job's lease passed while it ran: another instance took it over", "job", j.Name, "period", period)
					return
				}
			}
		}
	}()
	defer func() { close(done); <-renewed }()
	return j.Do(ctx)
}

// Run ticks every interval until ctx ends.
func (s *Scheduler) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// LastRuns returns the latest run of each job.
func LastRuns(ctx context.Context, db *gorm.DB) ([]Run, error) {
	var runs []Run
	latest := db.Model(&Run{}).Select("job, MAX(started_at) AS started_at").Group("job")
	err := db.WithContext(ctx).Model(&Run{}).
		Joins("JOIN (?) AS latest ON latest.job = job_runs.job AND latest.started_at = job_runs.started_at", latest).
		Order("job_runs.job, job_runs.period DESC").Find(&runs).Error
	// Two periods claimed in the same instant: keep one run per job.
	out := runs[:0]
	for _, r := range runs {
		if len(out) == 0 || out[len(out)-1].Job != r.Job {
			out = append(out, r)
		}
	}
	return out, err
}

// Failed reports whether the run ended in an error.
func (r Run) Failed() bool { return strings.HasPrefix(r.Outcome, "failed: ") }
