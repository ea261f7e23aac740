package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestAJobRunsOncePerPeriodAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clock := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		var runs atomic.Int64
		job := jobs.Job{Name: "test.daily", Period: jobs.Daily, Do: func(context.Context) (string, error) {
			runs.Add(1)
			return "ok", nil
		}}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		// Four "instances" tick at once, several times.
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := jobs.NewScheduler(st.DB, now, log, job)
				for j := 0; j < 3; j++ {
					s.Tick(context.Background())
				}
			}()
		}
		wg.Wait()
		if runs.Load() != 1 {
			t.Fatalf("ran %d times on one day, want 1", runs.Load())
		}
		mu.Lock()
		clock = clock.Add(24 * time.Hour)
		mu.Unlock()
		jobs.NewScheduler(st.DB, now, log, job).Tick(context.Background())
		if runs.Load() != 2 {
			t.Fatalf("ran %d times over two days, want 2", runs.Load())
		}
		var r jobs.Run
		st.DB.Where("job = ? AND period = ?", "test.daily", "2026-03-01").Take(&r)
		if r.Outcome != "ok" || r.FinishedAt == nil {
			t.Fatalf("run record: %+v", r)
		}
	})
}

func TestLastRunsIsTheLatestOfEachJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		day := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
		for _, r := range []struct {
			job, period, outcome string
			at                   time.Time
		}{
			{"backup", "2026-03-01", "failed: disk full", day},
			{"backup", "2026-03-02", "written", day.Add(24 * time.Hour)},
			{"reminders", "2026-03-01", "failed: smtp", day},
		} {
			if _, err := jobs.Claim(ctx, st.DB, r.job, r.period, r.at); err != nil {
				t.Fatal(err)
			}
			if err := jobs.Finish(ctx, st.DB, r.job, r.period, r.at, r.outcome); err != nil {
				t.Fatal(err)
			}
		}
		runs, err := jobs.LastRuns(ctx, st.DB)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[0].Job != "backup" || runs[0].Period != "2026-03-02" || runs[0].Failed() ||
			runs[1].Job != "reminders" || !runs[1].Failed() {
			t.Fatalf("last runs: %+v", runs)
		}
	})
}
