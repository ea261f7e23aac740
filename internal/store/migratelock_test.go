package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// startTogether opens and migrates n stores on url at the same moment, as
// n instances starting together do, and returns each one's version.
func startTogether(t *testing.T, url string, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	versions := make([]int64, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			st, err := store.Open(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			versions[i], errs[i] = st.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	return versions
}

func latestVersion(t *testing.T) int64 {
	t.Helper()
	st := storetest.SQLite(t)
	v, err := st.Migrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Issue 20, item 1: three instances started at once on an empty
// PostgreSQL database all come up, ten times in ten.
func TestThreeInstancesMigrateTogetherOnPostgres(t *testing.T) {
	want := latestVersion(t)
	for round := range 10 {
		for i, v := range startTogether(t, storetest.PostgresURL(t), 3) {
			if v != want {
				t.Fatalf("round %d, instance %d: schema version %d, want %d", round, i, v, want)
			}
		}
	}
}

// Processes sharing one SQLite file may start together too (serve and a
// CLI command); they migrate one after the other.
func TestThreeInstancesMigrateTogetherOnSQLite(t *testing.T) {
	want := latestVersion(t)
	for round := range 3 {
		for i, v := range startTogether(t, storetest.SQLiteURL(t), 3) {
			if v != want {
				t.Fatalf("round %d, instance %d: schema version %d, want %d", round, i, v, want)
			}
		}
	}
}

// Instances starting together on PostgreSQL do their first-start work
// (seed, first admin, key fingerprints) one at a time.
func TestExclusivelyRunsOneInstanceAtATime(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	var mu sync.Mutex
	inside, most := 0, 0
	var wg sync.WaitGroup
	for range 3 {
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		wg.Go(func() {
			err := st.Exclusively(ctx, func() error {
				mu.Lock()
				inside++
				most = max(most, inside)
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
				mu.Lock()
				inside--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d instances ran their first-start work at once", most)
	}
}
