// Package evidence exports what auditors ask for: one CSV per dataset for
// an audit period, with a documented header and a stable order, streamed
// from one consistent snapshot of the database, every cell safe to open in
// a spreadsheet. Exporting twice over unchanged data gives the same bytes.
package evidence

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Period is an audit period: from its first day to its last, inclusive.
type Period struct {
	From, To time.Time // dates (midnight UTC)
}

// YearToDate is the period from 1 January of now's year (UTC) to now's day.
func YearToDate(now time.Time) Period {
	now = now.UTC()
	return Period{From: time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
}

// DefaultPeriod is the period exports start from: the audit period under
// way (the organization's, nil when it has none), else the year to date.
func DefaultPeriod(now time.Time, audit *Period) Period {
	if audit != nil {
		return *audit
	}
	return YearToDate(now)
}

// ParsePeriod reads from and to as YYYY-MM-DD; both are required.
func ParsePeriod(from, to string) (Period, error) {
	errs := map[string]string{}
	var p Period
	var err error
	if p.From, err = time.Parse(time.DateOnly, strings.TrimSpace(from)); err != nil {
		errs["from"] = "must be a date as YYYY-MM-DD"
	}
	if p.To, err = time.Parse(time.DateOnly, strings.TrimSpace(to)); err != nil {
		errs["to"] = "must be a date as YYYY-MM-DD"
	}
	if len(errs) == 0 && p.To.Before(p.From) {
		errs["to"] = "cannot be before from"
	}
	if len(errs) > 0 {
		return Period{}, apperr.Fields(errs)
	}
	return p, nil
}

// end is the first instant after the period.
func (p Period) end() time.Time { return p.To.AddDate(0, 0, 1) }

// Dataset is one export.
type Dataset struct {
	Name        string
	Description string
	// FiltersOn says which records fall in the period.
	FiltersOn string
	Columns   []string
	// query selects the columns in order, with the period's bounds as
	// parameters (see args), in a stable order; each value is one column,
	// written by format.
	query string
	// queryOn, when set, replaces query with one per database that selects
	// every column as the exported text already (see textSQL): the rows
	// are copied as they come.
	queryOn map[store.Dialect]string
	args    func(p Period, r Rules) []any
	// redact, when set, blanks in the formatted record what role may not
	// see, and fills the record's last column with what it blanked.
	redact func(record []string, role auth.Role)
}

// Rules are the settings that computed columns depend on.
type Rules struct {
	// NewHireDays and NewVersionDays: when an acknowledgement falls due
	// (the later of start date + NewHireDays and publication +
	// NewVersionDays), as in the people area.
	NewHireDays, NewVersionDays int
}

// bounds passes the period's start and end (exclusive) as many times as
// a query uses them.
func bounds(pairs int) func(Period, Rules) []any {
	return func(p Period, _ Rules) []any {
		var out []any
		for range pairs {
			out = append(out, p.From, p.end())
		}
		return out
	}
}

// CSVWriter is the one way Charter writes CSV: RFC 4180, every record (the
// header row included) ending with CRLF, as docs/exports.md and the
// bundle's README say. A cell's own characters, line breaks included, are
// kept as they are inside its quotes: encoding/csv's UseCRLF would instead
// turn a cell's LF into CRLF and drop a lone CR, changing the data. Cells
// are quoted exactly where encoding/csv quotes them (a test compares the
// two) and written as given; escape each with EscapeCell first. Each
// record is written to w whole, so memory stays flat in the row count.
type CSVWriter struct {
	w    io.Writer
	line []byte
}

// NewCSVWriter returns a CSVWriter writing to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: w}
}

// Write writes one record and its CRLF.
func (c *CSVWriter) Write(record []string) error {
	c.line = c.line[:0]
	for i, cell := range record {
		if i > 0 {
			c.line = append(c.line, ',')
		}
		c.line = appendCell(c.line, cell, false)
	}
	c.line = append(c.line, '\r', '\n')
	_, err := c.w.Write(c.line)
	return err
}

