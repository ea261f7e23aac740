package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// item is a row of the tests' table.
type item struct {
	ID   int64
	Name string
}

// groupStore opens a SQLite store with a table of uniquely named items
// (one, "taken", already there) and a connection of its own to read what
// is committed.
func groupStore(t *testing.T) (*Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "group.db")
	st, err := Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.DB.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)").Error; err != nil {
		t.Fatal(err)
	}
	if err := st.DB.Create(&item{Name: "taken"}).Error; err != nil {
		t.Fatal(err)
	}
	committed, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = committed.Close() })
	return st, committed
}

func insert(tx *gorm.DB, name string) error { return tx.Create(&item{Name: name}).Error }

// committedNames reads the items another connection sees: committed ones.
func committedNames(t *testing.T, committed *sql.DB) map[string]bool {
	t.Helper()
	rows, err := committed.Query("SELECT name FROM items")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names[n] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func isCommitted(committed *sql.DB, name string) (bool, error) {
	var n int
	err := committed.QueryRow("SELECT COUNT(*) FROM items WHERE name = ?", name).Scan(&n)
	return n == 1, err
}

// holdTurn opens a transaction that inserts name and keeps the turn until
// release is called; its outcome arrives on result.
func holdTurn(t *testing.T, st *Store, name string) (release func(), result <-chan error) {
	t.Helper()
	holding, released, res := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		res <- st.DB.Transaction(func(tx *gorm.DB) error {
			if err := insert(tx, name); err != nil {
				return err
			}
			close(holding)
			<-released
			return nil
		})
	}()
	select {
	case <-holding:
	case err := <-res:
		t.Fatalf("the holding transaction failed: %v", err)
	}
	return func() { close(released) }, res
}

// awaitWaiters returns once n transactions wait for the turn. Those then
// join the holder's batch, one after the other, before it commits.
func awaitWaiters(w *groupWriter, n int) {
	for w.waiting.Load() < int64(n) {
		runtime.Gosched()
	}
}

// countCommits counts the writer's COMMITs; fail makes the next one fail.
func countCommits(w *groupWriter) (commits *atomic.Int64, failNext *atomic.Bool) {
	commits, failNext = &atomic.Int64{}, &atomic.Bool{}
	w.conn.RegisterCommitHook(func() int {
		commits.Add(1)
		if failNext.CompareAndSwap(true, false) {
			return 1 // SQLite turns the COMMIT into a rollback and fails it
		}
		return 0
	})
	return commits, failNext
}

// member is one transaction of a batch built by runBatch.
type member struct {
	name string
	fn   func(tx *gorm.DB) error
}

// runBatch runs the members as one batch behind a holder transaction
// (which inserts holder) and returns each one's result, the holder's last.
// A member answered with success must be committed when it is answered.
func runBatch(t *testing.T, st *Store, committed *sql.DB, holder string, members []member, beforeRelease func()) []error {
	t.Helper()
	release, held := holdTurn(t, st, holder)
	results := make([]chan error, len(members))
	for i, m := range members {
		results[i] = make(chan error, 1)
		go func() {
			err := st.DB.Transaction(m.fn)
			if err == nil {
				if ok, cerr := isCommitted(committed, m.name); cerr != nil || !ok {
					t.Errorf("%s was answered with success before its row was committed (%v)", m.name, cerr)
				}
			}
			results[i] <- err
		}()
	}
	awaitWaiters(st.writer, len(members))
	if beforeRelease != nil {
		beforeRelease()
	}
	release()
	errs := make([]error, 0, len(members)+1)
	for _, r := range results {
		errs = append(errs, <-r)
	}
	return append(errs, <-held)
}

