package store

import (
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ForUpdate locks the rows a write transaction reads, so that on
// PostgreSQL two concurrent changes of one record queue instead of both
// acting on the same state. SQLite's driver drops the clause: its BEGIN
// IMMEDIATE transactions already run one at a time.
func ForUpdate(tx *gorm.DB) *gorm.DB { return tx.Clauses(clause.Locking{Strength: "UPDATE"}) }

// EscapeLike escapes LIKE wildcards in user input; use with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
