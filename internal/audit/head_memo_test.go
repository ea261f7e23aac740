package audit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"gorm.io/gorm"
)

// The SQLite writer keeps the chain's head in memory between transactions
// (store.Memo). Whatever undoes an append — a transaction rolled back, a
// nested one rolled back after it appended, another process appending in
// between — the chain must stay whole and hold exactly the committed
// events.
func TestChainStaysWholeWithTheHeadKeptInMemory(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteURL}, {"postgres", storetest.PostgresURL}} {
		t.Run(db.name, func(t *testing.T) {
			u := db.url(t)
			// A second store on the same database: another process (a CLI
			// command, another instance).
			st, other := openMigrated(t, u), openMigrated(t, u)
			chainUnderUndoes(t, st, other)
		})
	}
}

func openMigrated(t *testing.T, u string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func chainUnderUndoes(t *testing.T, st, other *store.Store) {
	{

		errUndo := errors.New("undo")
		appendOne := func(tx *gorm.DB, label string) error {
			return audit.Append(tx, audit.System(label), audit.Entry{At: t0, Action: "policy.version.edited", ObjectType: "policy_version", ObjectID: label})
		}
		var committed atomic.Int64
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 22))
				for i := range 40 {
					db, label := st.DB, fmt.Sprintf("w%d-%d", w, i)
					if rng.IntN(5) == 0 {
						db = other.DB
					}
					kind := rng.IntN(4)
					err := db.Transaction(func(tx *gorm.DB) error {
						if err := appendOne(tx, label); err != nil {
							return err
						}
						switch kind {
						case 1: // the whole transaction rolls back
							return errUndo
						case 2: // a nested transaction appends and rolls back
							_ = tx.Transaction(func(tx *gorm.DB) error {
								if err := appendOne(tx, label+"-nested"); err != nil {
									return err
								}
								return errUndo
							})
							return appendOne(tx, label+"-after")
						}
						return nil
					})
					switch {
					case kind == 1 && errors.Is(err, errUndo):
					case err != nil:
						t.Error(err)
						return
					case kind == 2:
						committed.Add(2)
					default:
						committed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		res, err := audit.Verify(context.Background(), st.DB)
		if err != nil {
			t.Fatal(err)
		}
		if res.Break != nil || res.Events != committed.Load() {
			t.Fatalf("verify = %+v (break %+v), want %d whole events", res, res.Break, committed.Load())
		}
	}
}
