// Package people keeps the employee register and what each employee owes:
// acknowledgements of the current major version of every policy (and, as
// their areas land, security training and background checks).
package people

import (
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/check"
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
	Email          string `validate:"required,address"`
	Name           string `validate:"required,max=200"`
	Title          string `validate:"max=200"`
	Department     string `validate:"max=100"`
	ManagerEmail   string `validate:"omitempty,address"`
	Country        string `validate:"omitempty,len=2,alpha,uppercase"`
	EmploymentType string `validate:"omitempty,oneof=employee contractor"`
	StartDate      string `validate:"required,date"`
	EndDate        string `validate:"omitempty,date"`
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

// Parse checks the input and returns the employee it describes, or the
// message for each bad field keyed by its column name.
func (in Input) Parse(v *check.Validator) (Employee, check.Errors) {
	in = Input{Email: notify.NormalizeAddress(in.Email), Name: strings.TrimSpace(in.Name), Title: strings.TrimSpace(in.Title),
		Department: strings.TrimSpace(in.Department), ManagerEmail: notify.NormalizeAddress(in.ManagerEmail),
		Country: strings.ToUpper(strings.TrimSpace(in.Country)), EmploymentType: strings.ToLower(strings.TrimSpace(in.EmploymentType)),
		StartDate: strings.TrimSpace(in.StartDate), EndDate: strings.TrimSpace(in.EndDate)}
	errs := v.Struct(in)
	if errs.Has("email") && in.Email != "" {
		errs["email"] = "must be an email address such as ana@example.com"
	}
	if errs.Has("country") {
		errs["country"] = "must be a two-letter ISO 3166 country code such as DE or US"
	}
	if errs.Has("employment_type") {
		errs["employment_type"] = "must be employee or contractor"
	}
	e := Employee{Email: in.Email, Name: in.Name, Title: in.Title, Department: in.Department, ManagerEmail: in.ManagerEmail,
		Country: in.Country, EmploymentType: Staff, StartDate: check.Date(in.StartDate)}
	if in.EmploymentType == string(Contractor) {
		e.EmploymentType = Contractor
	}
	if e.ManagerEmail != "" && e.ManagerEmail == e.Email {
		errs.Add("manager_email", "must not be the employee's own email")
	}
	if in.EndDate != "" && !errs.Has("end_date") {
		end := check.Date(in.EndDate)
		if !e.StartDate.IsZero() && end.Before(e.StartDate) {
			errs.Add("end_date", "must not be before the start date")
		}
		e.EndDate = &end
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

// employeeState is what the audit trail records of an employee; its JSON
// names are the register's columns, as in every earlier event.
type employeeState struct {
	Email          string `json:"email"`
	Name           string `json:"name"`
	Title          string `json:"title"`
	Department     string `json:"department"`
	ManagerEmail   string `json:"manager_email"`
	Country        string `json:"country"`
	EmploymentType string `json:"employment_type"`
	StartDate      string `json:"start_date"`
	EndDate        string `json:"end_date"`
}

// state is what the audit trail records of an employee.
func state(e *Employee) employeeState { return employeeState(InputOf(e)) }

// ErrEmployeeNotFound is returned for an unknown email.
var ErrEmployeeNotFound = apperr.New(apperr.NotFound, "no such employee")

// ErrEmployeeExists is returned when creating an email already on the roster.
var ErrEmployeeExists = apperr.New(apperr.Conflict, "an employee with this email already exists")
