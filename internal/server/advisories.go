package server

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

// advisoryHandlers serve security advisories, vulnerability reports (the public form included) and incidents.
type advisoryHandlers struct {
	*kit
	advisories *advisory.Service
	org        *org.Service
}

// Public pages: the seed's advisories page, one page per advisory in the
// seed's template, OSV JSON and Atom. Drafts never appear.

type advisoriesPublicPage struct {
	Org     *org.Organization
	Current []advisory.Advisory
	Past    []advisory.Advisory
}

func (h *trustHandlers) publicAdvisories(ctx context.Context) (*advisoriesPublicPage, error) {
	o, err := h.org.Get(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.advisories.List(ctx, advisory.Filter{PublishedOnly: true})
	if err != nil {
		return nil, err
	}
	p := &advisoriesPublicPage{Org: o}
	for _, a := range list {
		if a.Current() {
			p.Current = append(p.Current, a)
		} else {
			p.Past = append(p.Past, a)
		}
	}
	return p, nil
}

func (h *trustHandlers) trustAdvisories(c echo.Context) error {
	return h.cached(c, "advisories", echo.MIMETextHTMLCharsetUTF8, func(ctx context.Context) ([]byte, error) {
		p, err := h.publicAdvisories(ctx)
		if err != nil {
			return nil, err
		}
		return h.renderPublicBytes("trust_advisories", "Security advisories & CVEs", companyName(p.Org), "", p)
	})
}

type advisoryPublicPage struct {
	Advisory    *advisory.Advisory
	Description template.HTML
	Resolution  template.HTML
}

func (h *trustHandlers) trustAdvisory(c echo.Context) error {
	id := c.Param("id")
	return h.cached(c, "advisory/"+id, echo.MIMETextHTMLCharsetUTF8, func(ctx context.Context) ([]byte, error) {
		a, err := h.advisories.Get(ctx, id, true)
		if err != nil {
			return nil, err
		}
		o, err := h.org.Get(ctx)
		if err != nil {
			return nil, err
		}
		p := advisoryPublicPage{Advisory: a}
		if p.Description, err = h.renderMarkdown(a.Description); err != nil {
			return nil, err
		}
		if p.Resolution, err = h.renderMarkdown(a.Resolution); err != nil {
			return nil, err
		}
		return h.renderPublicBytes("trust_advisory", a.Title, companyName(o), "", p)
	})
}

func (h *trustHandlers) trustAdvisoriesJSON(c echo.Context) error {
	return h.cached(c, "advisories.json", echo.MIMEApplicationJSON, func(ctx context.Context) ([]byte, error) {
		list, err := h.advisories.List(ctx, advisory.Filter{PublishedOnly: true})
		if err != nil {
			return nil, err
		}
		out := []advisory.OSV{}
		for i := range list {
			out = append(out, list[i].ToOSV(h.absolute("/trust/advisories/"+list[i].PublicID)))
		}
		return json.MarshalIndent(out, "", "  ")
	})
}

func (h *trustHandlers) trustAdvisoriesAtom(c echo.Context) error {
	return h.cached(c, "advisories.atom", "application/atom+xml; charset=utf-8", func(ctx context.Context) ([]byte, error) {
		o, err := h.org.Get(ctx)
		if err != nil {
			return nil, err
		}
		list, err := h.advisories.List(ctx, advisory.Filter{PublishedOnly: true})
		if err != nil {
			return nil, err
		}
		page := h.absolute("/trust/advisories")
		feed := atomFeed{ID: h.absolute("/trust/advisories.atom"), Title: companyName(o) + " security advisories",
			Links:  []atomLink{{Href: h.absolute("/trust/advisories.atom"), Rel: "self", Type: "application/atom+xml"}, {Href: page, Rel: "alternate", Type: "text/html"}},
			Author: atomAuthor{Name: companyName(o)}}
		var newest time.Time
		for _, a := range list {
			cve := ""
			if a.CVE != nil {
				cve = " (" + *a.CVE + ")"
			}
			feed.Entries = append(feed.Entries, atomEntry{ID: fmt.Sprintf("tag:%s:advisory:%s", h.hostTag(), a.PublicID),
				Title: a.Title + cve + " — " + a.Severity + ", " + a.Status, Updated: a.UpdatedAt.UTC().Format(time.RFC3339),
				Link: atomLink{Href: h.absolute("/trust/advisories/" + a.PublicID)}, Summary: firstLine(a.Description)})
			newest = later(newest, a.UpdatedAt)
		}
		if newest.IsZero() && o != nil {
			newest = o.UpdatedAt
		}
		feed.Updated = newest.UTC().Format(time.RFC3339)
		return xmlDocument(feed)
	})
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

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

func (h *advisoryHandlers) apiListAdvisories(c echo.Context) error {
	list, err := h.advisories.List(c.Request().Context(), advisory.Filter{})
	if err != nil {
		return err
	}
	if list == nil {
		list = []advisory.Advisory{}
	}
	return c.JSON(http.StatusOK, listResponse[advisory.Advisory]{Items: list})
}

type advisoryJSON struct {
	*advisory.Advisory
	FixLinks         []string `json:"fix_links"`
	AffectedProducts []string `json:"affected_products"`
	Published        bool     `json:"published"`
}

func toAdvisoryJSON(a *advisory.Advisory) advisoryJSON {
	j := advisoryJSON{Advisory: a, FixLinks: a.Links(), AffectedProducts: a.Products(), Published: a.Published()}
	if j.FixLinks == nil {
		j.FixLinks = []string{}
	}
	if j.AffectedProducts == nil {
		j.AffectedProducts = []string{}
	}
	return j
}

func (h *advisoryHandlers) apiGetAdvisory(c echo.Context) error {
	a, err := h.advisories.Get(c.Request().Context(), c.Param("id"), false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdvisoryJSON(a))
}

func (h *advisoryHandlers) apiCreateAdvisory(c echo.Context) error {
	var in advisory.Input
	if err := bindBody(c, &in); err != nil {
		return err
	}
	a, err := h.advisories.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/advisories/"+a.PublicID)
	return c.JSON(http.StatusCreated, toAdvisoryJSON(a))
}

func (h *advisoryHandlers) apiUpdateAdvisory(c echo.Context) error {
	var in advisory.Input
	if err := bindBody(c, &in); err != nil {
		return err
	}
	a, err := h.advisories.Update(c.Request().Context(), actor(c), c.Param("id"), in)
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
	if list == nil {
		list = []advisory.Incident{}
	}
	return c.JSON(http.StatusOK, listResponse[advisory.Incident]{Items: list})
}

func (h *advisoryHandlers) apiDeclareIncident(c echo.Context) error {
	var in advisory.IncidentInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	i, err := h.advisories.DeclareIncident(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, i)
}

func (h *advisoryHandlers) apiUpdateIncident(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such incident")
	}
	var in advisory.IncidentInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	i, err := h.advisories.UpdateIncident(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, i)
}
