package people

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// EmployeeColumns are the columns of an employee CSV, in the order of the
// template. email, name and start_date are required; the rest may be
// omitted from the header or left empty.
var EmployeeColumns = []string{"email", "name", "title", "department", "manager_email", "country", "employment_type", "start_date", "end_date"}

var requiredColumns = []string{"email", "name", "start_date"}

// MaxImportRows bounds one import.
const MaxImportRows = 100_000

// RowError is one problem in an import file.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
}

// ImportRow is a parsed CSV row with the line it started on.
type ImportRow struct {
	Line  int
	Input Input
}

// ErrImportInvalid is returned, with the row errors, when a file has any
// bad row; nothing is written then.
var ErrImportInvalid = apperr.New(apperr.Invalid, "the file has errors; nothing was imported")

// readCSV reads a CSV file (UTF-8, with or without a byte order mark,
// comma-separated, header first) whose header names some of columns and
// all of required, and calls row for each non-blank record with its line
// and a getter by column name. It returns every problem found.
func readCSV(r io.Reader, columns, required []string, row func(line int, get func(string) string) []RowError) []RowError {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return []RowError{{Line: 1, Reason: "the file is empty; the first line must be the header: " + strings.Join(columns, ",")}}
	} else if err != nil {
		return []RowError{{Line: 1, Reason: "the header is not valid CSV: " + err.Error()}}
	}
	index := map[string]int{}
	var errs []RowError
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := index[name]; dup {
			errs = append(errs, RowError{Line: 1, Column: name, Reason: "column appears twice"})
			continue
		}
		if !slices.Contains(columns, name) {
			errs = append(errs, RowError{Line: 1, Column: h, Reason: "unknown column; the columns are " + strings.Join(columns, ", ")})
			continue
		}
		index[name] = i
	}
	for _, c := range required {
		if _, ok := index[c]; !ok {
			errs = append(errs, RowError{Line: 1, Column: c, Reason: "required column is missing from the header"})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			errs = append(errs, RowError{Line: pe.Line, Reason: "not valid CSV: " + pe.Err.Error()})
			if len(errs) >= 1000 {
				break
			}
			continue
		} else if err != nil {
			return append(errs, RowError{Reason: err.Error()})
		}
		// Only a record that was read has field positions (found by
		// FuzzParseEmployeesCSV: a bad quote used to panic here).
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if rows++; rows > MaxImportRows {
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf("too many rows; import at most %d at a time", MaxImportRows)})
			break
		}
		if len(rec) > len(header) {
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf("has %d fields but the header has %d", len(rec), len(header))})
			continue
		}
		if !slices.ContainsFunc(rec, func(v string) bool { return !utf8.ValidString(v) }) {
			get := func(col string) string {
				if i, ok := index[col]; ok && i < len(rec) {
					return rec[i]
				}
				return ""
			}
			errs = append(errs, row(line, get)...)
		} else {
			errs = append(errs, RowError{Line: line, Reason: "is not UTF-8 text; save the file as UTF-8"})
		}
	}
	if rows == 0 && len(errs) == 0 {
		errs = append(errs, RowError{Line: 2, Reason: "the file has a header but no rows"})
	}
	return errs
}

// sortedErrors turns field errors into row errors in column order.
func sortedErrors(line int, fields map[string]string, columns []string) []RowError {
	var out []RowError
	for _, c := range columns {
		if msg, ok := fields[c]; ok {
			out = append(out, RowError{Line: line, Column: c, Reason: msg})
		}
	}
	return out
}

