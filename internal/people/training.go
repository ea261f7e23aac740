package people

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/calendar"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
)

// Course is a training every active employee must hold: once, or again
// every RecurrenceMonths.
type Course struct {
	ID               int64
	Name             string
	RecurrenceMonths int // 0: once
	CreatedAt        time.Time
}

// TrainingRecord is one completed cycle of a course; every cycle is kept.
type TrainingRecord struct {
	ID          int64
	EmployeeID  int64
	CourseID    int64
	CompletedOn time.Time
	ExpiresOn   *time.Time // nil for a once-only course
	Source      string     // where the record came from: dashboard, api, import, or the LMS's name
	CreatedAt   time.Time
	// The certificate, if one was uploaded (kept in the file store).
	CertificateSHA256 string `gorm:"column:certificate_sha256"`
	CertificateName   string
	CertificateType   string
}

// Certificate describes an uploaded certificate file.
type Certificate struct {
	SHA256, Name, ContentType string
}

// DefaultCourse is the course seeded on an empty register.
var DefaultCourse = Course{Name: "Security awareness", RecurrenceMonths: 12}

// Errors of training.
var (
	ErrCourseNotFound = apperr.New(apperr.NotFound, "no such course")
	ErrCourseExists   = apperr.New(apperr.Conflict, "a course with this name already exists")
)

// Expiry is when a completion on day expires for course c (nil: never).
func (c *Course) Expiry(day time.Time) *time.Time {
	if c.RecurrenceMonths == 0 {
		return nil
	}
	e := calendar.AddMonths(day, c.RecurrenceMonths)
	return &e
}

// Courses lists the courses by name.
func (s *Service) Courses(ctx context.Context) ([]Course, error) {
	var out []Course
	return out, s.db.WithContext(ctx).Order("name").Find(&out).Error
}

// CreateCourse adds a course. Errors: Invalid, ErrCourseExists.
func (s *Service) CreateCourse(ctx context.Context, by audit.Actor, in CourseInput) (*Course, error) {
	in.Name = strings.TrimSpace(in.Name)
	fields := s.check.Struct(in)
	if fields.Has("recurrence_months") && in.RecurrenceMonths != nil {
		fields["recurrence_months"] = "must be from 0 (once) to 60"
	}
	if err := fields.Err(); err != nil {
		return nil, err
	}
	c := Course{Name: in.Name, RecurrenceMonths: *in.RecurrenceMonths, CreatedAt: s.clock()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		if err := audit.Append(tx, by, audit.Entry{At: c.CreatedAt, Action: "course.created", ObjectType: "course", ObjectID: c.Name,
			After: map[string]any{"name": c.Name, "recurrence_months": c.RecurrenceMonths}}); err != nil {
			return err
		}
		// Every employee now owes the course.
		_, err := s.rebuild(tx)
		return err
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, ErrCourseExists
	}
	return &c, err
}

// SeedCourses adds DefaultCourse when there is no course at all, so that
// seeding twice changes nothing. It reports whether it wrote.
func (s *Service) SeedCourses(ctx context.Context, by audit.Actor) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Course{}).Count(&n).Error; err != nil || n > 0 {
		return false, err
	}
	_, err := s.CreateCourse(ctx, by, CourseInput{Name: DefaultCourse.Name, RecurrenceMonths: &DefaultCourse.RecurrenceMonths})
	return err == nil, err
}

// CourseInput is a new course: its name and how many months a completion
// lasts (0: once).
type CourseInput struct {
	Name             string `validate:"required,max=200"`
	RecurrenceMonths *int   `validate:"required,min=0,max=60"`
}

// TrainingInput is a completion as typed in a form, JSON or a CSV row.
type TrainingInput struct {
	Course      string `validate:"required"`
	CompletedOn string `validate:"date"`
	Source      string `validate:"max=100"`
}

func (in TrainingInput) parse(v *check.Validator, today time.Time) (time.Time, check.Errors) {
	in.Course, in.CompletedOn = strings.TrimSpace(in.Course), strings.TrimSpace(in.CompletedOn)
	fields := v.Struct(in)
	if fields.Has("course") {
		fields["course"] = "is required: the course's name"
	}
	d := check.Date(in.CompletedOn)
	if !fields.Has("completed_on") && d.After(today) {
		fields.Add("completed_on", "is in the future")
	}
	if len(fields) > 0 {
		return d, fields
	}
	return d, nil
}

// recordTraining stores one completion in tx unless the same one exists;
// it reports whether it wrote.
func (s *Service) recordTraining(tx *gorm.DB, by audit.Actor, e *Employee, c *Course, day time.Time, source string) (bool, error) {
	return s.recordTrainingWith(tx, by, e, c, day, source, nil)
}

