// Package people keeps the employee register and what each employee owes:
// acknowledgements of the current major version of every policy (and, as
// their areas land, security training and background checks).
package people

import (
	"regexp"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/notify"
)

// EmploymentType distinguishes staff from contractors.
type EmploymentType string

// The employment types.
const (
	Staff      EmploymentType = "employee"
	Contractor EmploymentType = "contractor"
)

// Employee is one person on the roster. Offboarding sets EndDate; nothing
// about an employee is ever deleted.
type Employee struct {
	ID             int64
	Email          string
	Name           string
	Title          string
	Department     string
	ManagerEmail   string
	Country        string
	EmploymentType EmploymentType
	StartDate      time.Time
	EndDate        *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ActiveOn reports whether the employee is on the roster on day.
func (e *Employee) ActiveOn(day time.Time) bool {
	return e.EndDate == nil || e.EndDate.After(day)
}

// Input is an employee as typed in a form, a CSV row or a JSON body: all
// text, checked by Parse. The field names are the CSV columns.
type Input struct {
	Email          string `json:"email" form:"email"`
	Name           string `json:"name" form:"name"`
	Title          string `json:"title" form:"title"`
	Department     string `json:"department" form:"department"`
	ManagerEmail   string `json:"manager_email" form:"manager_email"`
	Country        string `json:"country" form:"country"`
	EmploymentType string `json:"employment_type" form:"employment_type"`
	StartDate      string `json:"start_date" form:"start_date"`
	EndDate        string `json:"end_date" form:"end_date"`
}

// InputOf returns the input that describes e, for forms and comparisons.
func InputOf(e *Employee) Input {
	in := Input{Email: e.Email, Name: e.Name, Title: e.Title, Department: e.Department, ManagerEmail: e.ManagerEmail,
		Country: e.Country, EmploymentType: string(e.EmploymentType), StartDate: e.StartDate.Format(time.DateOnly)}
	if e.EndDate != nil {
		in.EndDate = e.EndDate.Format(time.DateOnly)
	}
	return in
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

func validEmail(s string) bool { return notify.ValidAddress(s) }

// parseDate reads YYYY-MM-DD as a UTC calendar date.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// Parse checks the input and returns the employee it describes, or the
// message for each bad field keyed by its column name.
func (in Input) Parse() (Employee, map[string]string) {
	errs := map[string]string{}
	e := Employee{
		Email:        notify.NormalizeAddress(in.Email),
		Name:         strings.TrimSpace(in.Name),
		Title:        strings.TrimSpace(in.Title),
		Department:   strings.TrimSpace(in.Department),
		ManagerEmail: notify.NormalizeAddress(in.ManagerEmail),
		Country:      strings.ToUpper(strings.TrimSpace(in.Country)),
	}
	switch {
	case e.Email == "":
		errs["email"] = "is required"
	case !validEmail(e.Email):
		errs["email"] = "must be an email address such as ana@example.com"
	}
	switch {
	case e.Name == "":
		errs["name"] = "is required"
	case len(e.Name) > 200:
		errs["name"] = "must be at most 200 characters"
	}
	if len(e.Title) > 200 {
		errs["title"] = "must be at most 200 characters"
	}
	if len(e.Department) > 100 {
		errs["department"] = "must be at most 100 characters"
	}
	if e.ManagerEmail != "" && !validEmail(e.ManagerEmail) {
		errs["manager_email"] = "must be an email address"
	} else if e.ManagerEmail != "" && e.ManagerEmail == e.Email {
		errs["manager_email"] = "must not be the employee's own email"
	}
	if e.Country != "" && !countryPattern.MatchString(e.Country) {
		errs["country"] = "must be a two-letter ISO 3166 country code such as DE or US"
	}
	switch t := EmploymentType(strings.ToLower(strings.TrimSpace(in.EmploymentType))); t {
	case "", Staff:
		e.EmploymentType = Staff
	case Contractor:
		e.EmploymentType = Contractor
	default:
		errs["employment_type"] = "must be employee or contractor"
	}
	start := strings.TrimSpace(in.StartDate)
	if start == "" {
		errs["start_date"] = "is required"
	} else if d, ok := parseDate(start); !ok {
		errs["start_date"] = "must be a date as YYYY-MM-DD"
	} else {
		e.StartDate = d
	}
	if end := strings.TrimSpace(in.EndDate); end != "" {
		if d, ok := parseDate(end); !ok {
			errs["end_date"] = "must be a date as YYYY-MM-DD"
		} else if !e.StartDate.IsZero() && d.Before(e.StartDate) {
			errs["end_date"] = "must not be before the start date"
		} else {
			e.EndDate = &d
		}
	}
	if len(errs) > 0 {
		return e, errs
	}
	return e, nil
}

// same reports whether a and b hold the same register data.
func same(a, b *Employee) bool {
	return InputOf(a) == InputOf(b)
}

// state is what the audit trail records of an employee.
func state(e *Employee) Input { return InputOf(e) }

// ErrEmployeeNotFound is returned for an unknown email.
var ErrEmployeeNotFound = apperr.New(apperr.NotFound, "no such employee")

// ErrEmployeeExists is returned when creating an email already on the roster.
var ErrEmployeeExists = apperr.New(apperr.Conflict, "an employee with this email already exists")
