package store

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// The writer never checkpoints in its COMMIT: that is the checkpointer's.
func TestWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	st, _ := groupStore(t)
	var pages int
	if err := st.DB.Transaction(func(tx *gorm.DB) error {
		return tx.Raw("PRAGMA wal_autocheckpoint").Scan(&pages).Error
	}); err != nil {
		t.Fatal(err)
	}
	if pages != 0 {
		t.Fatalf("the writer checkpoints every %d pages", pages)
	}
}

// Every checkpointBatches committed batches, the checkpointer copies the
// WAL into the database file.
func TestCheckpointerCopiesTheWALAfterEnoughBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.db")
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=FULL"
	writes, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer writes.Close()
	writes.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA wal_autocheckpoint=0", "CREATE TABLE t (v BLOB)"} {
		if _, err := writes.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := (&sqlite3.SQLiteDriver{}).Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := newCheckpointer(conn.(*sqlite3.SQLiteConn))
	c.start(time.Hour) // only kicks start one here
	defer c.close()

	before := fileSize(t, path)
	for range checkpointBatches - 1 {
		if _, err := writes.Exec("INSERT INTO t VALUES (randomblob(3000))"); err != nil {
			t.Fatal(err)
		}
		c.committed()
	}
	if len(c.kick) != 0 || fileSize(t, path) != before {
		t.Fatal("a checkpoint started before enough batches")
	}
	c.committed()
	if err := <-c.ran; err != nil {
		t.Fatal(err)
	}
	if after := fileSize(t, path); after < before+int64(checkpointBatches-1)*3000 {
		t.Fatalf("the database file grew from %d to %d bytes only", before, after)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
