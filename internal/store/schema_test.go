package store_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// schema is a database's shape as both engines can report it: each table's
// columns with their nullability, and each index by its table, columns and
// uniqueness (names differ between engines for constraint indexes).
type schema struct {
	columns map[string]string // "table.column" → "null" or "not null"
	indexes []string          // "table(col, col) unique"
}

// TestMigrationsYieldTheSameSchemaOnBothDatabases migrates an empty SQLite
// and an empty PostgreSQL database and compares what they hold: a column
// nullable on one engine and not the other, or an index or unique
// constraint written into one dialect's migration only, fails here.
func TestMigrationsYieldTheSameSchemaOnBothDatabases(t *testing.T) {
	lite := sqliteSchema(t, storetest.SQLite(t))
	pg := postgresSchema(t, storetest.Postgres(t))
	for col, null := range lite.columns {
		switch other, ok := pg.columns[col]; {
		case !ok:
			t.Errorf("column %s exists on SQLite only", col)
		case other != null:
			t.Errorf("column %s is %s on SQLite, %s on PostgreSQL", col, null, other)
		}
	}
	for col := range pg.columns {
		if _, ok := lite.columns[col]; !ok {
			t.Errorf("column %s exists on PostgreSQL only", col)
		}
	}
	// Counted, not just looked up: two identical indexes on one side and
	// one on the other are a difference too.
	count := map[string]int{}
	for _, ix := range lite.indexes {
		count[ix]++
	}
	for _, ix := range pg.indexes {
		count[ix]--
	}
	for ix, n := range count {
		switch {
		case n > 0:
			t.Errorf("index %s: %d more on SQLite than on PostgreSQL", ix, n)
		case n < 0:
			t.Errorf("index %s: %d more on PostgreSQL than on SQLite", ix, -n)
		}
	}
	t.Logf("SQLite: %d columns, %d indexes; PostgreSQL: %d columns, %d indexes", len(lite.columns), len(lite.indexes), len(pg.columns), len(pg.indexes))
	if len(lite.columns) == 0 || len(lite.indexes) == 0 {
		t.Fatalf("read no schema: %d columns, %d indexes", len(lite.columns), len(lite.indexes))
	}
}

// ignoredTable is goose's own bookkeeping, which differs by design.
func ignoredTable(name string) bool {
	return name == "goose_db_version" || strings.HasPrefix(name, "sqlite_")
}

func sqliteSchema(t *testing.T, st *store.Store) schema {
	t.Helper()
	s := schema{columns: map[string]string{}}
	tables := queryStrings(t, st.SQL, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	for _, table := range tables {
		if ignoredTable(table) {
			continue
		}
		rows, err := st.SQL.Query(fmt.Sprintf("SELECT name, \"notnull\", pk FROM pragma_table_info('%s')", table))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			var notNull, pk int
			if err := rows.Scan(&name, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			// A primary key is never null; PostgreSQL says so, SQLite
			// reports the declaration.
			s.columns[table+"."+name] = nullability(notNull == 1 || pk > 0)
		}
		rows.Close()
		indexes, err := st.SQL.Query(fmt.Sprintf("SELECT name, \"unique\", origin FROM pragma_index_list('%s')", table))
		if err != nil {
			t.Fatal(err)
		}
		type index struct {
			name   string
			unique bool
		}
		var list []index
		for indexes.Next() {
			var name, origin string
			var unique int
			if err := indexes.Scan(&name, &unique, &origin); err != nil {
				t.Fatal(err)
			}
			if origin != "pk" {
				list = append(list, index{name, unique == 1})
			}
		}
		indexes.Close()
		for _, ix := range list {
			cols := queryStrings(t, st.SQL, fmt.Sprintf("SELECT coalesce(name, '<expression>') FROM pragma_index_info('%s') ORDER BY seqno", ix.name))
			s.indexes = append(s.indexes, indexKey(table, cols, ix.unique))
		}
	}
	return s
}

func postgresSchema(t *testing.T, st *store.Store) schema {
	t.Helper()
	s := schema{columns: map[string]string{}}
	rows, err := st.SQL.Query(`SELECT table_name, column_name, is_nullable FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, column, nullable string
		if err := rows.Scan(&table, &column, &nullable); err != nil {
			t.Fatal(err)
		}
		if !ignoredTable(table) {
			s.columns[table+"."+column] = nullability(nullable == "NO")
		}
	}
	rows.Close()
	// Each index with its key columns in order; an expression key has no
	// column (attnum 0).
	rows, err = st.SQL.Query(`SELECT t.relname, i.relname, x.indisunique,
			array_to_string(ARRAY(
				SELECT coalesce(a.attname, '<expression>')
				FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
				LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
				ORDER BY k.ord), ',')
		FROM pg_index x
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema() AND NOT x.indisprimary`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, name, cols string
		var unique bool
		if err := rows.Scan(&table, &name, &unique, &cols); err != nil {
			t.Fatal(err)
		}
		if !ignoredTable(table) {
			s.indexes = append(s.indexes, indexKey(table, strings.Split(cols, ","), unique))
		}
	}
	rows.Close()
	return s
}

func nullability(notNull bool) string {
	if notNull {
		return "not null"
	}
	return "null"
}

func indexKey(table string, cols []string, unique bool) string {
	k := table + "(" + strings.Join(cols, ", ") + ")"
	if unique {
		k += " unique"
	}
	return k
}

func queryStrings(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