// Issue 22: one failing request in a batch does not fail or roll back the
// others; it gets its own error and none of its rows remain.
func TestOneFailingMemberLeavesTheRestOfItsBatch(t *testing.T) {
	st, committed := groupStore(t)
	commits, _ := countCommits(st.writer)
	errRefused := errors.New("refused")
	cases := []struct {
		member
		wantErr error
		gone    []string // rows the member wrote that must not remain
	}{
		{member{"succeeds", func(tx *gorm.DB) error { return insert(tx, "succeeds") }}, nil, nil},
		{member{"duplicate", func(tx *gorm.DB) error {
			if err := insert(tx, "duplicate"); err != nil {
				return err
			}
			return insert(tx, "taken")
		}}, gorm.ErrDuplicatedKey, []string{"duplicate"}},
		{member{"refuses", func(tx *gorm.DB) error {
			if err := insert(tx, "refuses"); err != nil {
				return err
			}
			return errRefused
		}}, errRefused, []string{"refuses"}},
		{member{"nested", func(tx *gorm.DB) error {
			if err := insert(tx, "nested"); err != nil {
				return err
			}
			// gorm's nested transaction: a savepoint inside the member's.
			if err := tx.Transaction(func(tx *gorm.DB) error {
				if err := insert(tx, "nested-inner"); err != nil {
					return err
				}
				return errRefused
			}); !errors.Is(err, errRefused) {
				return fmt.Errorf("inner transaction: %v", err)
			}
			return nil
		}}, nil, []string{"nested-inner"}},
		{member{"succeeds-too", func(tx *gorm.DB) error { return insert(tx, "succeeds-too") }}, nil, nil},
	}
	members := make([]member, len(cases))
	for i, c := range cases {
		members[i] = c.member
	}
	before := commits.Load()
	errs := runBatch(t, st, committed, "holder", members, nil)
	if n := commits.Load() - before; n != 1 {
		t.Fatalf("%d commits, want the batch's one", n)
	}
	names := committedNames(t, committed)
	for i, c := range cases {
		err := errs[i]
		switch {
		case c.wantErr == nil && err != nil:
			t.Errorf("%s: %v, want success", c.name, err)
		case c.wantErr != nil && !errors.Is(err, c.wantErr):
			t.Errorf("%s: %v, want %v", c.name, err, c.wantErr)
		}
		if want := c.wantErr == nil; names[c.name] != want {
			t.Errorf("%s: committed %v, want %v", c.name, names[c.name], want)
		}
		for _, g := range c.gone {
			if names[g] {
				t.Errorf("%s: its row %s remains", c.name, g)
			}
		}
	}
	if err := errs[len(cases)]; err != nil || !names["holder"] || !names["taken"] {
		t.Errorf("holder: %v, committed %v; taken %v", err, names["holder"], names["taken"])
	}
}

// A COMMIT that fails answers every member of its batch with the error,
// and the next transaction starts a batch of its own.
func TestAFailedCommitFailsEveryMember(t *testing.T) {
	st, committed := groupStore(t)
	_, failNext := countCommits(st.writer)
	members := []member{
		{"first", func(tx *gorm.DB) error { return insert(tx, "first") }},
		{"second", func(tx *gorm.DB) error { return insert(tx, "second") }},
		{"third", func(tx *gorm.DB) error { return insert(tx, "third") }},
	}
	// runBatch's check that successes are committed covers the other half.
	errs := runBatch(t, st, committed, "holder", members, func() { failNext.Store(true) })
	names := committedNames(t, committed)
	for i, name := range []string{"first", "second", "third", "holder"} {
		if errs[i] == nil {
			t.Errorf("%s: answered with success; its batch's commit failed", name)
		}
		if names[name] {
			t.Errorf("%s: committed by a failed commit", name)
		}
	}
	if err := insert(st.DB, "after"); err != nil {
		t.Fatalf("the next write: %v", err)
	}
	if !committedNames(t, committed)["after"] {
		t.Fatal("the next write was not committed")
	}
}

