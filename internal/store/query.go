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

// EscapeLike escapes LIKE wildcards in user input; use with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
