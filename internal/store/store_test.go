package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

func TestMigrationsApplyOnBothDatabases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		v, err := st.Migrate(ctx) // already applied once by storetest: must be a no-op
		if err != nil {
			t.Fatal(err)
		}
		if v < 1 {
			t.Fatalf("schema version %d, want at least 1", v)
		}
		for _, table := range []string{"users", "sessions", "api_tokens", "audit_events", "policies", "policy_versions", "policy_reviews", "organizations"} {
			if !st.DB.Migrator().HasTable(table) {
				t.Errorf("table %s missing after migration", table)
			}
		}
	})
}

func TestSQLitePragmasAreReadBack(t *testing.T) {
	st := storetest.SQLite(t)
	var mode string
	var sync, fk, busy int
	st.DB.Raw("PRAGMA journal_mode").Scan(&mode)
	st.DB.Raw("PRAGMA synchronous").Scan(&sync)
	st.DB.Raw("PRAGMA foreign_keys").Scan(&fk)
	st.DB.Raw("PRAGMA busy_timeout").Scan(&busy)
	if mode != "wal" || sync != 2 || fk != 1 || busy < 5000 {
		t.Fatalf("journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d", mode, sync, fk, busy)
	}
}

func TestOpenRefusesUnsafeSQLiteSettings(t *testing.T) {
	cases := []struct {
		query string
		names string
	}{
		{"_synchronous=NORMAL", "synchronous"},
		{"_journal_mode=DELETE", "journal_mode"},
		{"_foreign_keys=off", "foreign_keys"},
		{"_busy_timeout=100", "busy_timeout"},
		{"_txlock=deferred", "_txlock"},
	}
	for _, c := range cases {
		t.Run(c.names, func(t *testing.T) {
			u := storetest.SQLiteURL(t) + "?" + c.query
			st, err := store.Open(context.Background(), u)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%s) succeeded; want refusal naming %s", c.query, c.names)
			}
			if !strings.Contains(err.Error(), c.names) {
				t.Fatalf("error %q does not name %s", err, c.names)
			}
		})
	}
}

func TestFailedMigrationLeavesPreviousSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		good := "-- +goose Up\nCREATE TABLE probe_a (id INTEGER PRIMARY KEY);\n-- +goose Down\nDROP TABLE probe_a;\n"
		bad := "-- +goose Up\nCREATE TABLE probe_b (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n-- +goose Down\nDROP TABLE probe_b;\n"
		fsys := fstest.MapFS{
			"00001_a.sql": {Data: []byte(good)},
			"00002_b.sql": {Data: []byte(bad)},
		}
		// The embedded migrations are already applied to st; this needs an
		// empty database of the same engine.
		fresh := freshLike(t, st)
		if _, err := fresh.MigrateFS(ctx, fsys); err == nil {
			t.Fatal("migration with a failing statement succeeded")
		}
		if !fresh.DB.Migrator().HasTable("probe_a") {
			t.Fatal("the migration before the failing one was lost")
		}
		if fresh.DB.Migrator().HasTable("probe_b") {
			t.Fatal("the failing migration left a half-applied table behind")
		}
	})
}

// freshLike opens an empty database of the same engine as st.
func freshLike(t *testing.T, st *store.Store) *store.Store {
	t.Helper()
	u := storetest.SQLiteURL(t)
	if st.Dialect == store.Postgres {
		u = storetest.PostgresURL(t)
	}
	fresh, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh.Close() })
	return fresh
}

func TestSQLiteDSNKeepsRequiredSettings(t *testing.T) {
	path, dsn, err := store.SQLiteDSN("sqlite://data/x.db")
	if err != nil {
		t.Fatal(err)
	}
	if path != "data/x.db" {
		t.Errorf("path %q", path)
	}
	for _, want := range []string{"_journal_mode=WAL", "_synchronous=FULL", "_foreign_keys=on", "_busy_timeout=5000", "_txlock=immediate"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("dsn %q lacks %s", dsn, want)
		}
	}
	if _, _, err := store.SQLiteDSN("sqlite://"); err == nil {
		t.Error("empty path accepted")
	}
}

func TestSnapshotSeesOneStateAndDoesNotBlockWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.DB.Exec("CREATE TABLE snap (n INTEGER)").Error; err != nil {
			t.Fatal(err)
		}
		st.DB.Exec("INSERT INTO snap (n) VALUES (1)")
		err := st.Snapshot(ctx, func(tx *gorm.DB) error {
			var before int64
			if err := tx.Table("snap").Count(&before).Error; err != nil {
				return err
			}
			// A writer commits while the snapshot is open, without waiting.
			done := make(chan error, 1)
			go func() { done <- st.DB.Exec("INSERT INTO snap (n) VALUES (2)").Error }()
			// A blocked writer would wait out the busy timeout and fail.
			if err := <-done; err != nil {
				return fmt.Errorf("a writer was blocked by the snapshot: %w", err)
			}
			var after int64
			if err := tx.Table("snap").Count(&after).Error; err != nil {
				return err
			}
			if before != 1 || after != 1 {
				t.Fatalf("the snapshot saw %d then %d rows", before, after)
			}
			if err := tx.Exec("INSERT INTO snap (n) VALUES (3)").Error; err == nil {
				t.Fatal("the snapshot could write")
			}
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "read") && !strings.Contains(err.Error(), "rollback") {
			t.Fatal(err)
		}
		var n int64
		st.DB.Table("snap").Count(&n)
		if n != 2 {
			t.Fatalf("%d rows after the snapshot", n)
		}
	})
}

func TestInBatchesRunsUntilABatchIsShort(t *testing.T) {
	st := storetest.SQLite(t)
	left := 2*store.BatchSize + 3
	calls := 0
	total, err := store.InBatches(context.Background(), st.DB, func(tx *gorm.DB, limit int) (int, error) {
		calls++
		n := min(limit, left)
		left -= n
		return n, nil
	})
	if err != nil || total != 2*store.BatchSize+3 || calls != 3 {
		t.Fatalf("total %d in %d calls (%v), want %d in 3", total, calls, err, 2*store.BatchSize+3)
	}
	boom := fmt.Errorf("boom")
	total, err = store.InBatches(context.Background(), st.DB, func(tx *gorm.DB, limit int) (int, error) { return limit, boom })
	if err != boom || total != 0 {
		t.Fatalf("a failing batch: total %d, err %v", total, err)
	}
}
