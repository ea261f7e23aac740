package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"gorm.io/gorm"
)

// memoValue reads key in a transaction of its own, as the next writer would.
func memoValue(t *testing.T, st *Store, key string) (any, bool) {
	t.Helper()
	var v any
	var ok bool
	if err := st.DB.Transaction(func(tx *gorm.DB) error {
		v, ok = TxMemo(tx).Get(key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v, ok
}

func TestMemoKeepsOnlyWhatCommitted(t *testing.T) {
	errUndo := errors.New("undo")
	cases := []struct {
		name string
		fn   func(tx *gorm.DB) error
		want any // nil: nothing kept
	}{
		{"committed", func(tx *gorm.DB) error { TxMemo(tx).Set("k", 1); return nil }, 1},
		{"rolled back", func(tx *gorm.DB) error { TxMemo(tx).Set("k", 1); return errUndo }, nil},
		{"forgotten after it was set", func(tx *gorm.DB) error {
			TxMemo(tx).Set("k", 1)
			TxMemo(tx).Forget("k")
			if _, ok := TxMemo(tx).Get("k"); ok {
				return errors.New("the memo answered after Forget")
			}
			return nil
		}, nil},
		{"nested transaction committed", func(tx *gorm.DB) error {
			return tx.Transaction(func(tx *gorm.DB) error { TxMemo(tx).Set("k", 2); return nil })
		}, 2},
		{"set before a nested transaction that rolled back", func(tx *gorm.DB) error {
			TxMemo(tx).Set("k", 3)
			_ = tx.Transaction(func(tx *gorm.DB) error { return insert(tx, "nested") })
			_ = tx.Transaction(func(tx *gorm.DB) error { return errUndo })
			if _, ok := TxMemo(tx).Get("k"); ok {
				return errors.New("the memo answered after a nested rollback")
			}
			TxMemo(tx).Set("k", 4) // ignored until the batch ends
			return nil
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, _ := groupStore(t)
			err := st.DB.Transaction(c.fn)
			if err != nil && !errors.Is(err, errUndo) {
				t.Fatal(err)
			}
			v, ok := memoValue(t, st, "k")
			if c.want == nil {
				if ok {
					t.Fatalf("kept %v", v)
				}
			} else if !ok || v != c.want {
				t.Fatalf("got %v (%v), want %v", v, ok, c.want)
			}
		})
	}
}

// A commit by another connection (another process, or a write outside a
// transaction) makes the next batch forget every value.
func TestMemoForgetsAfterAnotherConnectionCommits(t *testing.T) {
	st, _ := groupStore(t)
	if err := st.DB.Transaction(func(tx *gorm.DB) error { TxMemo(tx).Set("k", 1); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := memoValue(t, st, "k"); !ok {
		t.Fatal("the value was not kept")
	}
	other, err := sql.Open("sqlite3", "file:"+st.Path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec("INSERT INTO items (name) VALUES ('from another process')"); err != nil {
		t.Fatal(err)
	}
	if v, ok := memoValue(t, st, "k"); ok {
		t.Fatalf("kept %v after another connection committed", v)
	}
}

func TestNoMemoOutsideSQLiteTransactions(t *testing.T) {
	st, _ := groupStore(t)
	if m := TxMemo(st.DB.WithContext(context.Background())); m != nil {
		t.Fatal("a memo outside a transaction")
	}
	var nilMemo *Memo
	nilMemo.Set("k", 1)
	if _, ok := nilMemo.Get("k"); ok {
		t.Fatal("a nil memo remembered")
	}
}
