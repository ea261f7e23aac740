package server

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/people"
	"github.com/labstack/echo/v4"
)

// peopleHandlers serve employees, their acknowledgements (the /ack links
// included), training and background checks.
type peopleHandlers struct {
	*kit
	people *people.Service
	files  *files.Store
}

type peoplePage struct {
	Rows        []people.Row // this page's rows
	Total       int          // rows matching the filter
	From, To    int          // 1-based positions of this page
	PrevURL     string
	NextURL     string
	Query       people.ListFilter
	Departments []string
	States      []people.State
	Counts      map[people.State]int // matches by state, before the state filter
}

func (h *peopleHandlers) peoplePage(c echo.Context) error {
	ctx := c.Request().Context()
	f := people.ListFilter{Query: c.QueryParam("q"), Department: c.QueryParam("department"), State: people.State(c.QueryParam("state")),
		Active: c.QueryParam("active") == "1"}
	page, err := dashboardPage(c)
	if err != nil {
		return err
	}
	first := (page - 1) * peoplePageSize
	list, err := h.people.ListPage(ctx, f, first, peoplePageSize)
	if err != nil {
		return err
	}
	if first >= list.Total && list.Total > 0 {
		return apperr.Field("page", "is past the last page")
	}
	deps, err := h.people.Departments(ctx)
	if err != nil {
		return err
	}
	p := peoplePage{Rows: list.Rows, Total: list.Total, Query: f, Departments: deps, States: people.States, Counts: list.Counts}
	p.From, p.To = first+1, first+len(list.Rows)
	if page > 1 {
		p.PrevURL = pageURL(c, page-1)
	}
	if p.To < list.Total {
		p.NextURL = pageURL(c, page+1)
	}
	return h.render(c, http.StatusOK, "people", "People", p)
}

// peoplePageSize is how many employees the list shows at once.
const peoplePageSize = 100

// employeeRequest is an employee as a form or a JSON body sends it.
type employeeRequest struct {
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

// checkRequest is a background check as a form or a JSON body sends it.
type checkRequest struct {
	Status          string `json:"status" form:"status"`
	Provider        string `json:"provider" form:"provider"`
	InitiatedOn     string `json:"initiated_on" form:"initiated_on"`
	CompletedOn     string `json:"completed_on" form:"completed_on"`
	ExemptionReason string `json:"exemption_reason" form:"exemption_reason"`
}

// trainingRequest is a training completion as a form or a JSON body sends it.
type trainingRequest struct {
	Course      string `json:"course" form:"course"`
	CompletedOn string `json:"completed_on" form:"completed_on"`
	Source      string `json:"source" form:"source"`
}

type employeePage struct {
	Detail       *people.Detail
	AuditURL     string
	CheckDetails bool // the viewer may see the check's status and dates
	CheckForm    checkRequest
	Courses      []people.Course
	CheckErrors  map[string]string
	Statuses     []people.CheckStatus
	// TrainingForm and TrainingErrors refill the training form after a
	// refused completion; TrainingMessage is its problem as a whole.
	TrainingForm    trainingRequest
	TrainingErrors  map[string]string
	TrainingMessage string
}

func (h *peopleHandlers) employeePage(c echo.Context) error {
	return h.showEmployee(c, http.StatusOK, nil, nil, nil)
}

// showEmployee renders the employee page; form and errs refill the
// background-check form after a refused change, refill the training form.
func (h *peopleHandlers) showEmployee(c echo.Context, status int, form *checkRequest, errs map[string]string, refill func(*employeePage)) error {
	d, err := h.people.Detail(c.Request().Context(), c.Param("email"))
	if err != nil {
		return err
	}
	q := url.Values{"object_type": {"employee"}, "object_id": {d.Employee.Email}}
	p := employeePage{Detail: d, AuditURL: "/app/audit?" + q.Encode(), CheckDetails: seesCheckDetails(currentUser(c)),
		CheckErrors: errs, Statuses: people.CheckStatuses}
	if p.Courses, err = h.people.Courses(c.Request().Context()); err != nil {
		return err
	}
	if form != nil {
		p.CheckForm = *form
	} else {
		p.CheckForm = checkRequest{Status: string(d.Check.Status), Provider: d.Check.Provider, InitiatedOn: dateOf(d.Check.InitiatedOn),
			CompletedOn: dateOf(d.Check.CompletedOn), ExemptionReason: d.Check.ExemptionReason}
	}
	if refill != nil {
		refill(&p)
	}
	return h.render(c, status, "employee", d.Employee.Name, p)
}

// employeeForm creates (Email empty in Original) or edits an employee.
type employeeForm struct {
	Original string // the email being edited; empty for a new employee
	Input    employeeRequest
	Errors   map[string]string
	Message  string
}

func (h *peopleHandlers) newEmployeeForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "employee_form", "Add an employee", employeeForm{Input: employeeRequest{EmploymentType: string(people.Staff)}})
}