// ParseEmployeesCSV reads an employee CSV and checks every row. It returns
// the rows and every problem found, each with its line and column.
func ParseEmployeesCSV(v *check.Validator, r io.Reader) ([]ImportRow, []RowError) {
	var rows []ImportRow
	seen := map[string]int{}
	errs := readCSV(r, EmployeeColumns, requiredColumns, func(line int, get func(string) string) []RowError {
		in := Input{Email: get("email"), Name: get("name"), Title: get("title"), Department: get("department"),
			ManagerEmail: get("manager_email"), Country: get("country"), EmploymentType: get("employment_type"),
			StartDate: get("start_date"), EndDate: get("end_date")}
		if _, fieldErrs := in.Parse(v); fieldErrs != nil {
			return sortedErrors(line, fieldErrs, EmployeeColumns)
		}
		email := notify.NormalizeAddress(in.Email)
		if first, dup := seen[email]; dup {
			return []RowError{{Line: line, Column: "email", Reason: fmt.Sprintf("%s is also on line %d", email, first)}}
		}
		seen[email] = line
		rows = append(rows, ImportRow{Line: line, Input: in})
		return nil
	})
	return rows, errs
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated, Unchanged int
	Errors                      []RowError
}

// ImportEmployees applies a parsed file in one transaction: each row is
// created, replaced or left alone, so importing the same file twice changes
// nothing the second time. The rows must come from ParseEmployeesCSV
// without errors.
func (s *Service) ImportEmployees(ctx context.Context, by audit.Actor, rows []ImportRow) (ImportResult, error) {
	var res ImportResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		existing, err := loadByEmail(tx, rows)
		if err != nil {
			return err
		}
		var hired []Employee
		var moved []int64
		for _, r := range rows {
			e, _ := r.Input.Parse(s.check)
			cur, ok := existing[e.Email]
			if !ok {
				if err := s.insert(tx, by, &e); err != nil {
					return fmt.Errorf("line %d: %w", r.Line, err)
				}
				res.Created++
				hired = append(hired, e)
				continue
			}
			wrote, err := s.replace(tx, by, cur, &e)
			if err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			if wrote {
				res.Updated++
				if startMoved(cur, &e) {
					moved = append(moved, cur.ID)
				}
			} else {
				res.Unchanged++
			}
		}
		if err := s.hired(tx, hired...); err != nil {
			return err
		}
		return s.refresh(tx, moved...)
	})
	return res, err
}

// loadByEmail reads the existing employees named in rows, in batches small
// enough for any database's parameter limit.
func loadByEmail(tx *gorm.DB, rows []ImportRow) (map[string]*Employee, error) {
	const batch = 500
	out := make(map[string]*Employee, len(rows))
	for i := 0; i < len(rows); i += batch {
		emails := make([]string, 0, batch)
		for _, r := range rows[i:min(i+batch, len(rows))] {
			emails = append(emails, notify.NormalizeAddress(r.Input.Email))
		}
		var found []Employee
		if err := store.ForUpdate(tx).Where("email IN ?", emails).Find(&found).Error; err != nil {
			return nil, err
		}
		for j := range found {
			out[found[j].Email] = &found[j]
		}
	}
	return out, nil
}

// ImportEmployeesCSV parses and imports an employee file. When any row is
// bad it returns ErrImportInvalid with every problem in the result's
// Errors, and nothing is written.
func (s *Service) ImportEmployeesCSV(ctx context.Context, by audit.Actor, r io.Reader) (ImportResult, error) {
	rows, errs := ParseEmployeesCSV(s.check, r)
	if len(errs) > 0 {
		return ImportResult{Errors: errs}, ErrImportInvalid
	}
	return s.ImportEmployees(ctx, by, rows)
}

// ImportAcknowledgementsCSV parses and imports a historical
// acknowledgement file, like ImportEmployeesCSV.
func (s *Service) ImportAcknowledgementsCSV(ctx context.Context, by audit.Actor, r io.Reader) (ImportResult, error) {
	rows, errs := ParseAcknowledgementsCSV(r, s.clock())
	if len(errs) > 0 {
		return ImportResult{Errors: errs}, ErrImportInvalid
	}
	return s.ImportAcknowledgements(ctx, by, rows)
}

// ImportTrainingCSV parses and imports a training file, like
// ImportEmployeesCSV.
func (s *Service) ImportTrainingCSV(ctx context.Context, by audit.Actor, r io.Reader) (ImportResult, error) {
	rows, errs := ParseTrainingCSV(s.check, r, s.today())
	if len(errs) > 0 {
		return ImportResult{Errors: errs}, ErrImportInvalid
	}
	return s.ImportTraining(ctx, by, rows)
}
