package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/labstack/echo/v4"
)

// The public vulnerability report form. Researchers often write from
// personal addresses, so unlike the other public forms it takes any email.

type reportFormPage struct {
	Input   advisory.ReportInput
	Errors  map[string]string
	Message string
	Done    *advisory.Report
}

func (h *advisoryHandlers) reportForm(c echo.Context) error {
	return h.renderPublic(c, http.StatusOK, "trust_security", "Report a security issue", reportFormPage{})
}

func (h *advisoryHandlers) submitReport(c echo.Context) error {
	var in advisory.ReportInput
	if err := c.Bind(&in); err != nil {
		return err
	}
	if err := h.admitPublic(c, formSecurityReport, in.Email); err != nil {
		return err
	}
	o, err := h.org.Get(c.Request().Context())
	if err != nil {
		return err
	}
	securityEmail := ""
	if o != nil {
		securityEmail = o.SecurityEmail
	}
	r, err := h.advisories.SubmitReport(c.Request().Context(), actor(c), in, securityEmail)
	if ok, status, msg, fields := formFailure(err); ok {
		return h.renderPublic(c, status, "trust_security", "Report a security issue", reportFormPage{Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_security", "Report received", reportFormPage{Done: r})
}

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
