package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrPostgresBackup explains that PostgreSQL is backed up with its tools.
var ErrPostgresBackup = errors.New("this database is PostgreSQL: back it up with pg_dump and restore with pg_restore (see docs/operations.md)")

// Backup writes a consistent copy of the SQLite database to path with
// VACUUM INTO, which is safe while the server serves: it reads one
// snapshot and never touches the live file's -wal or -shm. The copy is
// written beside path and renamed into place once synced.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.Dialect != SQLite {
		return ErrPostgresBackup
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file", path)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return err
	}
	tmp := abs + ".partial"
	_ = os.Remove(tmp)
	if err := s.SQL.QueryRowContext(ctx, "SELECT 1").Err(); err != nil {
		return err
	}
	if _, err := s.SQL.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, abs); err != nil {
		return err
	}
	return syncFile(filepath.Dir(abs))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// IntegrityCheck runs PRAGMA integrity_check and foreign_key_check.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.Dialect != SQLite {
		return nil
	}
	var result string
	if err := s.SQL.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity_check: %s", result)
	}
	rows, err := s.SQL.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		return errors.New("foreign_key_check: the database has rows whose references are missing")
	}
	return rows.Err()
}

// Lock is an exclusive lock on a data directory's database, held by a
// running server so that a restore cannot replace the file under it.
type Lock struct{ f *os.File }

// LockFile is the lock's name in the data directory.
const LockFile = "charter.lock"

// AcquireLock takes the data directory's lock without waiting; it fails
// when a server (or a restore) holds it.
func AcquireLock(dataDir string) (*Lock, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dataDir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by a running charter server (or a restore); stop it first", dataDir)
	}
	return &Lock{f: f}, nil
}

// Release lets go of the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return l.f.Close()
}

// ReplaceSQLite puts the file at from in place of the database at to:
// the old -wal and -shm go first (a stale WAL would be replayed onto the
// new file), then an atomic rename, then the directory is synced. The
// caller holds the data directory's lock and has checked from.
func ReplaceSQLite(from, to string) error {
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(to + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := syncFile(from); err != nil {
		return err
	}
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return syncFile(filepath.Dir(to))
}