// appendCell appends one cell to a record: prefixed as EscapeCell does
// when escape is set, then quoted where encoding/csv would quote it (a
// comma, double quote, CR or LF anywhere, a first character that is
// Unicode white space, or exactly \.), its double quotes doubled and its
// other characters kept.
func appendCell[T ~string | ~[]byte](line []byte, cell T, escape bool) []byte {
	if len(cell) == 0 {
		return line
	}
	prefixed := escape && formulaStart(cell[0])
	quote := !prefixed && len(cell) == 2 && cell[0] == '\\' && cell[1] == '.'
	for i := 0; i < len(cell) && !quote; i++ {
		switch cell[i] {
		case ',', '"', '\r', '\n':
			quote = true
		}
	}
	if !quote && !prefixed {
		var head [utf8.UTFMax]byte
		r, _ := utf8.DecodeRune(head[:copy(head[:], cell)])
		quote = unicode.IsSpace(r)
	}
	if quote {
		line = append(line, '"')
	}
	if prefixed {
		line = append(line, '\'')
	}
	if !quote {
		return append(line, cell...)
	}
	for i := 0; i < len(cell); i++ {
		if cell[i] == '"' {
			line = append(line, '"')
		}
		line = append(line, cell[i])
	}
	return append(line, '"')
}

// formulaStart reports whether a cell starting with b would be read by a
// spreadsheet as a formula (SECURITY.md, exports).
func formulaStart(b byte) bool {
	switch b {
	case '=', '+', '-', '@', '\t', '\r', 0:
		return true
	}
	return false
}

// EscapeCell neutralises spreadsheet formulas (SECURITY.md, exports): a
// cell starting with =, +, -, @, tab, carriage return or NUL is prefixed
// with an apostrophe, so that Excel shows it as text.
func EscapeCell(s string) string {
	if s != "" && formulaStart(s[0]) {
		return "'" + s
	}
	return s
}

// format writes a database value as CSV text: times in ISO 8601 UTC,
// dates (columns named date, *_on, *_date or *_until) as YYYY-MM-DD.
func format(column string, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case time.Time:
		if column == "date" || strings.HasSuffix(column, "_on") || strings.HasSuffix(column, "_date") || strings.HasSuffix(column, "_until") {
			return v.UTC().Format(time.DateOnly)
		}
		return v.UTC().Format(time.RFC3339)
	case []byte:
		return string(v)
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

// Result describes a finished export.
type Result struct {
	Dataset string
	Rows    int64
	SHA256  string
	Bytes   int64
}

// Options of one export.
type Options struct {
	// BOM starts the file with a UTF-8 byte-order mark, for Excel.
	BOM bool
	// Role is whom the export is for: the audit_log dataset withholds
	// what that role may not see of each event (internal/auditview). The
	// zero role sees the least.
	Role auth.Role
}

// Service runs exports.
type Service struct {
	st    *store.Store
	now   func() time.Time
	rules Rules
	key   ed25519.PrivateKey // signs bundle manifests (the packets' key)
	// auditLog signs the checkpoint a bundle carries; nil leaves bundles
	// without one.
	auditLog *auditlog.Log
}

// NewService returns a Service on st; key signs bundles.
func NewService(st *store.Store, now func() time.Time, rules Rules, key ed25519.PrivateKey) *Service {
	return &Service{st: st, now: now, rules: rules, key: key}
}

// Find returns the dataset called name.
func Find(name string) (*Dataset, error) {
	for i := range datasets {
		if datasets[i].Name == name {
			return &datasets[i], nil
		}
	}
	if current, ok := Renamed(name); ok {
		return nil, apperr.New(apperr.NotFound, "the dataset "+strconv.Quote(name)+" is now called "+strconv.Quote(current))
	}
	return nil, apperr.New(apperr.NotFound, "no dataset "+strconv.Quote(name)+"; the datasets are "+strings.Join(Names(), ", "))
}

// Renamed returns the current name of a dataset that had another name.
// The recorded reviews were "access_reviews", one letter away from
// "access_review" (who can sign in), and the two were taken for one.
func Renamed(old string) (current string, ok bool) {
	if old == "access_reviews" {
		return "access_review_log", true
	}
	return "", false
}

// Names lists the datasets.
func Names() []string {
	out := make([]string, len(datasets))
	for i, d := range datasets {
		out[i] = d.Name
	}
	return out
}

// All returns the datasets, in their documented order.
func All() []Dataset { return append([]Dataset(nil), datasets...) }

// Export streams one dataset for the period to w from a snapshot and
// records the export (who, what, parameters, SHA-256, rows) in the audit
// trail once it is written. The first audit event is written before any
// byte, so an export that fails half-way is on record too.
func (s *Service) Export(ctx context.Context, by audit.Actor, name string, p Period, opts Options, w io.Writer) (*Result, error) {
	d, err := Find(name)
	if err != nil {
		return nil, err
	}
	params := map[string]any{"dataset": d.Name, "from": p.From.Format(time.DateOnly), "to": p.To.Format(time.DateOnly), "bom": opts.BOM,
		"role": string(opts.Role)}
	if err := s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Append(tx, by, audit.Entry{At: s.now(), Action: "export.started", ObjectType: "dataset", ObjectID: d.Name, After: params})
	}); err != nil {
		return nil, err
	}
	var res *Result
	err = s.st.Snapshot(ctx, func(tx *gorm.DB) error {
		res, err = d.write(tx, s.st.Dialect, p, s.rules, opts, w)
		return err
	})
	if err != nil {
		return nil, err
	}
	params["rows"], params["sha256"], params["bytes"] = res.Rows, res.SHA256, res.Bytes
	return res, s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Append(tx, by, audit.Entry{At: s.now(), Action: "export.completed", ObjectType: "dataset", ObjectID: d.Name, After: params})
	})
}