func (h *peopleHandlers) editEmployeeForm(c echo.Context) error {
	e, err := h.people.Get(c.Request().Context(), c.Param("email"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "employee_form", "Edit "+e.Name, employeeForm{Original: e.Email, Input: employeeRequest(people.InputOf(e))})
}

func (h *peopleHandlers) saveEmployee(c echo.Context) error {
	var in employeeRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	original := c.Param("email")
	var e *people.Employee
	var err error
	if original == "" {
		e, err = h.people.Create(c.Request().Context(), actor(c), people.Input(in))
	} else {
		e, err = h.people.Update(c.Request().Context(), actor(c), original, people.Patch{Email: &in.Email, Name: &in.Name,
			Title: &in.Title, Department: &in.Department, ManagerEmail: &in.ManagerEmail, Country: &in.Country,
			EmploymentType: &in.EmploymentType, StartDate: &in.StartDate, EndDate: &in.EndDate})
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.render(c, status, "employee_form", "Employee", employeeForm{Original: original, Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved "+e.Name+".")
	return seeOther(c, "/app/people/"+url.PathEscape(e.Email))
}

// maxImportBytes bounds an uploaded CSV.
const maxImportBytes = 10 << 20

type importPage struct {
	Kind            string // "employees", "acknowledgements" or "training"
	Columns         []string
	AckColumns      []string
	TrainingColumns []string
	File            string
	Errors          []people.RowError
	Result          *people.ImportResult
	Message         string
	// FileErrors marks the file input of the form sent (Kind).
	FileErrors map[string]string
}

func (h *peopleHandlers) importForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "people_import", "Import", newImportPage(""))
}

// uploadedCSV opens the uploaded file, or explains what is wrong with it.
func uploadedCSV(c echo.Context, p *importPage) (multipart.File, int) {
	fh, err := c.FormFile("file")
	if err != nil {
		p.FileErrors = map[string]string{"file": "is required; choose a CSV file to import"}
		return nil, http.StatusUnprocessableEntity
	}
	p.File = fh.Filename
	if fh.Size > maxImportBytes {
		p.Message = "The file is larger than 10 MB; split it into several imports."
		return nil, http.StatusRequestEntityTooLarge
	}
	f, err := fh.Open()
	if err != nil {
		p.Message = "The upload could not be read; try again."
		return nil, http.StatusBadRequest
	}
	return f, http.StatusOK
}

func (h *peopleHandlers) importEmployees(c echo.Context) error {
	return h.importCSV(c, "employees", h.people.ImportEmployeesCSV)
}

func (h *peopleHandlers) importAcknowledgements(c echo.Context) error {
	return h.importCSV(c, "acknowledgements", h.people.ImportAcknowledgementsCSV)
}

func (h *peopleHandlers) importTraining(c echo.Context) error {
	return h.importCSV(c, "training", h.people.ImportTrainingCSV)
}

// importCSV runs one kind of import on the uploaded file and shows the
// counts, or every problem with its line and column.
func (h *peopleHandlers) importCSV(c echo.Context, kind string, run func(context.Context, audit.Actor, io.Reader) (people.ImportResult, error)) error {
	p := newImportPage(kind)
	f, status := uploadedCSV(c, &p)
	if f == nil {
		return h.render(c, status, "people_import", "Import", p)
	}
	defer f.Close()
	res, err := run(c.Request().Context(), actor(c), f)
	if len(res.Errors) > 0 {
		p.Errors = res.Errors
		return h.render(c, http.StatusUnprocessableEntity, "people_import", "Import", p)
	} else if err != nil {
		return err
	}
	p.Result = &res
	return h.render(c, http.StatusOK, "people_import", "Import", p)
}

// newImportPage is the import page with every kind's columns.
func newImportPage(kind string) importPage {
	return importPage{Kind: kind, Columns: people.EmployeeColumns, AckColumns: people.AckColumns, TrainingColumns: people.TrainingColumns}
}

func (h *peopleHandlers) sendAckLink(c echo.Context) error {
	m, err := h.people.IssueAckLink(c.Request().Context(), actor(c), c.Param("email"))
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.Conflict {
			h.flashProblem(c, err)
			return seeOther(c, "/app/people/"+c.Param("email"))
		}
		return err
	}
	h.flash(c, "A new acknowledgement link for "+m.ToAddr+" is in the outbox; any earlier link no longer works.")
	return seeOther(c, "/app/people/"+c.Param("email"))
}

// ackLinksConfirm shows who "send links to everyone" would email, and
// whose live link it would replace, before anything is sent.
func (h *peopleHandlers) ackLinksConfirm(c echo.Context) error {
	return h.showAckLinksConfirm(c, "")
}

func (h *peopleHandlers) showAckLinksConfirm(c echo.Context, problem string) error {
	plan, err := h.people.PlanAckLinks(c.Request().Context())
	if err != nil {
		return err
	}
	n := len(plan.Recipients)
	p := confirmPage{Title: "Send acknowledgement links", Problem: problem, Cancel: "/app/people", Back: "People"}
	if n == 0 {
		p.Lead = "Nobody owes an acknowledgement: no email will be sent."
		return h.showConfirm(c, confirmStatus(problem), p)
	}
	p.Lead = plural(n, "email", "emails") + " will be queued in the outbox, one to each person below, with a new personal link."
	switch plan.Replaced {
	case 0:
		p.Details = []string{"Nobody below has a link that still works."}
	case 1:
		p.Details = []string{"1 person already has a live link, which will be replaced: the link they have stops working."}
	default:
		p.Details = []string{strconv.Itoa(plan.Replaced) + " people already have a live link, which will be replaced: the links they have stop working."}
	}
	p.Columns = []string{"Name", "Email", "Policies owed", "Live link"}
	for _, r := range plan.Recipients {
		live := "none"
		if r.LiveLink {
			live = "will be replaced"
		}
		p.Rows = append(p.Rows, []string{r.Name, r.Email, strconv.Itoa(r.Owed), live})
	}
	p.Action, p.Button = "/app/people/ack-links", "Send "+plural(n, "email", "emails")
	p.Fields = []hiddenField{{Name: "count", Value: strconv.Itoa(n)}}
	return h.showConfirm(c, confirmStatus(problem), p)
}

// sendAllAckLinks queues a link for everyone who owes an acknowledgement,
// once confirmed for the number of people shown; otherwise it shows the
// confirmation.
func (h *peopleHandlers) sendAllAckLinks(c echo.Context) error {
	if !confirmed(c) {
		return h.showAckLinksConfirm(c, "")
	}
	count, err := strconv.Atoi(c.FormValue("count"))
	if err != nil {
		return h.showAckLinksConfirm(c, "Confirm the number of emails below.")
	}
	n, err := h.people.SendAckLinks(c.Request().Context(), actor(c), count)
	if errors.Is(err, people.ErrAckLinkPlanChanged) {
		return h.showAckLinksConfirm(c, err.Error()+".")
	} else if err != nil {
		return err
	}
	h.flash(c, plural(n, "acknowledgement link", "acknowledgement links")+" queued in the outbox.")
	return seeOther(c, "/app/outbox")
}

// recordTraining is the employee page's training form, with an optional
// certificate file.
func (h *peopleHandlers) recordTraining(c echo.Context) error {
	var in trainingRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	refused := func(status int, msg string, errs map[string]string) error {
		return h.showEmployee(c, status, nil, nil, func(p *employeePage) {
			p.TrainingForm, p.TrainingErrors, p.TrainingMessage = in, errs, msg
		})
	}
	var cert *people.Certificate
	if fh, err := c.FormFile("certificate"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		stored, err := h.files.Put(files.Certificate, fh.Filename, f)
		f.Close()
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
			return refused(http.StatusUnprocessableEntity, "", map[string]string{"certificate": e.Fields["file"]})
		} else if err != nil {
			return err
		}
		cert = &people.Certificate{SHA256: stored.SHA256, Name: stored.Name, ContentType: stored.ContentType}
	}
	_, err := h.people.RecordTrainingWithCertificate(c.Request().Context(), actor(c), c.Param("email"), people.TrainingInput(in), cert)
	if ok, status, msg, fields := formFailure(err); ok {
		return refused(status, msg, fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Training recorded.")
	return seeOther(c, "/app/people/"+c.Param("email"))
}

type coursesPage struct {
	Courses []people.Course
	Name    string
	Months  string
	Errors  map[string]string
}

func (h *peopleHandlers) coursesPage(c echo.Context) error {
	return h.showCourses(c, http.StatusOK, coursesPage{Months: "12"})
}

func (h *peopleHandlers) showCourses(c echo.Context, status int, p coursesPage) error {
	var err error
	if p.Courses, err = h.people.Courses(c.Request().Context()); err != nil {
		return err
	}
	return h.render(c, status, "courses", "Training courses", p)
}

func (h *peopleHandlers) createCourse(c echo.Context) error {
	p := coursesPage{Name: c.FormValue("name"), Months: c.FormValue("recurrence_months")}
	months, err := strconv.Atoi(p.Months)
	if err != nil {
		p.Errors = map[string]string{"recurrence_months": "must be a number of months (0 for once)"}
		return h.showCourses(c, http.StatusUnprocessableEntity, p)
	}
	co, err := h.people.CreateCourse(c.Request().Context(), actor(c), people.CourseInput{Name: p.Name, RecurrenceMonths: &months})
	if e, ok := apperr.As(err); ok && (e.Kind == apperr.Invalid || e.Kind == apperr.Conflict) {
		p.Errors = e.Fields
		if e.Kind == apperr.Conflict {
			p.Errors = map[string]string{"name": e.Message}
		}
		return h.showCourses(c, statusOf(err), p)
	} else if err != nil {
		return err
	}
	h.flash(c, "Course "+co.Name+" added; every active employee now owes it.")
	return seeOther(c, "/app/training")
}

// trainingCertificate downloads a completion's certificate, as an
// attachment and never rendered inline.
func (h *peopleHandlers) trainingCertificate(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such certificate")
	}
	r, err := h.people.TrainingCertificate(c.Request().Context(), c.Param("email"), id)
	if err != nil {
		return err
	}
	return sendFile(c, h.files, r.CertificateSHA256, r.CertificateName, r.CertificateType)
}

// seesCheckDetails is the field-level rule for background checks.
func seesCheckDetails(u *auth.User) bool { return u != nil && u.Role.Allows(auth.Auditor) }

// setBackgroundCheck is the employee page's check form.
func (h *peopleHandlers) setBackgroundCheck(c echo.Context) error {
	var in checkRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	_, err := h.people.SetBackgroundCheck(c.Request().Context(), actor(c), c.Param("email"), people.CheckInput(in))
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		return h.showEmployee(c, http.StatusUnprocessableEntity, &in, e.Fields, nil)
	} else if err != nil {
		return err
	}
	h.flash(c, "Background check updated.")
	return seeOther(c, "/app/people/"+c.Param("email"))
}
