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
	// Incident and Errors refill the refused incident form (Declaring) or
	// report a refused status change; Message is the problem as a whole.
	Declaring bool
	Incident  incidentRequest
	Errors    map[string]string
	Message   string
}

func (h *advisoryHandlers) advisoriesPage(c echo.Context) error {
	return h.showAdvisories(c, http.StatusOK, incidentRequest{}, nil, "")
}

func (h *advisoryHandlers) showAdvisories(c echo.Context, status int, in incidentRequest, errs map[string]string, msg string) error {
	ctx := c.Request().Context()
	list, err := h.advisories.List(ctx, advisory.Filter{})
	if err != nil {
		return err
	}
	incidents, err := h.advisories.Incidents(ctx)
	if err != nil {
		return err
	}
	return h.render(c, status, "advisories", "Advisories", advisoriesAdminPage{Advisories: list, Incidents: incidents,
		Declaring: c.Path() == "/app/incidents", Incident: in, Errors: errs, Message: msg})
}

// advisoryRequest is an advisory as the dashboard's form or a JSON body
// sends it. The form's incident_id is read by advisoryFormRequest, as it
// may be "new".
type advisoryRequest struct {
	IncidentID       int64            `json:"incident_id"`
	Title            string           `json:"title" form:"title"`
	Date             string           `json:"date" form:"date"`
	CVE              string           `json:"cve" form:"cve"`
	Severity         string           `json:"severity" form:"severity"`
	Status           string           `json:"status" form:"status"`
	Description      string           `json:"description" form:"description"`
	AffectedProducts string           `json:"affected_products" form:"affected_products"`
	AffectedRegions  string           `json:"affected_regions" form:"affected_regions"`
	Resolution       string           `json:"resolution" form:"resolution"`
	FixLinks         string           `json:"fix_links" form:"fix_links"`
	DiscoveredOn     string           `json:"discovered_on" form:"discovered_on"`
	ReportedOn       string           `json:"reported_on" form:"reported_on"`
	FixedOn          string           `json:"fixed_on" form:"fixed_on"`
	DisclosedOn      string           `json:"disclosed_on" form:"disclosed_on"`
	DeclareIncident  *incidentRequest `json:"declare_incident" form:"-"`
}

func (r advisoryRequest) toInput() advisory.Input {
	in := advisory.Input{IncidentID: r.IncidentID, Title: r.Title, Date: r.Date, CVE: r.CVE, Severity: r.Severity, Status: r.Status,
		Description: r.Description, AffectedProducts: r.AffectedProducts, AffectedRegions: r.AffectedRegions, Resolution: r.Resolution,
		FixLinks: r.FixLinks, DiscoveredOn: r.DiscoveredOn, ReportedOn: r.ReportedOn, FixedOn: r.FixedOn, DisclosedOn: r.DisclosedOn}
	if r.DeclareIncident != nil {
		declare := advisory.IncidentInput(*r.DeclareIncident)
		in.DeclareIncident = &declare
	}
	return in
}

// advisoryFormRequest is the dashboard's advisory form: the incident is an
// incident's ID, or "new" to declare one from the incident_* fields in the
// same step.
type advisoryFormRequest struct {
	Incident    string `form:"incident_id"`
	Advisory    advisoryRequest
	NewIncident incidentRequest
}

func (f advisoryFormRequest) toRequest() (advisoryRequest, error) {
	r := f.Advisory
	if f.Incident == "new" {
		r.DeclareIncident = &f.NewIncident
		return r, nil
	}
	if f.Incident != "" {
		id, err := strconv.ParseInt(f.Incident, 10, 64)
		if err != nil {
			return r, apperr.Field("form", "could not be read")
		}
		r.IncidentID = id
	}
	return r, nil
}

// incidentRequest is an incident as a form or a JSON body sends it; the
// form's names start with incident_, as the advisory form holds both.
type incidentRequest struct {
	Title    string `json:"title" form:"incident_title"`
	Severity string `json:"severity" form:"incident_severity"`
	Status   string `json:"status" form:"incident_status"`
	Owner    string `json:"owner" form:"incident_owner"`
	Summary  string `json:"summary" form:"incident_summary"`
}

// reportUpdateRequest is the triage of a report as a form or a JSON body
// sends it.
type reportUpdateRequest struct {
	Status     string `json:"status" form:"status"`
	Advisory   string `json:"advisory" form:"advisory"`
	RewardNote string `json:"reward_note" form:"reward_note"`
	Notes      string `json:"notes" form:"notes"`
}

type advisoryForm struct {
	Advisory                      *advisory.Advisory
	Input                         advisoryRequest
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
	return h.showAdvisoryForm(c, http.StatusOK, advisoryForm{Input: advisoryRequest{Date: h.timeNow().Format(time.DateOnly), Status: "reported", Severity: "medium", AffectedRegions: "both"}})
}

func (h *advisoryHandlers) advisoryPage(c echo.Context) error {
	a, err := h.advisories.Get(c.Request().Context(), c.Param("id"), false)
	if err != nil {
		return err
	}
	return h.showAdvisoryForm(c, http.StatusOK, advisoryForm{Advisory: a, Input: advisoryRequestOf(a)})
}