// When SQLite itself ends the batch's transaction (here an INSERT OR
// ROLLBACK conflict; in production IOERR, FULL, NOMEM…), the members
// released into it before are answered with an error, never a success,
// and the failing member's later statements do not run on their own.
func TestATransactionSQLiteRollsBackFailsItsBatch(t *testing.T) {
	st, committed := groupStore(t)
	var afterLoss error
	members := []member{
		{"before", func(tx *gorm.DB) error { return insert(tx, "before") }},
		{"loses", func(tx *gorm.DB) error {
			if err := insert(tx, "loses"); err != nil {
				return err
			}
			if err := tx.Exec("INSERT OR ROLLBACK INTO items (name) VALUES ('taken')").Error; err == nil {
				return errors.New("INSERT OR ROLLBACK of a taken name succeeded")
			}
			// Ignoring the error: what follows must not commit by itself.
			afterLoss = insert(tx, "after-loss")
			return nil
		}},
		{"other", func(tx *gorm.DB) error { return insert(tx, "other") }},
	}
	errs := runBatch(t, st, committed, "holder", members, nil)
	names := committedNames(t, committed)
	// The holder was released into the batch before any member ran.
	if errs[3] == nil || names["holder"] {
		t.Errorf("holder: %v, committed %v; want an error and no row", errs[3], names["holder"])
	}
	if errs[1] == nil || afterLoss == nil || names["loses"] || names["after-loss"] {
		t.Errorf("loses: %v, after the loss %v; committed %v, %v", errs[1], afterLoss, names["loses"], names["after-loss"])
	}
	// The others ran before the loss (failed with the batch) or after it
	// (a batch of their own): either way the answer tells the truth.
	for _, i := range []int{0, 2} {
		if name := members[i].name; (errs[i] == nil) != names[name] {
			t.Errorf("%s: answered %v, committed %v", name, errs[i], names[name])
		}
	}
	if err := insert(st.DB, "next"); err != nil {
		t.Fatalf("the next write: %v", err)
	}
}

// Many writers, some giving up while they wait or while they run, some
// failing: every answer is the truth (success if and only if committed),
// nobody hangs, and the turn ends free with no batch open. Run with -race.
func TestGroupCommitUnderConcurrencyAndCancellation(t *testing.T) {
	st, committed := groupStore(t)
	const writers, each = 24, 30
	errFail := errors.New("fails")
	var mu sync.Mutex
	answers := map[string]error{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 22))
			for i := range each {
				name := fmt.Sprintf("w%d-%d", w, i)
				ctx, cancel := context.WithCancel(context.Background())
				switch rng.IntN(6) {
				case 0:
					cancel() // gone before it begins
				case 1, 2:
					// gone at some moment: waiting, running or committing
					time.AfterFunc(time.Duration(rng.IntN(3000))*time.Microsecond, cancel)
				}
				outcome := rng.IntN(8)
				err := st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
					var n int64
					if err := tx.Model(&item{}).Where("name LIKE ?", fmt.Sprintf("w%d-%%", w)).Count(&n).Error; err != nil {
						return err
					}
					if err := insert(tx, name); err != nil {
						return err
					}
					switch outcome {
					case 0:
						return errFail
					case 1:
						return insert(tx, "taken")
					}
					return nil
				})
				cancel()
				if err == nil {
					if ok, cerr := isCommitted(committed, name); cerr != nil || !ok {
						t.Errorf("%s was answered with success before its row was committed (%v)", name, cerr)
					}
				}
				mu.Lock()
				answers[name] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	names := committedNames(t, committed)
	succeeded := 0
	for name, err := range answers {
		if (err == nil) != names[name] {
			t.Errorf("%s: answered %v, committed %v", name, err, names[name])
		}
		if err == nil {
			succeeded++
		}
	}
	if succeeded == 0 {
		t.Fatal("no write succeeded")
	}
	w := st.writer
	select {
	case w.turn <- struct{}{}:
		if w.tx != nil {
			t.Error("a batch was left open")
		}
		<-w.turn
	default:
		t.Error("the turn was left taken")
	}
	t.Logf("%d of %d writes succeeded", succeeded, len(answers))
}

