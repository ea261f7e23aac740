package store

import (
	"context"
	"database/sql/driver"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// WAL checkpoints off the commit path. SQLite's automatic checkpoint runs
// inside the COMMIT that takes the WAL past 1,000 pages: that commit copies
// the WAL's pages into the database file and syncs it, while the writer
// holds its turn and every member of the batch waits. A write every few
// dozen batches then took several times as long as the others (the tail of
// issue 22's packet downloads). So the writer connection does not
// checkpoint (wal_autocheckpoint=0); a connection of its own copies the
// WAL back in the background (PASSIVE: it never blocks a writer or a
// reader, and copies what no reader still needs), after every
// checkpointBatches committed batches and at least every
// checkpointInterval while anything was committed. Durability does not
// change: a commit is durable when the WAL is synced (synchronous=FULL),
// whichever connection later checkpoints it.

// checkpointBatches is how many committed batches start a checkpoint: a
// batch of hires writes about 20 pages, so this is near SQLite's own 1,000.
const checkpointBatches = 48

// checkpointInterval bounds how long committed pages wait in the WAL when
// writes are few.
const checkpointInterval = time.Second

// checkpointer runs the WAL checkpoints of one database.
type checkpointer struct {
	conn *sqlite3.SQLiteConn
	// batches counts the batches committed since the last checkpoint.
	batches atomic.Int64
	kick    chan struct{} // buffered: a pending kick stands for any number
	stop    chan struct{}
	done    chan struct{} // closed when the loop has ended
	// ran holds the outcome of the last checkpoint until someone reads it
	// (the tests); later outcomes are dropped while it is full.
	ran chan error
}

func newCheckpointer(conn *sqlite3.SQLiteConn) *checkpointer {
	return &checkpointer{conn: conn, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), ran: make(chan error, 1)}
}

// start runs the loop: a checkpoint per kick, and one per interval when a
// batch was committed since the last.
func (c *checkpointer) start(interval time.Duration) {
	go func() {
		defer close(c.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-c.kick:
			case <-tick.C:
				if c.batches.Load() == 0 {
					continue
				}
			}
			c.batches.Store(0)
			err := c.checkpoint()
			select {
			case c.ran <- err:
			default:
			}
		}
	}()
}

// committed is called by the writer after each committed batch; every
// checkpointBatches it starts a checkpoint.
func (c *checkpointer) committed() {
	if c.batches.Add(1) < checkpointBatches {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default: // one is pending already
	}
}

// checkpoint copies what it can of the WAL into the database file. An
// error (SQLITE_BUSY while another process checkpoints) only means the
// next one copies more.
func (c *checkpointer) checkpoint() error {
	rows, err := c.conn.QueryContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)", nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	return rows.Next(make([]driver.Value, 3))
}

// close ends the loop and closes the connection; SQLite's last connection
// to close checkpoints what is left.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.conn.Close()
}
