package people

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
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

// ParseEmployeesCSV reads an employee CSV (UTF-8, with or without a byte
// order mark, comma-separated, header first) and checks every row. It
// returns the rows and every problem found, each with its line and column.
func ParseEmployeesCSV(r io.Reader) ([]ImportRow, []RowError) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, []RowError{{Line: 1, Reason: "the file is empty; the first line must be the header: " + strings.Join(EmployeeColumns, ",")}}
	} else if err != nil {
		return nil, []RowError{{Line: 1, Reason: "the header is not valid CSV: " + err.Error()}}
	}
	index := map[string]int{}
	var errs []RowError
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := index[name]; dup {
			errs = append(errs, RowError{Line: 1, Column: name, Reason: "column appears twice"})
			continue
		}
		known := false
		for _, c := range EmployeeColumns {
			known = known || c == name
		}
		if !known {
			errs = append(errs, RowError{Line: 1, Column: h, Reason: "unknown column; the columns are " + strings.Join(EmployeeColumns, ", ")})
			continue
		}
		index[name] = i
	}
	for _, c := range requiredColumns {
		if _, ok := index[c]; !ok {
			errs = append(errs, RowError{Line: 1, Column: c, Reason: "required column is missing from the header"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var rows []ImportRow
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			errs = append(errs, RowError{Line: pe.Line, Reason: "not valid CSV: " + pe.Err.Error()})
			if len(errs) >= 1000 {
				break
			}
			continue
		} else if err != nil {
			return nil, append(errs, RowError{Line: line, Reason: err.Error()})
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rows) >= MaxImportRows {
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf("too many rows; import at most %d at a time", MaxImportRows)})
			break
		}
		if len(rec) > len(header) {
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf("has %d fields but the header has %d", len(rec), len(header))})
			continue
		}
		get := func(col string) string {
			if i, ok := index[col]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		in := Input{Email: get("email"), Name: get("name"), Title: get("title"), Department: get("department"),
			ManagerEmail: get("manager_email"), Country: get("country"), EmploymentType: get("employment_type"),
			StartDate: get("start_date"), EndDate: get("end_date")}
		bad := false
		for _, v := range rec {
			if !utf8.ValidString(v) {
				errs = append(errs, RowError{Line: line, Reason: "is not UTF-8 text; save the file as UTF-8"})
				bad = true
				break
			}
		}
		if bad {
			continue
		}
		if _, fieldErrs := in.Parse(); fieldErrs != nil {
			cols := make([]string, 0, len(fieldErrs))
			for c := range fieldErrs {
				cols = append(cols, c)
			}
			sort.Slice(cols, func(i, j int) bool { return index[cols[i]] < index[cols[j]] })
			for _, c := range cols {
				errs = append(errs, RowError{Line: line, Column: c, Reason: fieldErrs[c]})
			}
			continue
		}
		email := NormalizeEmail(in.Email)
		if first, dup := seen[email]; dup {
			errs = append(errs, RowError{Line: line, Column: "email", Reason: fmt.Sprintf("%s is also on line %d", email, first)})
			continue
		}
		seen[email] = line
		rows = append(rows, ImportRow{Line: line, Input: in})
	}
	if len(rows) == 0 && len(errs) == 0 {
		errs = append(errs, RowError{Line: 2, Reason: "the file has a header but no rows"})
	}
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
		for _, r := range rows {
			e, _ := r.Input.Parse()
			cur, ok := existing[e.Email]
			if !ok {
				if err := s.insert(tx, by, &e); err != nil {
					return fmt.Errorf("line %d: %w", r.Line, err)
				}
				res.Created++
				continue
			}
			wrote, err := s.replace(tx, by, cur, &e)
			if err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			if wrote {
				res.Updated++
			} else {
				res.Unchanged++
			}
		}
		return nil
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
			emails = append(emails, NormalizeEmail(r.Input.Email))
		}
		var found []Employee
		if err := forUpdate(tx).Where("email IN ?", emails).Find(&found).Error; err != nil {
			return nil, err
		}
		for j := range found {
			out[found[j].Email] = &found[j]
		}
	}
	return out, nil
}
