package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/labstack/echo/v4"
)

func (h *advisoryHandlers) apiListAdvisories(c echo.Context) error {
	list, err := h.advisories.List(c.Request().Context(), advisory.Filter{})
	if err != nil {
		return err
	}
	resp := listResponse[advisoryListItemJSON]{Items: []advisoryListItemJSON{}}
	for i := range list {
		resp.Items = append(resp.Items, toAdvisoryListItemJSON(&list[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

// advisoryFieldsJSON are the fields an advisory has in the list and on
// its own.
type advisoryFieldsJSON struct {
	ID              string     `json:"id"`
	IncidentID      int64      `json:"incident_id"`
	Title           string     `json:"title"`
	Date            time.Time  `json:"date"`
	CVE             *string    `json:"cve"`
	Severity        string     `json:"severity"`
	Status          string     `json:"status"`
	Description     string     `json:"description"`
	AffectedRegions string     `json:"affected_regions"`
	Resolution      string     `json:"resolution"`
	DiscoveredOn    *time.Time `json:"discovered_on"`
	ReportedOn      *time.Time `json:"reported_on"`
	FixedOn         *time.Time `json:"fixed_on"`
	DisclosedOn     *time.Time `json:"disclosed_on"`
	PublishedAt     *time.Time `json:"published_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

func toAdvisoryFieldsJSON(a *advisory.Advisory) advisoryFieldsJSON {
	return advisoryFieldsJSON{ID: a.PublicID, IncidentID: a.IncidentID, Title: a.Title, Date: a.AdvisoryDate, CVE: a.CVE,
		Severity: a.Severity, Status: a.Status, Description: a.Description, AffectedRegions: a.AffectedRegions,
		Resolution: a.Resolution, DiscoveredOn: a.DiscoveredOn, ReportedOn: a.ReportedOn, FixedOn: a.FixedOn,
		DisclosedOn: a.DisclosedOn, PublishedAt: a.PublishedAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// advisoryListItemJSON is an advisory in the list, where the affected
// products are the text as typed, one per line.
type advisoryListItemJSON struct {
	advisoryFieldsJSON
	AffectedProducts string `json:"affected_products"`
}

func toAdvisoryListItemJSON(a *advisory.Advisory) advisoryListItemJSON {
	return advisoryListItemJSON{advisoryFieldsJSON: toAdvisoryFieldsJSON(a), AffectedProducts: a.AffectedProducts}
}

// advisoryJSON is one advisory, its lists as arrays.
type advisoryJSON struct {
	advisoryFieldsJSON
	FixLinks         []string `json:"fix_links"`
	AffectedProducts []string `json:"affected_products"`
	Published        bool     `json:"published"`
}

func toAdvisoryJSON(a *advisory.Advisory) advisoryJSON {
	return advisoryJSON{advisoryFieldsJSON: toAdvisoryFieldsJSON(a), FixLinks: orEmpty(a.Links()),
		AffectedProducts: orEmpty(a.Products()), Published: a.Published()}
}

// incidentJSON is a declared security incident.
type incidentJSON struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Severity   string     `json:"severity"`
	DeclaredAt time.Time  `json:"declared_at"`
	Status     string     `json:"status"`
	ResolvedAt *time.Time `json:"resolved_at"`
	Owner      string     `json:"owner"`
	Summary    string     `json:"summary"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

func toIncidentJSON(i *advisory.Incident) incidentJSON {
	return incidentJSON{ID: i.ID, Title: i.Title, Severity: i.Severity, DeclaredAt: i.DeclaredAt, Status: i.Status,
		ResolvedAt: i.ResolvedAt, Owner: i.Owner, Summary: i.Summary, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt}
}

// reportJSON is a vulnerability report from the public form.
type reportJSON struct {
	Reference  string    `json:"reference"`
	Email      string    `json:"email"`
	Summary    string    `json:"summary"`
	Details    string    `json:"details"`
	Steps      string    `json:"steps"`
	Product    string    `json:"product"`
	Status     string    `json:"status"`
	RewardNote string    `json:"reward_note"`
	Notes      string    `json:"notes"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toReportJSON(r *advisory.Report) reportJSON {
	return reportJSON{Reference: r.Reference, Email: r.Email, Summary: r.Summary, Details: r.Details, Steps: r.Steps,
		Product: r.Product, Status: r.Status, RewardNote: r.RewardNote, Notes: r.Notes, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// reportDetailJSON is one report with the ID of the advisory it led to
// (empty when none).
type reportDetailJSON struct {
	reportJSON
	Advisory string `json:"advisory"`
}

func (h *advisoryHandlers) apiGetAdvisory(c echo.Context) error {
	a, err := h.advisories.Get(c.Request().Context(), c.Param("id"), false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdvisoryJSON(a))
}

func (h *advisoryHandlers) apiCreateAdvisory(c echo.Context) error {
	var in advisoryRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	a, err := h.advisories.Create(c.Request().Context(), actor(c), in.toInput())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/advisories/"+a.PublicID)
	return c.JSON(http.StatusCreated, toAdvisoryJSON(a))
}

func (h *advisoryHandlers) apiUpdateAdvisory(c echo.Context) error {
	var in advisoryRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	a, err := h.advisories.Update(c.Request().Context(), actor(c), c.Param("id"), in.toInput())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdvisoryJSON(a))
}

func (h *advisoryHandlers) apiPublishAdvisory(c echo.Context) error {
	a, err := h.advisories.Publish(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdvisoryJSON(a))
}

func (h *advisoryHandlers) apiListIncidents(c echo.Context) error {
	list, err := h.advisories.Incidents(c.Request().Context())
	if err != nil {
		return err
	}
	resp := listResponse[incidentJSON]{Items: []incidentJSON{}}
	for i := range list {
		resp.Items = append(resp.Items, toIncidentJSON(&list[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *advisoryHandlers) apiDeclareIncident(c echo.Context) error {
	var in incidentRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	i, err := h.advisories.DeclareIncident(c.Request().Context(), actor(c), advisory.IncidentInput(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toIncidentJSON(i))
}

func (h *advisoryHandlers) apiUpdateIncident(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such incident")
	}
	var in incidentRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	i, err := h.advisories.UpdateIncident(c.Request().Context(), actor(c), id, advisory.IncidentInput(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toIncidentJSON(i))
}

func (h *advisoryHandlers) apiListReports(c echo.Context) error {
	list, err := h.advisories.Reports(c.Request().Context(), c.QueryParam("status"))
	if err != nil {
		return err
	}
	resp := listResponse[reportJSON]{Items: []reportJSON{}}
	for i := range list {
		resp.Items = append(resp.Items, toReportJSON(&list[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *advisoryHandlers) apiGetReport(c echo.Context) error {
	d, err := h.advisories.ReportByReference(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, reportDetailJSON{reportJSON: toReportJSON(&d.Report), Advisory: d.Advisory})
}

func (h *advisoryHandlers) apiUpdateReport(c echo.Context) error {
	var in reportUpdateRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if _, err := h.advisories.UpdateReport(c.Request().Context(), actor(c), c.Param("ref"), advisory.ReportUpdate(in)); err != nil {
		return err
	}
	return h.apiGetReport(c)
}
