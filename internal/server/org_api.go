package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

func (h *orgHandlers) apiGetOrganization(c echo.Context) error {
	o, err := h.org.Get(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, org.InputOf(o))
}

func (h *orgHandlers) apiUpdateOrganization(c echo.Context) error {
	var in org.ProfileInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	o, err := h.org.Update(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, org.InputOf(o))
}
