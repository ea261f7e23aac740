package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/people"
	"github.com/labstack/echo/v4"
)

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
	RecurrenceMonths *int   `json:"recurrence_months" validate:"required"`
}

func (h *peopleHandlers) apiCreateCourse(c echo.Context) error {
	var req courseRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	co, err := h.people.CreateCourse(c.Request().Context(), actor(c), req.Name, *req.RecurrenceMonths)
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
	var in people.TrainingInput
	if err := (&echo.DefaultBinder{}).BindBody(c, &in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "the request body is not valid JSON for this endpoint")
	}
	if in.Source == "" {
		in.Source = "api"
	}
	r, err := h.people.RecordTraining(c.Request().Context(), actor(c), c.Param("email"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, completionJSON{Course: in.Course, CompletedOn: r.CompletedOn.Format(time.DateOnly),
		ExpiresOn: dateOf(r.ExpiresOn), Source: r.Source})
}

// recordTraining is the employee page's training form, with an optional
// certificate file.
func (h *peopleHandlers) recordTraining(c echo.Context) error {
	in := people.TrainingInput{Course: c.FormValue("course"), CompletedOn: c.FormValue("completed_on"), Source: c.FormValue("source")}
	var cert *people.Certificate
	if fh, err := c.FormFile("certificate"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		stored, err := h.files.Put(files.Certificate, fh.Filename, f)
		f.Close()
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
			h.flash(c, "Training not recorded: certificate "+e.Fields["file"]+".")
			return seeOther(c, "/app/people/"+c.Param("email"))
		} else if err != nil {
			return err
		}
		cert = &people.Certificate{SHA256: stored.SHA256, Name: stored.Name, ContentType: stored.ContentType}
	}
	_, err := h.people.RecordTrainingWithCertificate(c.Request().Context(), actor(c), c.Param("email"), in, cert)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		h.flash(c, "Training not recorded: "+e.Error())
		return seeOther(c, "/app/people/"+c.Param("email"))
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
	co, err := h.people.CreateCourse(c.Request().Context(), actor(c), p.Name, months)
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
