package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SQLite lets one transaction write at a time. Left to SQLite, waiting
// writers poll the lock with growing sleeps, so under a steady stream of
// writes one of them can lose every race until busy_timeout fails it with
// "database is locked" (the concurrency test saw it with 16 writers). So
// the process hands out the turn to write itself, first come first served,
// and SQLite's busy handler is left for other processes (the CLI).

// writeTurnWait bounds how long a transaction waits for its turn; past it
// the request fails instead of hanging.
const writeTurnWait = 30 * time.Second

// errWriteTurn is returned when no turn came within writeTurnWait.
var errWriteTurn = errors.New("the database is busy: no turn to write within 30s")

// turnConnector opens SQLite connections whose transactions (all BEGIN
// IMMEDIATE, so all writers) take turns.
type turnConnector struct {
	dsn  string
	drv  *sqlite3.SQLiteDriver
	turn chan struct{} // holds a token while a transaction is open
}

func newTurnConnector(dsn string) *turnConnector {
	return &turnConnector{dsn: dsn, drv: &sqlite3.SQLiteDriver{}, turn: make(chan struct{}, 1)}
}

func (c *turnConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &turnConn{SQLiteConn: conn.(*sqlite3.SQLiteConn), turn: c.turn}, nil
}

func (c *turnConnector) Driver() driver.Driver { return c.drv }

type turnConn struct {
	*sqlite3.SQLiteConn
	turn chan struct{}
}

func (c *turnConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *turnConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	wait := time.NewTimer(writeTurnWait)
	defer wait.Stop()
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-wait.C:
		return nil, errWriteTurn
	}
	tx, err := c.SQLiteConn.BeginTx(ctx, opts)
	if err != nil {
		<-c.turn
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &turnTx{Tx: tx, turn: c.turn}, nil
}

// turnTx gives the turn back when the transaction ends, either way.
type turnTx struct {
	driver.Tx
	turn chan struct{}
	once sync.Once
}

func (t *turnTx) release() { t.once.Do(func() { <-t.turn }) }

func (t *turnTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *turnTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}