// Count returns how many rows each dataset has for the period.
func (s *Service) Count(ctx context.Context, p Period) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.st.Snapshot(ctx, func(tx *gorm.DB) error {
		for _, d := range datasets {
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM ("+d.sql(s.st.Dialect)+") AS rows_in_period", d.args(p, s.rules)...).Scan(&n).Error; err != nil {
				return fmt.Errorf("counting %s: %w", d.Name, err)
			}
			out[d.Name] = n
		}
		return nil
	})
	return out, err
}

// Markdown documents every dataset (docs/exports.md is this text).
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Evidence exports\n\n")
	b.WriteString("Generated from `internal/evidence` (a test keeps this file current: `CHARTER_UPDATE_DOCS=1 go test ./internal/evidence/`).\n\n")
	b.WriteString("Each dataset is a CSV as RFC 4180 defines it: UTF-8 (no byte-order mark unless `?bom=1` asks for one, for Excel),\n")
	b.WriteString("comma-separated, every record ending with CRLF (`\\r\\n`), and a first record that is always the header row: the\n")
	b.WriteString("column names listed below, in that order. A cell holding a comma, a double quote or a line break is enclosed in double\n")
	b.WriteString("quotes (a double quote inside doubled), and its line breaks are kept as they were entered. One row per\n")
	b.WriteString("record, times in ISO 8601 UTC (`2026-03-10T09:00:00Z`), dates as `YYYY-MM-DD`, booleans as `yes`/`no`, and a\n")
	b.WriteString("stable order, read from one consistent snapshot, so the same data always gives the same bytes. A cell that would\n")
	b.WriteString("start with `=`, `+`, `-`, `@`, tab, CR or NUL is prefixed with `'`. `from` and `to` (both inclusive, `YYYY-MM-DD`)\n")
	b.WriteString("choose the records in the audit period; each dataset says by which dates.\n\n")
	b.WriteString("Get them at `GET /api/v1/exports/{dataset}.csv?from=&to=`, on `/app/exports`, or with\n")
	b.WriteString("`charter export DATASET --from --to [-o FILE]`; the signed bundle of all of them is\n")
	b.WriteString("`GET /api/v1/exports/evidence.zip?from=&to=` or `charter export bundle`, checked by `charter verify-bundle`.\n")
	b.WriteString("The dashboard opens on the audit period under way (a certification's period on the Organization page\n")
	b.WriteString("that holds today), else on the year to date. `access_review_log` was called `access_reviews`; that name\n")
	b.WriteString("redirects (301) to it over HTTP.\n")
	for _, d := range datasets {
		fmt.Fprintf(&b, "\n## `%s`\n\n%s\n\n- In the period by: %s.\n- Columns: `%s`\n", d.Name, d.Description, d.FiltersOn, strings.Join(d.Columns, "`, `"))
	}
	b.WriteString(auditLogVerification)
	b.WriteString(auditLogDoc())
	return b.String()
}

