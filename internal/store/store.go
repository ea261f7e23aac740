// Package store opens Charter's database (embedded SQLite by default,
// PostgreSQL for multi-instance deployments), checks that SQLite runs with
// the durability settings of SECURITY.md, and applies the versioned
// migrations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database engine behind a Store.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Store is an open, checked database.
type Store struct {
	DB      *gorm.DB
	Dialect Dialect
	SQL     *sql.DB
	// Path is the SQLite file; empty for PostgreSQL.
	Path string
	// reader is SQLite's pool for snapshots: its transactions begin
	// DEFERRED (the main pool's begin IMMEDIATE, which would take the
	// write lock for a whole export) and may not write.
	reader *gorm.DB
	// writer runs SQLite's transactions (groupcommit.go); nil for PostgreSQL.
	writer *groupWriter
}

// sqliteDefaults are the connection settings SECURITY.md requires. A URL may
// override them, in which case Open refuses to start and names the setting.
var sqliteDefaults = [][2]string{
	{"_journal_mode", "WAL"},
	{"_synchronous", "FULL"},
	{"_foreign_keys", "on"},
	{"_busy_timeout", "5000"},
	{"_txlock", "immediate"},
}

// maxPooledConns bounds SQLite's pool. Each member of a batch keeps its
// connection until the batch commits: with 8, 16 clients made batches of
// 4-5; with 32, of about 7 (connections are opened only when needed).
const maxPooledConns = 32

// minBusyTimeout is the least busy timeout accepted, in milliseconds.
const minBusyTimeout = 5000

// Open opens the database named by rawURL: sqlite://PATH (or a bare path)
// or postgres://…. SQLite's directory is created when missing.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	if isPostgres(rawURL) {
		return openPostgres(ctx, rawURL)
	}
	return openSQLite(ctx, rawURL)
}

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		TranslateError: true,
		Logger:         logger.Discard,
		// PostgreSQL keeps microseconds; truncating everywhere keeps values
		// (and the audit hashes over them) identical on both databases.
		NowFunc: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
}

// SQLiteDSN turns a sqlite:// URL into a mattn/go-sqlite3 DSN with the
// required settings, keeping any the URL sets itself.
func SQLiteDSN(rawURL string) (path, dsn string, err error) {
	rest := strings.TrimPrefix(rawURL, "sqlite://")
	rest = strings.TrimPrefix(rest, "sqlite:")
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", "", errors.New("database-url: sqlite URL has no file path")
	}
	given, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("database-url: %w", err)
	}
	params := url.Values{}
	for _, kv := range sqliteDefaults {
		params.Set(kv[0], kv[1])
	}
	for k, vs := range given {
		params[k] = vs
	}
	return path, "file:" + path + "?" + params.Encode(), nil
}

func openSQLite(ctx context.Context, rawURL string) (*Store, error) {
	path, dsn, err := SQLiteDSN(rawURL)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating database directory: %w", err)
	}
	dsn = withStmtCache(dsn)
	// The first connection to a new file turns it to WAL, which takes an
	// exclusive lock that SQLite reports busy at once, without waiting:
	// processes opening one new file together (three instances starting)
	// open their first connection one at a time, under the migration lock.
	unlock, err := lockSQLiteFile(ctx, path)
	if err != nil {
		return nil, err
	}
	connector, err := newGroupConnector(dsn)
	unlock()
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	pool := sql.OpenDB(connector)
	db, err := gorm.Open(sqlite.New(sqlite.Config{Conn: pool}), gormConfig())
	if err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		_ = pool.Close()
		return nil, err
	}
	if err := db.Use(memoPlugin{w: connector.writer}); err != nil {
		_ = pool.Close()
		return nil, err
	}
	// Transactions run in batches on one writer connection (groupcommit.go);
	// the pool serves their members and the readers (WAL).
	sqlDB.SetMaxOpenConns(maxPooledConns)
	sqlDB.SetMaxIdleConns(maxPooledConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{DB: db, Dialect: SQLite, SQL: sqlDB, Path: path, writer: connector.writer}
	if err := s.checkSQLite(ctx, path, dsn); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	readDSN := strings.Replace(dsn, "_txlock=immediate", "_txlock=deferred", 1) + "&_query_only=true"
	if s.reader, err = gorm.Open(sqlite.Open(readDSN), gormConfig()); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("opening %s for reading: %w", path, err)
	}
	if readSQL, err := s.reader.DB(); err == nil {
		readSQL.SetMaxOpenConns(4)
		readSQL.SetMaxIdleConns(2)
	}
	return s, nil
}

