package server

import (
	"net/http"
	"strconv"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/labstack/echo/v4"
)

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

func (h *advisoryHandlers) apiListReports(c echo.Context) error {
	list, err := h.advisories.Reports(c.Request().Context(), c.QueryParam("status"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []advisory.Report{}
	}
	return c.JSON(http.StatusOK, listResponse[advisory.Report]{Items: list})
}

type reportJSON struct {
	advisory.Report
	Advisory string `json:"advisory"`
}

func (h *advisoryHandlers) apiGetReport(c echo.Context) error {
	d, err := h.advisories.ReportByReference(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, reportJSON{Report: d.Report, Advisory: d.Advisory})
}

func (h *advisoryHandlers) apiUpdateReport(c echo.Context) error {
	var in advisory.ReportUpdate
	if err := bindBody(c, &in); err != nil {
		return err
	}
	if _, err := h.advisories.UpdateReport(c.Request().Context(), actor(c), c.Param("ref"), in); err != nil {
		return err
	}
	return h.apiGetReport(c)
}
