package people

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
)

// AckColumns are the columns of a historical acknowledgement CSV, all
// required: the employee's email, the policy's slug, the version
// acknowledged (such as 1.0) and when (YYYY-MM-DD, or an RFC 3339 time).
var AckColumns = []string{"email", "policy", "version", "acknowledged_at"}

// AckImportRow is one parsed acknowledgement.
type AckImportRow struct {
	Line           int
	Email          string
	Policy         string
	Major, Minor   int
	AcknowledgedAt time.Time
}

// ParseAcknowledgementsCSV reads a historical acknowledgement file and
// checks each row's form; ImportAcknowledgements checks it against the
// register.
func ParseAcknowledgementsCSV(r io.Reader, now time.Time) ([]AckImportRow, []RowError) {
	var rows []AckImportRow
	seen := map[string]int{}
	errs := readCSV(r, AckColumns, AckColumns, func(line int, get func(string) string) []RowError {
		row := AckImportRow{Line: line, Email: notify.NormalizeAddress(get("email")), Policy: strings.TrimSpace(get("policy"))}
		fields := check.Errors{}
		if !notify.ValidAddress(row.Email) {
			fields["email"] = "must be an employee's email address"
		}
		if row.Policy == "" {
			fields["policy"] = "is required: the policy's slug, such as backup"
		}
		if _, err := fmt.Sscanf(strings.TrimSpace(get("version")), "%d.%d", &row.Major, &row.Minor); err != nil || row.Major < 1 || row.Minor < 0 {
			fields["version"] = "must be a version such as 1.0"
		}
		at, ok := parseWhen(strings.TrimSpace(get("acknowledged_at")))
		switch {
		case !ok:
			fields["acknowledged_at"] = "must be a date as YYYY-MM-DD or a time as 2024-02-01T09:30:00Z"
		case at.After(now):
			fields["acknowledged_at"] = "is in the future"
		}
		row.AcknowledgedAt = at
		if len(fields) > 0 {
			return sortedErrors(line, fields, AckColumns)
		}
		key := fmt.Sprintf("%s|%s|%d.%d", row.Email, row.Policy, row.Major, row.Minor)
		if first, dup := seen[key]; dup {
			return []RowError{{Line: line, Reason: fmt.Sprintf("repeats line %d", first)}}
		}
		seen[key] = line
		rows = append(rows, row)
		return nil
	})
	return rows, errs
}

func parseWhen(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(time.Microsecond), true
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// importedVersion is a published (or superseded) version, by policy slug.
type importedVersion struct {
	ID       int64
	PolicyID int64
	Slug     string
	Major    int
	Minor    int
	SHA256   string `gorm:"column:sha256"`
}

// ImportAcknowledgements records historical acknowledgements (method
// import, with their original times) in one transaction. Rows naming an
// unknown employee or a version that was never published are reported with
// their line and column, and then nothing is written. A row already
// recorded is counted as unchanged, so importing a file twice changes
// nothing.
func (s *Service) ImportAcknowledgements(ctx context.Context, by audit.Actor, rows []AckImportRow) (ImportResult, error) {
	var res ImportResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		emails := make([]ImportRow, len(rows))
		for i, r := range rows {
			emails[i] = ImportRow{Input: Input{Email: r.Email}}
		}
		emps, err := loadByEmail(tx, emails)
		if err != nil {
			return err
		}
		var versions []importedVersion
		if err := tx.Table("policy_versions v").Select("v.id, v.policy_id, p.slug, v.major, v.minor, v.sha256").
			Joins("JOIN policies p ON p.id = v.policy_id").Where("v.status IN ('published', 'superseded')").
			Scan(&versions).Error; err != nil {
			return err
		}
		byKey := map[string]importedVersion{}
		for _, v := range versions {
			byKey[fmt.Sprintf("%s|%d.%d", v.Slug, v.Major, v.Minor)] = v
		}
		for _, r := range rows {
			if _, ok := emps[r.Email]; !ok {
				res.Errors = append(res.Errors, RowError{Line: r.Line, Column: "email", Reason: "no employee has this email; import the roster first"})
			}
			if _, ok := byKey[fmt.Sprintf("%s|%d.%d", r.Policy, r.Major, r.Minor)]; !ok {
				res.Errors = append(res.Errors, RowError{Line: r.Line, Column: "version", Reason: fmt.Sprintf("%s has no published version %d.%d", r.Policy, r.Major, r.Minor)})
			}
		}
		if len(res.Errors) > 0 {
			return ErrImportInvalid
		}
		now := s.clock()
		var acknowledged []int64
		for _, r := range rows {
			e, v := emps[r.Email], byKey[fmt.Sprintf("%s|%d.%d", r.Policy, r.Major, r.Minor)]
			var n int64
			if err := tx.Model(&Acknowledgement{}).Where("employee_id = ? AND version_id = ?", e.ID, v.ID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				res.Unchanged++
				continue
			}
			ack := Acknowledgement{EmployeeID: e.ID, PolicyID: v.PolicyID, VersionID: v.ID, Major: v.Major, Minor: v.Minor,
				SHA256: v.SHA256, AcknowledgedAt: r.AcknowledgedAt, Method: MethodImport, CreatedAt: now}
			if err := tx.Create(&ack).Error; err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			if err := audit.Append(tx, by, audit.Entry{At: now, Action: "acknowledgement.imported", ObjectType: "employee", ObjectID: e.Email,
				After: map[string]any{"policy": r.Policy, "version": fmt.Sprintf("%d.%d", v.Major, v.Minor), "sha256": v.SHA256,
					"acknowledged_at": r.AcknowledgedAt, "line": r.Line}}); err != nil {
				return err
			}
			res.Created++
			acknowledged = append(acknowledged, e.ID)
		}
		return s.refresh(tx, acknowledged...)
	})
	if errors.Is(err, ErrImportInvalid) {
		return ImportResult{Errors: res.Errors}, err
	}
	return res, err
}
