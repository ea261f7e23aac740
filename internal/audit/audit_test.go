package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

func appendN(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		err := db.Transaction(func(tx *gorm.DB) error {
			return audit.Append(tx, audit.Actor{UserID: 7, Label: "ann@example.com", IP: "192.0.2.1", UserAgent: "test", RequestID: "r"},
				audit.Entry{At: t0.Add(time.Duration(i) * time.Minute), Action: "policy.version.edited", ObjectType: "policy_version",
					ObjectID: fmt.Sprintf("backup@1.%d", i), Before: map[string]int{"n": i - 1}, After: map[string]int{"n": i}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		appendN(t, st.DB, 25)
		res, err := audit.Verify(context.Background(), st.DB)
		if err != nil {
			t.Fatal(err)
		}
		if res.Break != nil || res.Events != 25 || len(res.Head) != 64 {
			t.Fatalf("verify = %+v, want 25 whole events", res)
		}
	})
}

func TestTriggersRejectUpdateAndDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		appendN(t, st.DB, 2)
		for _, stmt := range []string{
			"UPDATE audit_events SET action = 'x' WHERE seq = 1",
			"DELETE FROM audit_events WHERE seq = 2",
		} {
			err := st.DB.Exec(stmt).Error
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want append-only refusal", stmt, err)
			}
		}
	})
}

// dropTriggers does what an attacker with database access would do first.
func dropTriggers(t *testing.T, st *store.Store) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"}
	if st.Dialect == store.Postgres {
		stmts = []string{"DROP TRIGGER audit_events_no_update ON audit_events"}
	}
	for _, s := range stmts {
		if err := st.DB.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestTamperingIsDetectedAtTheExactSeq(t *testing.T) {
	cases := []struct {
		name    string
		tamper  string
		seq     int64
		because string
	}{
		{"altered action", "UPDATE audit_events SET action = 'policy.version.approved' WHERE seq = 7", 7, "altered"},
		{"altered after state", `UPDATE audit_events SET after_json = '{"n":99}' WHERE seq = 12`, 12, "altered"},
		{"altered time", "UPDATE audit_events SET occurred_at = occurred_at + interval '1 second' WHERE seq = 3", 3, "altered"},
		{"deleted row", "DELETE FROM audit_events WHERE seq = 9", 9, "missing"},
		{"rehashed row", "", 5, "previous-hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				appendN(t, st.DB, 15)
				dropTriggers(t, st)
				tamper := c.tamper
				if st.Dialect == store.SQLite && strings.Contains(tamper, "interval") {
					tamper = "UPDATE audit_events SET occurred_at = '2020-01-01 00:00:00+00:00' WHERE seq = 3"
				}
				if c.name == "rehashed row" {
					// A forger who recomputes the row's own hash still breaks
					// the link from the next row.
					var ev audit.Event
					st.DB.First(&ev, "seq = ?", 4)
					ev.Action = "forged"
					ev.Hash = ev.ComputeHash()
					tamper = fmt.Sprintf("UPDATE audit_events SET action = 'forged', hash = '%s' WHERE seq = 4", ev.Hash)
				}
				if err := st.DB.Exec(tamper).Error; err != nil {
					t.Fatal(err)
				}
				res, err := audit.Verify(context.Background(), st.DB)
				if err != nil {
					t.Fatal(err)
				}
				if res.Break == nil {
					t.Fatal("tampering not detected")
				}
				if res.Break.Seq != c.seq || !strings.Contains(res.Break.Reason, c.because) {
					t.Fatalf("break = %+v, want seq %d (%s)", res.Break, c.seq, c.because)
				}
			})
		})
	}
}

func TestListFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		appendN(t, st.DB, 30)
		err := st.DB.Transaction(func(tx *gorm.DB) error {
			return audit.Append(tx, audit.System("system:seed"), audit.Entry{At: t0.Add(48 * time.Hour), Action: "policy.seeded", ObjectType: "policy", ObjectID: "backup"})
		})
		if err != nil {
			t.Fatal(err)
		}
		page, err := audit.List(ctx, st.DB, audit.Filter{Actor: "ANN@", Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 20 || page.Events[0].Seq != 30 || page.NextBefore != 11 {
			t.Fatalf("first page: %d events, first %d, next %d", len(page.Events), page.Events[0].Seq, page.NextBefore)
		}
		page, _ = audit.List(ctx, st.DB, audit.Filter{Actor: "ann", BeforeSeq: page.NextBefore, Limit: 20})
		if len(page.Events) != 10 || page.NextBefore != 0 {
			t.Fatalf("second page: %d events, next %d", len(page.Events), page.NextBefore)
		}
		for _, c := range []struct {
			f    audit.Filter
			want int
		}{
			{audit.Filter{Action: "policy.seeded"}, 1},
			{audit.Filter{Action: "policy."}, 31},
			{audit.Filter{ObjectType: "policy_version", ObjectID: "backup@1.3"}, 1},
			{audit.Filter{From: t0.Add(24 * time.Hour)}, 1},
			{audit.Filter{To: t0.Add(5*time.Minute + time.Second)}, 5},
			{audit.Filter{Actor: "100%_"}, 0},
		} {
			p, err := audit.List(ctx, st.DB, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Events) != c.want {
				t.Errorf("filter %+v: %d events, want %d", c.f, len(p.Events), c.want)
			}
		}
	})
}

// TestWatchersSeeEachAppendOnce: a watcher runs in the append's
// transaction with its events, a second watcher of the same name replaces
// the first, and a watcher's error undoes the change it watched.
func TestWatchersSeeEachAppendOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var seen []string
		record := func(tag string) audit.Watcher {
			return func(tx *gorm.DB, events []audit.Event) error {
				for _, e := range events {
					seen = append(seen, tag+" "+e.ObjectID)
				}
				return nil
			}
		}
		audit.Watch(st.DB, "a", record("first a"))
		audit.Watch(st.DB, "a", record("a"))
		audit.Watch(st.DB, "b", record("b"))
		appendN(t, st.DB, 1)
		if want := []string{"a backup@1.1", "b backup@1.1"}; fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Fatalf("watchers saw %q, want %q", seen, want)
		}

		audit.Watch(st.DB, "b", func(*gorm.DB, []audit.Event) error { return fmt.Errorf("refused") })
		err := st.DB.Transaction(func(tx *gorm.DB) error {
			return audit.Append(tx, audit.System("test"), audit.Entry{At: t0, Action: "policy.version.edited", ObjectType: "policy_version", ObjectID: "backup@2.0"})
		})
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("append with a failing watcher: %v", err)
		}
		var n int64
		if err := st.DB.Model(&audit.Event{}).Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("%d events (%v), want the first one only", n, err)
		}
		if res, err := audit.Verify(context.Background(), st.DB); err != nil || res.Break != nil || res.Events != 1 {
			t.Fatalf("verify = %+v, %v", res, err)
		}
	})
}
