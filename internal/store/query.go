package store

import (
	"context"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ForUpdate locks the rows a write transaction reads, so that on
// PostgreSQL two concurrent changes of one record queue instead of both
// acting on the same state. SQLite's driver drops the clause: its BEGIN
// IMMEDIATE transactions already run one at a time.
func ForUpdate(tx *gorm.DB) *gorm.DB { return tx.Clauses(clause.Locking{Strength: "UPDATE"}) }

// TakeTurn makes the write transactions that call it with the same name
// run one at a time until each commits: on PostgreSQL with a transaction
// advisory lock, as SQLite's BEGIN IMMEDIATE transactions already do. For
// numbering that reads the last number and writes the next, where two
// concurrent transactions would otherwise pick the same one.
func TakeTurn(tx *gorm.DB, name string) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", name).Error
}

// BatchSize bounds the rows one transaction of InBatches handles, keeping
// each transaction (and SQLite's write lock) short.
const BatchSize = 500

// InBatches runs batch in its own transaction again and again until it
// handles fewer than BatchSize rows, and returns how many it handled in
// all. For retention jobs that delete old rows and audit each deletion in
// the same transaction, however many have piled up.
func InBatches(ctx context.Context, db *gorm.DB, batch func(tx *gorm.DB, limit int) (int, error)) (int, error) {
	total := 0
	for {
		n := 0
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			n, err = batch(tx, BatchSize)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < BatchSize {
			return total, nil
		}
	}
}

// Placeholders returns rows groups of columns "?" each, "(?, ?), (?, ?)",
// for a multi-row INSERT written out on a busy path instead of built by
// gorm's Create (which reflects over every row). gorm's Exec numbers them
// for PostgreSQL.
func Placeholders(rows, columns int) string {
	row := "(" + strings.Repeat("?, ", columns-1) + "?)"
	return strings.Repeat(row+", ", rows-1) + row
}

// InsertReturningID runs an INSERT … RETURNING id written out (see
// Placeholders) and returns the id. Its errors are translated as gorm's
// Create's are (gorm.ErrDuplicatedKey…), which gorm's row query does not do.
func InsertReturningID(tx *gorm.DB, query string, args ...any) (int64, error) {
	var id int64
	err := tx.Raw(query, args...).Row().Scan(&id)
	if t, ok := tx.Dialector.(gorm.ErrorTranslator); ok && err != nil && tx.Config.TranslateError {
		err = t.Translate(err)
	}
	return id, err
}

// EscapeLike escapes LIKE wildcards in user input; use with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
