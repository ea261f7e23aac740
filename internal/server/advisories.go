package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

// advisoryHandlers serve security advisories, vulnerability reports (the
// public form included) and incidents.
type advisoryHandlers struct {
	*kit
	advisories *advisory.Service
	org        *org.Service
}

// Public pages: the seed's advisories page, one page per advisory in the
// seed's template, OSV JSON and Atom. Drafts never appear.

// Dashboard.

type advisoriesAdminPage struct {
	Advisories []advisory.Advisory
	Incidents  []advisory.Incident
	Errors     map[string]string
}

func (h *advisoryHandlers) advisoriesPage(c echo.Context) error {
	return h.showAdvisories(c, http.StatusOK, nil)
}

func (h *advisoryHandlers) showAdvisories(c echo.Context, status int, errs map[string]string) error {
	ctx := c.Request().Context()
	list, err := h.advisories.List(ctx, advisory.Filter{})
	if err != nil {
		return err
	}
	incidents, err := h.advisories.Incidents(ctx)
	if err != nil {
		return err
	}
	return h.render(c, status, "advisories", "Advisories", advisoriesAdminPage{Advisories: list, Incidents: incidents, Errors: errs})
}

type advisoryForm struct {
	Advisory                      *advisory.Advisory
	Input                         advisory.Input
	Incidents                     []advisory.Incident
	Revisions                     []advisory.Revision
	Errors                        map[string]string
	Message                       string
	Severities, Statuses, Regions []string
}

func (h *advisoryHandlers) showAdvisoryForm(c echo.Context, status int, f advisoryForm) error {
	ctx := c.Request().Context()
	var err error
	if f.Incidents, err = h.advisories.Incidents(ctx); err != nil {
		return err
	}
	if f.Advisory != nil {
		if f.Revisions, err = h.advisories.Revisions(ctx, f.Advisory.ID); err != nil {
			return err
		}
	}
	f.Severities, f.Statuses, f.Regions = advisory.Severities, advisory.Statuses, advisory.Regions
	title := "New advisory"
	if f.Advisory != nil {
		title = f.Advisory.PublicID
	}
	return h.render(c, status, "advisory_form", title, f)
}

func (h *advisoryHandlers) newAdvisoryForm(c echo.Context) error {
	return h.showAdvisoryForm(c, http.StatusOK, advisoryForm{Input: advisory.Input{Date: h.timeNow().Format(time.DateOnly), Status: "reported", Severity: "medium", AffectedRegions: "both"}})
}

func (h *advisoryHandlers) advisoryPage(c echo.Context) error {
	a, err := h.advisories.Get(c.Request().Context(), c.Param("id"), false)
	if err != nil {
		return err
	}
	return h.showAdvisoryForm(c, http.StatusOK, advisoryForm{Advisory: a, Input: advisory.InputOf(a)})
}

// advisoryInput reads the form; "new" as the incident declares one from
// the incident_* fields in the same step.
func advisoryInput(c echo.Context) (advisory.Input, error) {
	var in advisory.Input
	declare := c.FormValue("incident_id") == "new"
	if declare {
		c.Request().Form.Set("incident_id", "0")
	}
	if err := c.Bind(&in); err != nil {
		return in, apperr.Field("form", "could not be read")
	}
	if declare {
		in.IncidentID = 0
		var inc advisory.IncidentInput
		if err := c.Bind(&inc); err != nil {
			return in, apperr.Field("form", "could not be read")
		}
		in.DeclareIncident = &inc
	}
	return in, nil
}

func (h *advisoryHandlers) saveAdvisory(c echo.Context) error {
	in, err := advisoryInput(c)
	if err != nil {
		return err
	}
	var a *advisory.Advisory
	var current *advisory.Advisory
	if id := c.Param("id"); id != "" {
		if current, err = h.advisories.Get(c.Request().Context(), id, false); err != nil {
			return err
		}
		a, err = h.advisories.Update(c.Request().Context(), actor(c), id, in)
	} else {
		a, err = h.advisories.Create(c.Request().Context(), actor(c), in)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showAdvisoryForm(c, status, advisoryForm{Advisory: current, Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved "+a.PublicID+".")
	return seeOther(c, "/app/advisories/"+a.PublicID)
}

func (h *advisoryHandlers) publishAdvisory(c echo.Context) error {
	a, err := h.advisories.Publish(c.Request().Context(), actor(c), c.Param("id"))
	if apperr.Is(err, apperr.Conflict) {
		h.flash(c, err.Error())
		return seeOther(c, "/app/advisories/"+c.Param("id"))
	} else if err != nil {
		return err
	}
	h.flash(c, a.PublicID+" is published; subscribers are emailed.")
	return seeOther(c, "/app/advisories/"+a.PublicID)
}

func (h *advisoryHandlers) declareIncident(c echo.Context) error {
	var in advisory.IncidentInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	_, err := h.advisories.DeclareIncident(c.Request().Context(), actor(c), in)
	if ok, status, _, fields := formFailure(err); ok {
		return h.showAdvisories(c, status, fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Incident declared.")
	return seeOther(c, "/app/advisories")
}

func (h *advisoryHandlers) updateIncident(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such incident")
	}
	var in advisory.IncidentInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	_, err = h.advisories.UpdateIncident(c.Request().Context(), actor(c), id, in)
	if ok, status, _, fields := formFailure(err); ok {
		return h.showAdvisories(c, status, fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Incident updated.")
	return seeOther(c, "/app/advisories")
}

// API.

type reportsPage struct {
	Reports  []advisory.Report
	Status   string
	Statuses []string
}

func (h *advisoryHandlers) reportsPage(c echo.Context) error {
	status := c.QueryParam("status")
	list, err := h.advisories.Reports(c.Request().Context(), status)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "reports", "Vulnerability reports", reportsPage{Reports: list, Status: status, Statuses: advisory.ReportStatuses})
}

type reportPage struct {
	Report   *advisory.ReportDetail
	Statuses []string
	Errors   map[string]string
	Message  string
}

func (h *advisoryHandlers) reportPage(c echo.Context) error {
	d, err := h.advisories.ReportByReference(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "report", d.Reference, reportPage{Report: d, Statuses: advisory.ReportStatuses})
}

func (h *advisoryHandlers) updateReport(c echo.Context) error {
	var in advisory.ReportUpdate
	if err := c.Bind(&in); err != nil {
		return err
	}
	_, err := h.advisories.UpdateReport(c.Request().Context(), actor(c), c.Param("ref"), in)
	if ok, status, msg, fields := formFailure(err); ok {
		d, derr := h.advisories.ReportByReference(c.Request().Context(), c.Param("ref"))
		if derr != nil {
			return derr
		}
		return h.render(c, status, "report", d.Reference, reportPage{Report: d, Statuses: advisory.ReportStatuses, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved.")
	return seeOther(c, "/app/reports/"+c.Param("ref"))
}