// auditLogVerification says what the audit_log lets its reader check when
// fields are withheld (docs/exports.md).
const auditLogVerification = `
## What the audit_log lets you verify

The audit_log shows each role what the audit page shows it (` + "`internal/auditview`" + `): every event's seq, time, action, object
type and hashes; its ` + "`before_json`/`after_json`" + ` only to a role that may read the register the event belongs to (vulnerability
reports, privacy requests and background-check results: editors and admins; users, tokens and sign-ins: admins); the
actor and object ID except where they hold what the register hides (a vulnerability reporter's address, the email typed
in a failed sign-in); ` + "`client_ip`" + ` and ` + "`request_id`" + ` to admins only. A withheld cell is empty and its column is named in
` + "`withheld`" + `; an empty cell not named there was empty in the trail. The export's role is in its audit event and, for the
bundle, in ` + "`manifest.json`" + ` (` + "`parameters.role`" + `); ` + "`charter export --role`" + ` chooses it (admin by default).

Withholding happens on output: the stored trail and its hashes are unchanged. With fields withheld an auditor can still
check that the rows form one chain (each ` + "`prev_hash`" + ` is the ` + "`hash`" + ` of the row with the seq before it), that
the bundle is signed and that a later trail extends the bundle's audit head. Recomputing a row's ` + "`hash`" + ` needs all of its
fields, and the user agent is never exported: that check is ` + "`charter audit verify`" + `, run by the operator on the database.
The request ID, a random value, is withheld whenever anything else is, so that the published hash cannot be used to
confirm a guess of a withheld value; events Charter makes itself (jobs, the CLI) carry no request ID.
`

// countingWriter counts and hashes what passes through.
type countingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.h.Write(b[:n])
	c.n += int64(n)
	return n, err
}

// sql is the dataset's query on the database on.
func (d *Dataset) sql(on store.Dialect) string {
	if d.queryOn != nil {
		return d.queryOn[on]
	}
	return d.query
}

// write streams the rows: one row in memory at a time.
func (d *Dataset) write(tx *gorm.DB, on store.Dialect, p Period, rules Rules, opts Options, w io.Writer) (*Result, error) {
	cw := &countingWriter{w: w, h: sha256.New()}
	buf := bufio.NewWriterSize(cw, 64<<10)
	if opts.BOM {
		if _, err := buf.WriteString("\ufeff"); err != nil {
			return nil, err
		}
	}
	if err := NewCSVWriter(buf).Write(d.Columns); err != nil {
		return nil, err
	}
	rows, err := tx.Raw(d.sql(on), d.args(p, rules)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("exporting %s: %w", d.Name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var n int64
	if d.queryOn != nil {
		n, err = copyRows(rows, len(cols), buf)
	} else {
		n, err = d.formatRows(rows, len(cols), opts.Role, buf)
	}
	if err != nil {
		return nil, err
	}
	if err := buf.Flush(); err != nil {
		return nil, err
	}
	return &Result{Dataset: d.Name, Rows: n, SHA256: hex.EncodeToString(cw.h.Sum(nil)), Bytes: cw.n}, nil
}

// copyRows writes rows whose every column is the exported text already,
// each cell escaped and quoted, reusing one record's memory throughout.
func copyRows(rows *sql.Rows, columns int, w *bufio.Writer) (int64, error) {
	cells := make([]sql.RawBytes, columns)
	ptrs := make([]any, columns)
	for i := range cells {
		ptrs[i] = &cells[i]
	}
	var line []byte
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		line = appendRecord(line[:0], cells)
		if _, err := w.Write(line); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// appendRecord appends one CSV line of cells, escaped and quoted, ended
// by CRLF.
func appendRecord[T ~string | ~[]byte](line []byte, cells []T) []byte {
	for i, cell := range cells {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendCell(line, cell, true)
	}
	return append(line, '\r', '\n')
}

// formatRows writes rows of database values, each formatted (format),
// redacted for role where the dataset says so, escaped and quoted.
func (d *Dataset) formatRows(rows *sql.Rows, columns int, role auth.Role, w *bufio.Writer) (int64, error) {
	values := make([]any, columns)
	ptrs := make([]any, columns)
	for i := range values {
		ptrs[i] = &values[i]
	}
	record := make([]string, len(d.Columns)) // redact may fill a last column of its own
	var line []byte
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range values {
			record[i] = format(d.Columns[i], v)
		}
		if d.redact != nil {
			d.redact(record, role)
		}
		line = appendRecord(line[:0], record)
		if _, err := w.Write(line); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}
