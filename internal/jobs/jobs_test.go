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

// Issue 20, item 4: a run claimed by an instance that died mid-run (a
// claim never finished) runs again for the same period once the lease has
// passed, and not before; a finished run is never repeated.
func TestADeadInstancesRunIsTakenOverAfterTheLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := start
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		set := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
		var runs atomic.Int64
		job := jobs.Job{Name: "test.daily", Period: jobs.Daily, Do: func(context.Context) (string, error) {
			runs.Add(1)
			return "ok", nil
		}}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		// The dead instance: claimed the day's run, never finished it.
		if ok, err := jobs.Claim(ctx, st.DB, job.Name, jobs.Daily(start), start); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		survivor := jobs.NewScheduler(st.DB, now, log, job).WithLease(20 * time.Second)
		set(start.Add(jobs.DefaultLease - time.Second))
		survivor.Tick(ctx)
		if runs.Load() != 0 {
			t.Fatal("a run within its lease was taken over")
		}
		set(start.Add(jobs.DefaultLease + time.Second))
		survivor.Tick(ctx)
		if runs.Load() != 1 {
			t.Fatalf("after the lease: ran %d times, want 1", runs.Load())
		}
		var r jobs.Run
		if err := st.DB.Where("job = ? AND period = ?", job.Name, jobs.Daily(start)).Take(&r).Error; err != nil {
			t.Fatal(err)
		}
		if r.FinishedAt == nil || r.Outcome != "ok" {
			t.Fatalf("taken-over run not recorded as finished: %+v", r)
		}
		// Finished: never again for that period, however late.
		set(start.Add(time.Hour))
		survivor.Tick(ctx)
		jobs.NewScheduler(st.DB, now, log, job).Tick(ctx)
		if runs.Load() != 1 {
			t.Fatalf("a finished run ran again: %d runs", runs.Load())
		}
	})
}

// A live run keeps its claim past the lease by renewing it, so no other
// instance runs it at the same time.
func TestALiveRunRenewsItsLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := start
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		lease := jobs.MinLease
		var runs atomic.Int64
		var other *jobs.Scheduler
		job := jobs.Job{Name: "test.long", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
			runs.Add(1)
			// The clock passes the lease, then the runner renews (its
			// ticker fires every third of the lease) before the other
			// instance looks.
			mu.Lock()
			clock = start.Add(2 * lease)
			mu.Unlock()
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				var r jobs.Run
				if err := st.DB.Where("job = ?", "test.long").Take(&r).Error; err == nil && r.LeaseUntil != nil && r.LeaseUntil.After(start.Add(2*lease)) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			other.Tick(ctx)
			return "ok", nil
		}}
		other = jobs.NewScheduler(st.DB, now, log, job).WithLease(lease)
		jobs.NewScheduler(st.DB, now, log, job).WithLease(lease).Tick(ctx)
		if runs.Load() != 1 {
			t.Fatalf("a live run was taken over: %d runs", runs.Load())
		}
	})
}
