package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// stmtCacheSize is how many compiled statements each SQLite connection
// keeps, by SQL text (go-sqlite3's _stmt_cache_size): compiling gorm's few
// statements again for every request was 13 % of the write path's CPU.
// The driver's cache is the one issue 22 asks for: ExecContext and
// QueryContext with arguments take a statement out of it (so one whose
// Rows are still open is never reused: the next use compiles another),
// put it back on Close, evict the least recently used, and never cache
// text holding several statements. Its Prepare bypasses the cache, so
// groupConn's keeps only the text and runs it through the cached path
// (groupStmt). PostgreSQL needs nothing:
// pgx caches prepared statements per connection by default
// (QueryExecModeCacheStatement, 512 a connection).
const stmtCacheSize = 256

// withStmtCache adds the statement cache to a DSN unless it sets its own.
func withStmtCache(dsn string) string {
	if strings.Contains(dsn, "_stmt_cache_size=") {
		return dsn
	}
	return dsn + "&_stmt_cache_size=" + strconv.Itoa(stmtCacheSize)
}

// groupConnector opens the pool's SQLite connections, which share one
// groupWriter for their transactions.
type groupConnector struct {
	dsn    string
	drv    *sqlite3.SQLiteDriver
	writer *groupWriter
}

func newGroupConnector(dsn string) (*groupConnector, error) {
	drv := &sqlite3.SQLiteDriver{}
	conn, err := drv.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &groupConnector{dsn: dsn, drv: drv, writer: newGroupWriter(conn.(*sqlite3.SQLiteConn))}, nil
}

func (c *groupConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &groupConn{SQLiteConn: conn.(*sqlite3.SQLiteConn), w: c.writer}, nil
}

func (c *groupConnector) Driver() driver.Driver { return c.drv }

// Close closes the writer connection; database/sql calls it from DB.Close.
func (c *groupConnector) Close() error { return c.writer.close() }

// groupConn is a pooled connection. Outside a transaction it is a plain
// SQLite connection (reads, and the rare write outside a transaction,
// which waits on SQLite's lock with busy_timeout). Its transactions are
// members of the writer's batches: while one is open every statement goes
// to the writer connection. database/sql serializes the calls on one
// connection and closes a transaction's Rows before it commits or rolls
// back, so only the member holding the turn touches the writer.
type groupConn struct {
	*sqlite3.SQLiteConn
	w  *groupWriter
	tx *memberTx // the open transaction, nil when none
}

var (
	_ driver.ConnBeginTx        = (*groupConn)(nil)
	_ driver.ExecerContext      = (*groupConn)(nil)
	_ driver.QueryerContext     = (*groupConn)(nil)
	_ driver.ConnPrepareContext = (*groupConn)(nil)
)