// Snapshot runs fn in a read-only transaction that sees one consistent
// state of the database however long it runs (exports stream from it),
// without blocking writers: a deferred WAL read transaction on SQLite,
// REPEATABLE READ READ ONLY on PostgreSQL.
func (s *Store) Snapshot(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.Dialect == Postgres {
		return s.DB.WithContext(ctx).Transaction(fn, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	return s.reader.WithContext(ctx).Transaction(fn)
}

// checkSQLite reads the settings back from the open database and fails,
// naming the setting, when any differs from what SECURITY.md requires.
func (s *Store) checkSQLite(ctx context.Context, path, dsn string) error {
	var journal string
	var synchronous, foreignKeys, busy int
	conn, err := s.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer conn.Close()
	for _, q := range []struct {
		pragma string
		dest   any
	}{
		{"journal_mode", &journal},
		{"synchronous", &synchronous},
		{"foreign_keys", &foreignKeys},
		{"busy_timeout", &busy},
	} {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dest); err != nil {
			return fmt.Errorf("reading PRAGMA %s: %w", q.pragma, err)
		}
	}
	switch {
	case !strings.EqualFold(journal, "wal"):
		return fmt.Errorf("unsafe SQLite setting: journal_mode is %q, must be WAL", journal)
	case synchronous != 2:
		return fmt.Errorf("unsafe SQLite setting: synchronous is %d, must be 2 (FULL)", synchronous)
	case foreignKeys != 1:
		return fmt.Errorf("unsafe SQLite setting: foreign_keys is off, must be on")
	case busy < minBusyTimeout:
		return fmt.Errorf("unsafe SQLite setting: busy_timeout is %d ms, must be at least %d", busy, minBusyTimeout)
	}
	return s.checkImmediate(ctx, path)
}

// checkImmediate proves that transactions take the write lock when they
// begin: while one is open, a second connection cannot start a write.
func (s *Store) checkImmediate(ctx context.Context, path string) error {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("checking transaction mode: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	probe, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
	if err != nil {
		return err
	}
	defer probe.Close()
	_, err = probe.ExecContext(ctx, "BEGIN IMMEDIATE; ROLLBACK;")
	if err == nil {
		return errors.New("unsafe SQLite setting: transactions are not BEGIN IMMEDIATE (_txlock must be immediate)")
	}
	if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
		return fmt.Errorf("checking transaction mode: %w", err)
	}
	return nil
}

func openPostgres(ctx context.Context, rawURL string) (*Store, error) {
	db, err := gorm.Open(postgres.Open(rawURL), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(10)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	return &Store{DB: db, Dialect: Postgres, SQL: sqlDB}, nil
}

// Migrations returns the embedded migration files of this store's dialect.
func (s *Store) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.Dialect))
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Migrate applies every pending embedded migration and returns the schema
// version reached.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	return s.MigrateFS(ctx, s.Migrations())
}

// MigrateFS applies the migrations in fsys. Each runs in its own
// transaction, so a failing one leaves the schema as the previous left it.
// The whole run holds a lock (migratelock.go): instances starting together
// migrate one at a time, and the later ones find the schema current.
func (s *Store) MigrateFS(ctx context.Context, fsys fs.FS) (int64, error) {
	dialect := goose.DialectSQLite3
	if s.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	var opts []goose.ProviderOption
	if s.Dialect == Postgres {
		opts = append(opts, goose.WithSessionLocker(schemaAdvisoryLocker{}))
	} else {
		unlock, err := lockSQLiteFile(ctx, s.Path)
		if err != nil {
			return 0, err
		}
		defer unlock()
	}
	p, err := goose.NewProvider(dialect, s.SQL, fsys, opts...)
	if err != nil {
		return 0, fmt.Errorf("loading migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrating: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.SQL.PingContext(ctx)
}

// Close closes the database.
func (s *Store) Close() error {
	if s.reader != nil {
		if r, err := s.reader.DB(); err == nil {
			_ = r.Close()
		}
	}
	return s.SQL.Close()
}
