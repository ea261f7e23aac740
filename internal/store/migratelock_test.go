package store_test

import (
	"context"
	"sync"
	"testing"

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