// recordTrainingWith is recordTraining with an optional certificate. A
// certificate for a completion already recorded without one is attached
// to it; records are otherwise never changed.
func (s *Service) recordTrainingWith(tx *gorm.DB, by audit.Actor, e *Employee, c *Course, day time.Time, source string, cert *Certificate) (bool, error) {
	var existing TrainingRecord
	err := tx.Where("employee_id = ? AND course_id = ? AND completed_on = ?", e.ID, c.ID, day).Take(&existing).Error
	now := s.clock()
	switch {
	case err == nil && cert != nil && existing.CertificateSHA256 == "":
		if err := tx.Model(&existing).Updates(map[string]any{"certificate_sha256": cert.SHA256, "certificate_name": cert.Name,
			"certificate_type": cert.ContentType}).Error; err != nil {
			return false, err
		}
		return true, audit.Append(tx, by, audit.Entry{At: now, Action: "training.certificate_added", ObjectType: "employee", ObjectID: e.Email,
			After: map[string]any{"course": c.Name, "completed_on": day.Format(time.DateOnly), "certificate_sha256": cert.SHA256}})
	case err == nil:
		return false, nil
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return false, err
	}
	r := TrainingRecord{EmployeeID: e.ID, CourseID: c.ID, CompletedOn: day, ExpiresOn: c.Expiry(day), Source: source, CreatedAt: now}
	after := map[string]any{"course": c.Name, "completed_on": day.Format(time.DateOnly), "expires_on": r.ExpiresOn, "source": source}
	if cert != nil {
		r.CertificateSHA256, r.CertificateName, r.CertificateType = cert.SHA256, cert.Name, cert.ContentType
		after["certificate_sha256"] = cert.SHA256
	}
	if err := tx.Create(&r).Error; err != nil {
		return false, err
	}
	return true, audit.Append(tx, by, audit.Entry{At: now, Action: "training.recorded", ObjectType: "employee", ObjectID: e.Email, After: after})
}

func courseByName(tx *gorm.DB, name string) (*Course, error) {
	var c Course
	err := tx.Where("LOWER(name) = ?", strings.ToLower(strings.TrimSpace(name))).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrCourseNotFound
	}
	return &c, err
}

// RecordTraining records that the employee completed a course on a day.
// Recording the same completion again writes nothing. Errors:
// ErrEmployeeNotFound, Invalid (naming course, completed_on or source).
func (s *Service) RecordTraining(ctx context.Context, by audit.Actor, email string, in TrainingInput) (*TrainingRecord, error) {
	return s.RecordTrainingWithCertificate(ctx, by, email, in, nil)
}

// RecordTrainingWithCertificate is RecordTraining with the certificate
// already placed in the file store (nil for none).
func (s *Service) RecordTrainingWithCertificate(ctx context.Context, by audit.Actor, email string, in TrainingInput, cert *Certificate) (*TrainingRecord, error) {
	day, fields := in.parse(s.check, s.today())
	if fields != nil {
		return nil, apperr.Fields(fields)
	}
	source := strings.TrimSpace(in.Source)
	if source == "" {
		source = "dashboard"
	}
	var rec TrainingRecord
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		e, err := byEmail(tx, email)
		if err != nil {
			return err
		}
		c, err := courseByName(tx, in.Course)
		if errors.Is(err, ErrCourseNotFound) {
			return apperr.Field("course", "no course has this name")
		} else if err != nil {
			return err
		}
		if _, err := s.recordTrainingWith(tx, by, e, c, day, source, cert); err != nil {
			return err
		}
		if err := s.refresh(tx, e.ID); err != nil {
			return err
		}
		return tx.Where("employee_id = ? AND course_id = ? AND completed_on = ?", e.ID, c.ID, day).Take(&rec).Error
	})
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// TrainingColumns are the columns of a training CSV: email, course and
// completed_on are required; source is optional (default "import").
var TrainingColumns = []string{"email", "course", "completed_on", "source"}

// TrainingImportRow is one parsed training row.
type TrainingImportRow struct {
	Line  int
	Email string
	Input TrainingInput
}

// ParseTrainingCSV reads a training file and checks each row's form.
func ParseTrainingCSV(v *check.Validator, r io.Reader, today time.Time) ([]TrainingImportRow, []RowError) {
	var rows []TrainingImportRow
	errs := readCSV(r, TrainingColumns, TrainingColumns[:3], func(line int, get func(string) string) []RowError {
		row := TrainingImportRow{Line: line, Email: notify.NormalizeAddress(get("email")),
			Input: TrainingInput{Course: get("course"), CompletedOn: get("completed_on"), Source: get("source")}}
		_, fields := row.Input.parse(v, today)
		if !notify.ValidAddress(row.Email) {
			if fields == nil {
				fields = check.Errors{}
			}
			fields.Add("email", "must be an employee's email address")
		}
		if fields != nil {
			return sortedErrors(line, fields, TrainingColumns)
		}
		rows = append(rows, row)
		return nil
	})
	return rows, errs
}