func (c *groupConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx waits for the turn and opens a member of the writer's batch.
// Like go-sqlite3, it ignores the isolation level and read-only flag
// (snapshots have a pool of their own).
func (c *groupConn) BeginTx(ctx context.Context, _ driver.TxOptions) (driver.Tx, error) {
	if c.tx != nil {
		return nil, errors.New("begin: a transaction is already open on this connection")
	}
	if err := c.w.take(ctx); err != nil {
		return nil, err
	}
	if err := c.w.begin(); err != nil {
		c.w.endTurn()
		return nil, err
	}
	c.tx = &memberTx{conn: c, w: c.w}
	return c.tx, nil
}

func (c *groupConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.tx == nil {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	return c.tx.exec(query, args)
}

func (c *groupConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.tx == nil {
		return c.SQLiteConn.QueryContext(ctx, query, args)
	}
	return c.tx.query(query, args)
}

// PrepareContext returns the statement's text, to run through ExecContext
// and QueryContext and their statement cache. SQL errors show when it runs.
func (c *groupConn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	return &groupStmt{conn: c, tx: c.tx, query: query}, nil
}

// Exec, Query and Prepare without a context: go-sqlite3 has them, so the
// routing covers them too (database/sql itself uses the context forms).
func (c *groupConn) Exec(query string, args []driver.Value) (driver.Result, error) {
	return c.ExecContext(context.Background(), query, named(args))
}

func (c *groupConn) Query(query string, args []driver.Value) (driver.Rows, error) {
	return c.QueryContext(context.Background(), query, named(args))
}

func (c *groupConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *groupConn) Close() error {
	if c.tx != nil {
		_ = c.tx.Rollback()
	}
	return c.SQLiteConn.Close()
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}

// memberTx is one transaction of a batch. Its statements run on the writer
// connection with context.Background(), not the request's context:
// go-sqlite3 interrupts a statement whose context ends, and an interrupted
// write inside a transaction makes SQLite roll back the whole transaction,
// the other members' work with it. A request that goes away is rolled back
// by database/sql (between statements) instead.
type memberTx struct {
	conn *groupConn
	w    *groupWriter
	err  error // set once the batch's transaction was lost under this member
}

// errBatchLost answers the statements of a member whose batch SQLite
// rolled back.
var errBatchLost = errors.New("the transaction was rolled back by SQLite")

// usable reports why the member can run no statement: SQLite rolled its
// batch back, perhaps while a query stepped (database/sql reports that
// error from Rows, which this never sees). Without the check the next
// statement would run outside any transaction and commit on its own.
func (t *memberTx) usable() error {
	if t.err == nil && (t.w.tx == nil || t.w.conn.AutoCommit()) {
		t.lose(errBatchLost)
	}
	return t.err
}

// checked looks at a statement's error: if SQLite ended the transaction
// with it, the batch's other members are answered with it too.
func (t *memberTx) checked(err error) error {
	if err != nil && t.err == nil && t.w.lost(err) {
		t.err = fmt.Errorf("%w: %w", errBatchLost, err)
	}
	return err
}

func (t *memberTx) lose(err error) {
	t.w.lost(err)
	t.err = err
}

func (t *memberTx) exec(query string, args []driver.NamedValue) (driver.Result, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	if isNestedRollback(query) {
		t.w.memo.nestedRolledBack()
	}
	res, err := t.w.conn.ExecContext(context.Background(), query, args)
	return res, t.checked(err)
}

func (t *memberTx) query(query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	rows, err := t.w.conn.QueryContext(context.Background(), query, args)
	return rows, t.checked(err)
}

// isNestedRollback reports whether query rolls back to a savepoint that a
// member opened inside its own (gorm's nested transactions): it may undo
// what a memo value was set from.
func isNestedRollback(query string) bool {
	q := strings.TrimSpace(query)
	return len(q) >= len("ROLLBACK TO") && strings.EqualFold(q[:len("ROLLBACK TO")], "ROLLBACK TO")
}

// end detaches the member from its connection (its statements refuse to
// run after it); the writer is the next member's after this.
func (t *memberTx) end() {
	t.conn.tx = nil
}

// Commit releases the member's savepoint into the batch, ends its turn
// and returns once the batch has committed: only then is the work durable.
func (t *memberTx) Commit() error {
	t.end()
	if err := t.usable(); err != nil {
		t.w.endTurn()
		return err
	}
	b, err := t.w.release()
	t.w.endTurn()
	if err != nil {
		return err
	}
	<-b.done
	return b.err
}

// Rollback undoes the member's own work; the batch goes on.
func (t *memberTx) Rollback() error {
	t.end()
	var err error
	if t.usable() == nil {
		err = t.w.rollBack()
	}
	t.w.endTurn()
	return err
}

// groupStmt is a prepared statement: its text, run through the
// connection's ExecContext and QueryContext, where go-sqlite3's cache
// keeps it compiled (its own Prepare does not use the cache). A statement
// of a transaction runs on the writer, like the transaction's others.
type groupStmt struct {
	conn  *groupConn
	tx    *memberTx // nil when prepared outside a transaction
	query string
}

var (
	_ driver.StmtExecContext  = (*groupStmt)(nil)
	_ driver.StmtQueryContext = (*groupStmt)(nil)
)

// Close has nothing to free: the compiled statement is the cache's.
func (s *groupStmt) Close() error { return nil }

// NumInput is unknown (-1): SQLite checks the arguments when it runs.
func (s *groupStmt) NumInput() int { return -1 }

// runnable refuses a statement used outside where it belongs: after its
// transaction ended, or, prepared outside, while its connection has a
// transaction open (database/sql's Tx.Stmt may reuse one there), where it
// would write outside the transaction.
func (s *groupStmt) runnable() error {
	switch {
	case s.conn.tx == s.tx:
		return nil
	case s.tx != nil:
		return errors.New("statement used after its transaction ended")
	default:
		return errors.New("statement prepared outside the transaction open on its connection: prepare it in the transaction")
	}
}

func (s *groupStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.runnable(); err != nil {
		return nil, err
	}
	return s.conn.ExecContext(ctx, s.query, args)
}

func (s *groupStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.runnable(); err != nil {
		return nil, err
	}
	return s.conn.QueryContext(ctx, s.query, args)
}

func (s *groupStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *groupStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}
