package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/dsar"
	"github.com/labstack/echo/v4"
)

func (h *dsarHandlers) apiListDSAR(c echo.Context) error {
	list, err := h.dsar.List(c.Request().Context(), c.QueryParam("open") == "true")
	if err != nil {
		return err
	}
	out := []dsarJSON{}
	for i := range list {
		out = append(out, toDSARJSON(&list[i], h.timeNow()))
	}
	return c.JSON(http.StatusOK, listResponse[dsarJSON]{Items: out})
}

type dsarJSON struct {
	*dsar.Request
	Deadline    string `json:"deadline"`
	AckDeadline string `json:"acknowledgement_deadline,omitempty"`
	Timing      string `json:"timing,omitempty"`
}

func toDSARJSON(r *dsar.Request, now time.Time) dsarJSON {
	j := dsarJSON{Request: r, Deadline: r.Deadline().Format(time.DateOnly)}
	if d, ok := r.AckDeadline(); ok {
		j.AckDeadline = d.Format(time.DateOnly)
	}
	if r.Open() {
		j.Timing = dsar.Timing(r.Deadline(), now)
	}
	return j
}

func (h *dsarHandlers) apiCreateDSAR(c echo.Context) error {
	var in dsar.Input
	if err := bindBody(c, &in); err != nil {
		return err
	}
	r, err := h.dsar.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toDSARJSON(r, h.timeNow()))
}

func (h *dsarHandlers) apiGetDSAR(c echo.Context) error {
	r, err := h.dsar.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDSARJSON(r, h.timeNow()))
}

func (h *dsarHandlers) apiActOnDSAR(c echo.Context) error {
	var a dsar.Action
	if err := bindBody(c, &a); err != nil {
		return err
	}
	r, err := h.dsar.Act(c.Request().Context(), actor(c), c.Param("ref"), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDSARJSON(r, h.timeNow()))
}

func (h *dsarHandlers) apiDSARMetrics(c echo.Context) error {
	year, err := yearParam(c, h.timeNow())
	if err != nil {
		return err
	}
	m, err := h.dsar.YearMetrics(c.Request().Context(), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}
