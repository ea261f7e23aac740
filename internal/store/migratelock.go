package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"syscall"

	"github.com/pressly/goose/v3/lock"
)

// Several instances may start at the same moment on one database (a
// rolling upgrade, or a fresh deployment of two or three machines). Unlocked,
// two of them apply the same migration at once and the slower fails midway
// (issue 20 saw "duplicate key … pg_type_typname_nsp_index"). So migrating
// holds a lock for its whole run: one instance migrates, the others wait,
// then find nothing left to apply.

// schemaAdvisoryLocker holds a PostgreSQL session-level advisory lock on
// the connection goose migrates with. The key is derived from the schema
// being migrated, so instances sharing a schema exclude each other while
// different schemas on one server (tests, several tenants) do not. It
// waits with pg_advisory_lock, which returns as soon as the holder lets go
// (goose's own locker polls every few seconds), and a holder that dies
// releases it with its session.
type schemaAdvisoryLocker struct{}

var _ lock.SessionLocker = schemaAdvisoryLocker{}

const migrationLockKey = "hashtextextended('charter migrations ' || current_schema(), 0)"

func (schemaAdvisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+migrationLockKey+")"); err != nil {
		return fmt.Errorf("waiting for the migration lock: %w", err)
	}
	return nil
}

func (schemaAdvisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock("+migrationLockKey+")").Scan(&released); err != nil {
		return fmt.Errorf("releasing the migration lock: %w", err)
	}
	if !released {
		return fmt.Errorf("releasing the migration lock: this session did not hold it")
	}
	return nil
}

// lockSQLiteFile takes an exclusive flock on a file beside the database
// for as long as migrating takes, so processes sharing one SQLite file
// (serve and a CLI command started together) migrate one after the other.
// SQLite's own locks cover one transaction, and goose reads the version
// before it begins the next one. The kernel releases the lock when the
// process dies; the lock file itself is left in place, empty.
func lockSQLiteFile(ctx context.Context, dbPath string) (unlock func(), err error) {
	f, err := os.OpenFile(dbPath+".migrate-lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the migration lock: %w", err)
	}
	locked := make(chan error, 1)
	go func() { locked <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-locked:
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("waiting for the migration lock: %w", err)
		}
	case <-ctx.Done():
		// Closing the file drops the lock the goroutine may still get.
		go func() { <-locked; _ = f.Close() }()
		return nil, fmt.Errorf("waiting for the migration lock: %w", ctx.Err())
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// firstStartLockKey is the advisory lock that serialises the work an
// instance does once it has migrated and before it serves (recording the
// keys' fingerprints, importing files, loading the seed and making the
// first admin), per schema like the migration lock.
const firstStartLockKey = "hashtextextended('charter first start ' || current_schema(), 0)"

// Exclusively runs fn while no other instance on this PostgreSQL schema
// runs its own: two instances started at once on an empty database would
// otherwise both find no policies and no admin, and the slower fail on a
// duplicate key. On SQLite it runs fn alone already (serve holds the data
// directory's lock).
func (s *Store) Exclusively(ctx context.Context, fn func() error) error {
	if s.Dialect != Postgres {
		return fn()
	}
	conn, err := s.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+firstStartLockKey+")"); err != nil {
		return fmt.Errorf("waiting for the start lock: %w", err)
	}
	fnErr := fn()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+firstStartLockKey+")"); err != nil && fnErr == nil {
		return fmt.Errorf("releasing the start lock: %w", err)
	}
	return fnErr
}