// The statement cache serves every path: gorm in a transaction (on the
// writer), database/sql's Prepare in a transaction, and reads on pooled
// connections; a statement whose Rows are still open is not reused.
func TestStatementsAreCompiledOnce(t *testing.T) {
	st, _ := groupStore(t)
	ctx := context.Background()
	var inserts atomic.Int64
	st.writer.conn.RegisterAuthorizer(func(op int, table, _, _ string) int {
		if op == sqlite3.SQLITE_INSERT && table == "items" {
			inserts.Add(1) // the authorizer runs when a statement is compiled
		}
		return sqlite3.SQLITE_OK
	})
	for i := range 10 {
		if err := st.DB.Transaction(func(tx *gorm.DB) error { return insert(tx, fmt.Sprint("gorm-", i)) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := inserts.Load(); n != 1 {
		t.Errorf("gorm's INSERT compiled %d times in 10 transactions, want once", n)
	}

	inserts.Store(0)
	for i := range 3 {
		tx, err := st.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO items (name) VALUES (?)")
		if err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			if _, err := stmt.ExecContext(ctx, fmt.Sprint("prepared-", i, "-", j)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if n := inserts.Load(); n != 1 {
		t.Errorf("a prepared INSERT compiled %d times in 3 transactions, want once", n)
	}

	// Two Rows of one query open at once in a transaction.
	tx, err := st.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const q = "SELECT name FROM items WHERE name LIKE ? ORDER BY name"
	outer, err := tx.QueryContext(ctx, q, "gorm-%")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for outer.Next() {
		var name, again string
		if err := outer.Scan(&name); err != nil {
			t.Fatal(err)
		}
		// The same text while outer's statement is stepping.
		if err := tx.QueryRowContext(ctx, q, name).Scan(&again); err != nil || again != name {
			t.Fatalf("inner query: %q, %v; want %q", again, err, name)
		}
		seen++
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	_ = outer.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if seen != 10 {
		t.Errorf("read %d rows, want 10", seen)
	}

	// A read on a pooled connection, with a request's cancellable context.
	conn, err := st.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var selects atomic.Int64
	if err := conn.Raw(func(dc any) error {
		dc.(*groupConn).RegisterAuthorizer(func(op int, _, _, _ string) int {
			if op == sqlite3.SQLITE_SELECT {
				selects.Add(1)
			}
			return sqlite3.SQLITE_OK
		})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := range 5 {
		var name string
		if err := conn.QueryRowContext(reqCtx, "SELECT name FROM items WHERE name = ?", fmt.Sprint("gorm-", i)).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	if n := selects.Load(); n != 1 {
		t.Errorf("a pooled read compiled %d times in 5 runs, want once", n)
	}
}

// The two orders in which the waiter a batch was left open for can give
// up, played step by step: either way the batch commits and the turn ends
// free. (A waiter is counted, then gives up: waiting.Add(1), gaveUp.)
func TestABatchLeftForAWaiterThatGivesUpStillCommits(t *testing.T) {
	cases := []struct {
		name string
		play func(w *groupWriter)
	}{
		{"the waiter gives up before the turn is given back", func(w *groupWriter) {
			w.finishUnlessAwaited() // a waiter is counted: the batch stays open for it
			w.gaveUp()              // the turn is still held: it cannot finish the batch
			w.passTurn()            // so passing the turn must look again
		}},
		{"the waiter gives up after the turn is given back", func(w *groupWriter) {
			w.endTurn() // leaves the batch open for the counted waiter
			w.gaveUp()  // finds the turn free: finishes the batch
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, committed := groupStore(t)
			w := st.writer
			if err := w.take(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := w.begin(); err != nil {
				t.Fatal(err)
			}
			if _, err := w.conn.ExecContext(context.Background(), "INSERT INTO items (name) VALUES ('member')", nil); err != nil {
				t.Fatal(err)
			}
			b, err := w.release()
			if err != nil {
				t.Fatal(err)
			}
			w.waiting.Add(1)
			c.play(w)
			select {
			case <-b.done:
			default:
				t.Fatal("the batch was left open with nobody to finish it")
			}
			if b.err != nil || !committedNames(t, committed)["member"] {
				t.Fatalf("batch: %v, member committed %v", b.err, committedNames(t, committed)["member"])
			}
			select {
			case w.turn <- struct{}{}:
				<-w.turn
			default:
				t.Fatal("the turn was left taken")
			}
		})
	}
}
