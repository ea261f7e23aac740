package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"

	"gorm.io/gorm"
)

// Memo keeps, for SQLite's writer (groupcommit.go), values that a
// transaction would otherwise read again at the start of every write: the
// audit chain's head, the fingerprint the kept compliance rows were built
// from. It is issue 22's "read the audit head once per batch": each such
// SELECT is a statement in the serialized turn.
//
// A value set by a transaction becomes the batch's when the transaction
// commits into it, and everyone's once the batch has committed; it is
// dropped when its transaction or batch rolls back. Other connections and
// processes (a CLI command) cannot write while a batch runs, since the
// batch holds SQLite's write lock; each batch reads PRAGMA data_version
// once, after taking that lock, and forgets every value when another
// connection has committed since the last batch. A nested savepoint rolled
// back inside a transaction may undo what a value was set from: the memo
// then answers nothing until the batch ends and forgets everything.
//
// A key belongs to the code that reads and writes what it caches: that
// code must Set the new value in every transaction that changes it.
type Memo struct {
	committed map[string]any // as of the last committed batch
	batch     map[string]any // set by members committed into the open batch
	member    map[string]any // set by the member holding the turn
	// distrusted is set when a nested savepoint was rolled back.
	distrusted bool
	// dataVersion is PRAGMA data_version as of the last batch: it changes
	// when another connection commits.
	dataVersion int64
	known       bool // dataVersion has been read
}

// TxMemo returns the writer's memo when tx is a transaction on SQLite,
// nil otherwise (PostgreSQL, or no transaction): a nil Memo remembers
// nothing. Only the transaction's own goroutine may use it, and only until
// the transaction ends: it holds the writer's turn meanwhile.
func TxMemo(tx *gorm.DB) *Memo {
	if _, inTx := tx.Statement.ConnPool.(*sql.Tx); !inTx {
		return nil
	}
	p, ok := tx.Config.Plugins[memoPluginName].(memoPlugin)
	if !ok {
		return nil
	}
	return p.w.memo
}

// Get returns the value kept under key, if any.
func (m *Memo) Get(key string) (any, bool) {
	if m == nil || m.distrusted {
		return nil, false
	}
	for _, layer := range []map[string]any{m.member, m.batch, m.committed} {
		if v, ok := layer[key]; ok {
			_, forgotten := v.(forgotten)
			return v, !forgotten
		}
	}
	return nil, false
}

// forgotten stands for a value that Forget dropped: a layer holding it
// hides the older layers' value.
type forgotten struct{}

// Forget drops the value under key from now on in this transaction, and
// after it if the transaction and its batch commit: its code reads it
// again. Unlike Set, it holds after a nested rollback.
func (m *Memo) Forget(key string) {
	if m == nil {
		return
	}
	if m.member == nil {
		m.member = map[string]any{}
	}
	m.member[key] = forgotten{}
}

// Set keeps v under key from now on in this transaction, and after it if
// the transaction and its batch commit.
func (m *Memo) Set(key string, v any) {
	if m == nil || m.distrusted {
		return
	}
	if m.member == nil {
		m.member = map[string]any{}
	}
	m.member[key] = v
}

// beginBatch forgets every value when another connection has committed
// since the last batch. conn holds the write lock.
func (m *Memo) beginBatch(conn driver.QueryerContext) error {
	v, err := dataVersion(conn)
	if err != nil {
		m.forget()
		return err
	}
	if !m.known || v != m.dataVersion {
		m.committed = nil
	}
	m.dataVersion, m.known = v, true
	return nil
}

// memberReleased keeps the member's values in the batch.
func (m *Memo) memberReleased() {
	if m.member == nil {
		return
	}
	if m.batch == nil {
		m.batch = map[string]any{}
	}
	for k, v := range m.member {
		m.batch[k] = v
	}
	m.member = nil
}

// memberRolledBack drops the member's values.
func (m *Memo) memberRolledBack() { m.member = nil }

// nestedRolledBack distrusts every value until the batch ends.
func (m *Memo) nestedRolledBack() { m.distrusted = true }

// batchCommitted makes the batch's values everyone's.
func (m *Memo) batchCommitted() {
	if m.distrusted {
		m.forget()
		return
	}
	if m.committed == nil {
		m.committed = map[string]any{}
	}
	for k, v := range m.batch {
		m.committed[k] = v
	}
	m.batch, m.member = nil, nil
}

// forget drops every value: after a failed or abandoned batch, whatever it
// undid.
func (m *Memo) forget() {
	m.committed, m.batch, m.member, m.distrusted = nil, nil, nil, false
}

func dataVersion(conn driver.QueryerContext) (int64, error) {
	rows, err := conn.QueryContext(context.Background(), "PRAGMA data_version", nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := []driver.Value{nil}
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			err = driver.ErrBadConn
		}
		return 0, err
	}
	v, _ := dest[0].(int64)
	return v, nil
}

// memoPlugin registers the writer with gorm, so TxMemo finds it from any
// session of the store's DB.
type memoPlugin struct{ w *groupWriter }

const memoPluginName = "charter:writer-memo"

func (memoPlugin) Name() string                 { return memoPluginName }
func (memoPlugin) Initialize(db *gorm.DB) error { return nil }