// advisoryRequestOf is the request that describes a, for the edit form.
func advisoryRequestOf(a *advisory.Advisory) advisoryRequest {
	in := advisory.InputOf(a)
	return advisoryRequest{IncidentID: in.IncidentID, Title: in.Title, Date: in.Date, CVE: in.CVE, Severity: in.Severity, Status: in.Status,
		Description: in.Description, AffectedProducts: in.AffectedProducts, AffectedRegions: in.AffectedRegions, Resolution: in.Resolution,
		FixLinks: in.FixLinks, DiscoveredOn: in.DiscoveredOn, ReportedOn: in.ReportedOn, FixedOn: in.FixedOn, DisclosedOn: in.DisclosedOn}
}

func (h *advisoryHandlers) saveAdvisory(c echo.Context) error {
	var form advisoryFormRequest
	if err := bind(c, &form); err != nil {
		return err
	}
	in, err := form.toRequest()
	if err != nil {
		return err
	}
	var a *advisory.Advisory
	var current *advisory.Advisory
	if id := c.Param("id"); id != "" {
		if current, err = h.advisories.Get(c.Request().Context(), id, false); err != nil {
			return err
		}
		a, err = h.advisories.Update(c.Request().Context(), actor(c), id, in.toInput())
	} else {
		a, err = h.advisories.Create(c.Request().Context(), actor(c), in.toInput())
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showAdvisoryForm(c, status, advisoryForm{Advisory: current, Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved "+a.PublicID+".")
	return seeOther(c, "/app/advisories/"+a.PublicID)
}

// publishAdvisory publishes a draft once confirmed; the first post shows
// whom publishing will email.
func (h *advisoryHandlers) publishAdvisory(c echo.Context) error {
	if !confirmed(c) {
		return h.publishConfirm(c)
	}
	a, err := h.advisories.Publish(c.Request().Context(), actor(c), c.Param("id"))
	if apperr.Is(err, apperr.Conflict) {
		h.flashProblem(c, err)
		return seeOther(c, "/app/advisories/"+c.Param("id"))
	} else if err != nil {
		return err
	}
	h.flash(c, a.PublicID+" is published; subscribers are emailed.")
	return seeOther(c, "/app/advisories/"+a.PublicID)
}

func (h *advisoryHandlers) publishConfirm(c echo.Context) error {
	plan, err := h.advisories.PlanPublish(c.Request().Context(), c.Param("id"))
	if apperr.Is(err, apperr.Conflict) {
		h.flash(c, err.Error())
		return seeOther(c, "/app/advisories/"+c.Param("id"))
	} else if err != nil {
		return err
	}
	a := plan.Advisory
	p := confirmPage{Title: "Publish " + a.PublicID, Cancel: "/app/advisories/" + a.PublicID, Back: a.PublicID,
		Action: "/app/advisories/" + a.PublicID + "/publish"}
	if plan.Subscribers == 0 {
		p.Lead = a.PublicID + " will be shown on the public advisories page; nobody subscribes to the trust page's notices, so no email will be sent."
		p.Button = "Publish"
	} else {
		p.Lead = a.PublicID + " will be shown on the public advisories page and " + plural(plan.Subscribers, "email", "emails") +
			" will be queued: one to each of the " + plural(plan.Subscribers, "confirmed subscriber", "confirmed subscribers") + " of the trust page."
		p.Button = "Publish and send " + plural(plan.Subscribers, "email", "emails")
	}
	p.Details = []string{"Title: " + a.Title, "Severity: " + a.Severity, "Status: " + a.Status}
	if a.CVE != nil {
		p.Details = append(p.Details, "CVE: "+*a.CVE)
	}
	p.Details = append(p.Details, "A published advisory cannot be unpublished; later status changes are emailed too.")
	return h.showConfirm(c, http.StatusOK, p)
}

func (h *advisoryHandlers) declareIncident(c echo.Context) error {
	var in incidentRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	_, err := h.advisories.DeclareIncident(c.Request().Context(), actor(c), advisory.IncidentInput(in))
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showAdvisories(c, status, in, fields, msg)
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
	var in incidentRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	_, err = h.advisories.UpdateIncident(c.Request().Context(), actor(c), id, advisory.IncidentInput(in))
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showAdvisories(c, status, incidentRequest{}, fields, msg)
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
	// Input is the triage form's values: the stored ones, or those of a
	// refused change.
	Input   reportUpdateRequest
	Errors  map[string]string
	Message string
}

func (h *advisoryHandlers) reportPage(c echo.Context) error {
	d, err := h.advisories.ReportByReference(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	in := reportUpdateRequest{Status: d.Status, Advisory: d.Advisory, RewardNote: d.RewardNote, Notes: d.Notes}
	return h.render(c, http.StatusOK, "report", d.Reference, reportPage{Report: d, Statuses: advisory.ReportStatuses, Input: in})
}

func (h *advisoryHandlers) updateReport(c echo.Context) error {
	var in reportUpdateRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	_, err := h.advisories.UpdateReport(c.Request().Context(), actor(c), c.Param("ref"), advisory.ReportUpdate(in))
	if ok, status, msg, fields := formFailure(err); ok {
		d, derr := h.advisories.ReportByReference(c.Request().Context(), c.Param("ref"))
		if derr != nil {
			return derr
		}
		return h.render(c, status, "report", d.Reference, reportPage{Report: d, Statuses: advisory.ReportStatuses, Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved.")
	return seeOther(c, "/app/reports/"+c.Param("ref"))
}