// ImportTraining records historical completions in one transaction; rows
// naming an unknown employee or course are reported and nothing is
// written. Importing the same file twice changes nothing.
func (s *Service) ImportTraining(ctx context.Context, by audit.Actor, rows []TrainingImportRow) (ImportResult, error) {
	var res ImportResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		lookup := make([]ImportRow, len(rows))
		for i, r := range rows {
			lookup[i] = ImportRow{Input: Input{Email: r.Email}}
		}
		emps, err := loadByEmail(tx, lookup)
		if err != nil {
			return err
		}
		var courses []Course
		if err := tx.Find(&courses).Error; err != nil {
			return err
		}
		byName := map[string]*Course{}
		for i := range courses {
			byName[strings.ToLower(courses[i].Name)] = &courses[i]
		}
		for _, r := range rows {
			if emps[r.Email] == nil {
				res.Errors = append(res.Errors, RowError{Line: r.Line, Column: "email", Reason: "no employee has this email; import the roster first"})
			}
			if byName[strings.ToLower(strings.TrimSpace(r.Input.Course))] == nil {
				res.Errors = append(res.Errors, RowError{Line: r.Line, Column: "course", Reason: fmt.Sprintf("no course is named %q", strings.TrimSpace(r.Input.Course))})
			}
		}
		if len(res.Errors) > 0 {
			return ErrImportInvalid
		}
		var trained []int64
		for _, r := range rows {
			day, _ := r.Input.parse(s.check, s.today())
			source := strings.TrimSpace(r.Input.Source)
			if source == "" {
				source = "import"
			}
			wrote, err := s.recordTraining(tx, by, emps[r.Email], byName[strings.ToLower(strings.TrimSpace(r.Input.Course))], day, source)
			if err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			if wrote {
				res.Created++
				trained = append(trained, emps[r.Email].ID)
			} else {
				res.Unchanged++
			}
		}
		return s.refresh(tx, trained...)
	})
	if errors.Is(err, ErrImportInvalid) {
		return ImportResult{Errors: res.Errors}, err
	}
	return res, err
}

// trainingStanding is the latest completion of each (employee, course).
type trainingStanding struct {
	EmployeeID int64
	CourseID   int64
	Completed  time.Time
}

// latestTraining reads, in one query (per chunk of ids), the latest
// completion of each course by the given employees (by all when ids is
// nil).
func latestTraining(db *gorm.DB, ids []int64) (map[[2]int64]time.Time, error) {
	out := map[[2]int64]time.Time{}
	err := forEmployees(ids, func(where func(*gorm.DB) *gorm.DB) error {
		// Joining back to the row keeps the column's DATE type: SQLite
		// returns a bare MAX() as text that does not scan into a time.
		var rows []trainingStanding
		latest := where(db.Table("training_records").Select("employee_id, course_id, MAX(completed_on) AS latest")).Group("employee_id, course_id")
		if err := db.Table("training_records t").Select("t.employee_id, t.course_id, t.completed_on AS completed").
			Joins("JOIN (?) x ON x.employee_id = t.employee_id AND x.course_id = t.course_id AND x.latest = t.completed_on", latest).
			Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			out[[2]int64{r.EmployeeID, r.CourseID}] = r.Completed
		}
		return nil
	})
	return out, err
}

// CourseStanding is one course as it stands for one employee.
type CourseStanding struct {
	Course        Course
	LastCompleted *time.Time
	Expires       *time.Time
	Due           time.Time // when a (new) completion is needed
	Current       bool
	Overdue       bool
}

// standing computes where e stands on course c given their latest
// completion (zero if none).
func (s *Service) standing(e *Employee, c Course, last time.Time, today time.Time) CourseStanding {
	st := CourseStanding{Course: c}
	if last.IsZero() {
		st.Due = e.StartDate.AddDate(0, 0, s.settings.NewHireDays)
		st.Overdue = st.Due.Before(today)
		return st
	}
	l := last
	st.LastCompleted, st.Expires = &l, c.Expiry(last)
	st.Current = st.Expires == nil || !st.Expires.Before(today)
	if st.Expires != nil {
		st.Due = *st.Expires
	}
	st.Overdue = !st.Current
	return st
}

// TrainingCertificate returns the certificate of one of the employee's
// completions. Errors: ErrEmployeeNotFound, NotFound.
func (s *Service) TrainingCertificate(ctx context.Context, email string, recordID int64) (*TrainingRecord, error) {
	db := s.db.WithContext(ctx)
	e, err := byEmail(db, email)
	if err != nil {
		return nil, err
	}
	var r TrainingRecord
	err = db.Where("id = ? AND employee_id = ? AND certificate_sha256 <> ''", recordID, e.ID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such certificate")
	}
	return &r, err
}
