package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/people"
	"github.com/labstack/echo/v4"
)

type employeeJSON struct {
	Email          string         `json:"email"`
	Name           string         `json:"name"`
	Title          string         `json:"title"`
	Department     string         `json:"department"`
	ManagerEmail   string         `json:"manager_email"`
	Country        string         `json:"country"`
	EmploymentType string         `json:"employment_type"`
	StartDate      string         `json:"start_date"`
	EndDate        string         `json:"end_date"`
	State          string         `json:"state,omitempty"`
	Required       *int           `json:"policies_required,omitempty"`
	Acknowledged   *int           `json:"policies_acknowledged,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	Obligations    []oblJSON      `json:"obligations,omitempty"`
	History        []ackJSON      `json:"acknowledgements,omitempty"`
	Check          *checkJSON     `json:"background_check,omitempty"`
	Training       []standingJSON `json:"training,omitempty"`
}

type oblJSON struct {
	Policy         string     `json:"policy"`
	Title          string     `json:"title"`
	MajorVersion   int        `json:"major_version"`
	Due            string     `json:"due"`
	Overdue        bool       `json:"overdue"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
}

type ackJSON struct {
	Policy         string    `json:"policy"`
	Version        string    `json:"version"`
	SHA256         string    `json:"sha256"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	Method         string    `json:"method"`
}

func toEmployeeJSON(e *people.Employee, sum *people.Summary) employeeJSON {
	in := people.InputOf(e)
	j := employeeJSON{Email: in.Email, Name: in.Name, Title: in.Title, Department: in.Department, ManagerEmail: in.ManagerEmail,
		Country: in.Country, EmploymentType: in.EmploymentType, StartDate: in.StartDate, EndDate: in.EndDate,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	if sum != nil {
		j.State, j.Required, j.Acknowledged = string(sum.State), &sum.Required, &sum.Acknowledged
	}
	return j
}

func (h *peopleHandlers) apiListEmployees(c echo.Context) error {
	offset, limit, err := pageQuery(c, 100, 1000)
	if err != nil {
		return err
	}
	page, err := h.people.ListPage(c.Request().Context(), people.ListFilter{Query: c.QueryParam("q"),
		Department: c.QueryParam("department"), State: people.State(c.QueryParam("state"))}, offset, limit)
	if err != nil {
		return err
	}
	resp := listResponse[employeeJSON]{Items: []employeeJSON{}}
	for i := range page.Rows {
		resp.Items = append(resp.Items, toEmployeeJSON(&page.Rows[i].Employee, &page.Rows[i].Summary))
	}
	if offset+limit < page.Total {
		resp.NextCursor = encodeCursor(offset + limit)
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *peopleHandlers) apiGetEmployee(c echo.Context) error {
	d, err := h.people.Detail(c.Request().Context(), c.Param("email"))
	if err != nil {
		return err
	}
	j := toEmployeeJSON(&d.Employee, &d.Summary)
	check := toCheckJSON(currentUser(c), &d.Check, d.CheckDue)
	j.Check = &check
	for _, st := range d.Training {
		j.Training = append(j.Training, toStandingJSON(st))
	}
	for _, o := range d.Obligations {
		oj := oblJSON{Policy: o.Slug, Title: o.Title, MajorVersion: o.Major, Due: o.Due.Format(time.DateOnly), Overdue: o.Overdue}
		if o.Acknowledged != nil {
			at := o.Acknowledged.AcknowledgedAt.UTC()
			oj.AcknowledgedAt = &at
		}
		j.Obligations = append(j.Obligations, oj)
	}
	for _, past := range d.History {
		j.History = append(j.History, ackJSON{Policy: past.Slug, Version: versionNumber(past.Major, past.Minor), SHA256: past.SHA256,
			AcknowledgedAt: past.AcknowledgedAt.UTC(), Method: past.Method})
	}
	return c.JSON(http.StatusOK, j)
}

func versionNumber(major, minor int) string {
	return strconv.Itoa(major) + "." + strconv.Itoa(minor)
}

func (h *peopleHandlers) apiCreateEmployee(c echo.Context) error {
	var in employeeRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	e, err := h.people.Create(c.Request().Context(), actor(c), people.Input(in))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/employees/"+e.Email)
	return c.JSON(http.StatusCreated, toEmployeeJSON(e, nil))
}

// employeePatchRequest is a PATCH body: only the fields it names change.
type employeePatchRequest struct {
	Email          *string `json:"email"`
	Name           *string `json:"name"`
	Title          *string `json:"title"`
	Department     *string `json:"department"`
	ManagerEmail   *string `json:"manager_email"`
	Country        *string `json:"country"`
	EmploymentType *string `json:"employment_type"`
	StartDate      *string `json:"start_date"`
	EndDate        *string `json:"end_date"`
}

func (h *peopleHandlers) apiUpdateEmployee(c echo.Context) error {
	var p employeePatchRequest
	if err := bind(c, &p); err != nil {
		return err
	}
	e, err := h.people.Update(c.Request().Context(), actor(c), c.Param("email"), people.Patch(p))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toEmployeeJSON(e, nil))
}

// apiUpsertEmployee is the idempotent PUT that HR-system syncs call: 201
// when it created the employee, 200 otherwise (with "changed").
func (h *peopleHandlers) apiUpsertEmployee(c echo.Context) error {
	var in employeeRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Email != "" && notify.NormalizeAddress(in.Email) != notify.NormalizeAddress(c.Param("email")) {
		return apperr.Field("email", "must match the email in the URL (or be left out)")
	}
	e, out, err := h.people.Upsert(c.Request().Context(), actor(c), c.Param("email"), people.Input(in))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if out == people.Created {
		status = http.StatusCreated
	}
	c.Response().Header().Set("X-Charter-Changed", boolString(out != people.Unchanged))
	return c.JSON(status, toEmployeeJSON(e, nil))
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

type ackRequest struct {
	Policy string `json:"policy"`
}

func (h *peopleHandlers) apiAcknowledge(c echo.Context) error {
	var req ackRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	a, err := h.people.Acknowledge(c.Request().Context(), actor(c), c.Param("email"), req.Policy, people.MethodAPI)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ackJSON{Policy: req.Policy, Version: versionNumber(a.Major, a.Minor), SHA256: a.SHA256,
		AcknowledgedAt: a.AcknowledgedAt.UTC(), Method: a.Method})
}

type courseJSON struct {
	Name             string `json:"name"`
	RecurrenceMonths int    `json:"recurrence_months"`
}

type standingJSON struct {
	Course        string `json:"course"`
	LastCompleted string `json:"last_completed,omitempty"`
	Expires       string `json:"expires,omitempty"`
	Due           string `json:"due,omitempty"`
	Current       bool   `json:"current"`
	Overdue       bool   `json:"overdue"`
}

func toStandingJSON(st people.CourseStanding) standingJSON {
	j := standingJSON{Course: st.Course.Name, LastCompleted: dateOf(st.LastCompleted), Expires: dateOf(st.Expires),
		Current: st.Current, Overdue: st.Overdue}
	if !st.Due.IsZero() {
		j.Due = st.Due.Format(time.DateOnly)
	}
	return j
}

func (h *peopleHandlers) apiListCourses(c echo.Context) error {
	cs, err := h.people.Courses(c.Request().Context())
	if err != nil {
		return err
	}
	resp := listResponse[courseJSON]{Items: []courseJSON{}}
	for _, co := range cs {
		resp.Items = append(resp.Items, courseJSON{Name: co.Name, RecurrenceMonths: co.RecurrenceMonths})
	}
	return c.JSON(http.StatusOK, resp)
}

type courseRequest struct {
	Name             string `json:"name"`
	RecurrenceMonths *int   `json:"recurrence_months"`
}

func (h *peopleHandlers) apiCreateCourse(c echo.Context) error {
	var req courseRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	co, err := h.people.CreateCourse(c.Request().Context(), actor(c), people.CourseInput(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, courseJSON{Name: co.Name, RecurrenceMonths: co.RecurrenceMonths})
}

type completionJSON struct {
	Course      string `json:"course"`
	CompletedOn string `json:"completed_on"`
	ExpiresOn   string `json:"expires_on,omitempty"`
	Source      string `json:"source"`
}

func (h *peopleHandlers) apiRecordTraining(c echo.Context) error {
	var in trainingRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Source == "" {
		in.Source = "api"
	}
	r, err := h.people.RecordTraining(c.Request().Context(), actor(c), c.Param("email"), people.TrainingInput(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, completionJSON{Course: in.Course, CompletedOn: r.CompletedOn.Format(time.DateOnly),
		ExpiresOn: dateOf(r.ExpiresOn), Source: r.Source})
}

// checkJSON is an employee's background check as a role may see it:
// admins, editors and auditors see the status and dates; viewers see only
// whether it is complete (a field-level rule).
type checkJSON struct {
	Complete        bool       `json:"complete"`
	Status          string     `json:"status,omitempty"`
	Provider        string     `json:"provider,omitempty"`
	InitiatedOn     string     `json:"initiated_on,omitempty"`
	CompletedOn     string     `json:"completed_on,omitempty"`
	ExemptionReason string     `json:"exemption_reason,omitempty"`
	Due             string     `json:"due,omitempty"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`
}

func toCheckJSON(u *auth.User, c *people.BackgroundCheck, due time.Time) checkJSON {
	j := checkJSON{Complete: c.Status.Complete()}
	if !seesCheckDetails(u) {
		return j
	}
	j.Status, j.Provider, j.ExemptionReason = string(c.Status), c.Provider, c.ExemptionReason
	j.InitiatedOn, j.CompletedOn, j.Due = dateOf(c.InitiatedOn), dateOf(c.CompletedOn), due.Format(time.DateOnly)
	if !c.UpdatedAt.IsZero() {
		at := c.UpdatedAt.UTC()
		j.UpdatedAt = &at
	}
	return j
}

func (h *peopleHandlers) apiSetBackgroundCheck(c echo.Context) error {
	var in checkRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	bc, err := h.people.SetBackgroundCheck(c.Request().Context(), actor(c), c.Param("email"), people.CheckInput(in))
	if err != nil {
		return err
	}
	d, err := h.people.Detail(c.Request().Context(), c.Param("email"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCheckJSON(currentUser(c), bc, d.CheckDue))
}
