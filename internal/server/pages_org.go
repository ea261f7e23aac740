package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

type organizationPage struct {
	Org *org.Organization // nil until the seed or an admin sets it
}

func (s *Server) organizationPage(c echo.Context) error {
	o, err := s.org.Get(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "organization", "Organization", organizationPage{Org: o})
}
