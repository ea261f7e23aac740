// Package jobs runs Charter's scheduled work (reminders, sub-processor
// changes, backups, retention and the rest) in-process, safely when several instances
// share one PostgreSQL database: a run is claimed by inserting a row keyed
// by (job, period) under a primary key, so no job runs twice for the same
// period. Every job also has a CLI command that does the same work once.
package jobs

import (
	"context"
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
}

// TableName is the table of runs.
func (Run) TableName() string { return "job_runs" }

// Claim records that this instance runs job for period, and reports false
// when another run (here or on another instance) claimed it first.
func Claim(ctx context.Context, db *gorm.DB, job, period string, now time.Time) (bool, error) {
	err := db.WithContext(ctx).Create(&Run{Job: job, Period: period, StartedAt: now.UTC()}).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return false, nil
	}
	return err == nil, err
}

// Finish records how a claimed run ended.
func Finish(ctx context.Context, db *gorm.DB, job, period string, now time.Time, outcome string) error {
	t := now.UTC()
	return db.WithContext(ctx).Model(&Run{}).Where("job = ? AND period = ?", job, period).
		Updates(map[string]any{"finished_at": t, "outcome": outcome}).Error
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
	db   *gorm.DB
	now  func() time.Time
	log  *slog.Logger
	jobs []Job
}

// NewScheduler returns a scheduler for jobs.
func NewScheduler(db *gorm.DB, now func() time.Time, log *slog.Logger, jobs ...Job) *Scheduler {
	return &Scheduler{db: db, now: now, log: log, jobs: jobs}
}

// Tick runs every job whose current period is unclaimed.
func (s *Scheduler) Tick(ctx context.Context) {
	for _, j := range s.jobs {
		now := s.now()
		period := j.Period(now)
		ok, err := Claim(ctx, s.db, j.Name, period, now)
		if err != nil {
			s.log.Error("claiming a job run", "job", j.Name, "period", period, "error", err)
			continue
		}
		if !ok {
			continue
		}
		outcome, err := j.Do(ctx)
		if err != nil {
			outcome = fmt.Sprintf("failed: %v", err)
			s.log.Error("job failed", "job", j.Name, "period", period, "error", err)
		} else {
			s.log.Info("job done", "job", j.Name, "period", period, "outcome", outcome)
		}
		if err := Finish(ctx, s.db, j.Name, period, s.now(), outcome); err != nil {
			s.log.Error("recording a job run", "job", j.Name, "error", err)
		}
	}
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
