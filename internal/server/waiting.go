package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/worklist"
	"github.com/labstack/echo/v4"
)

// waitingHandlers serve "waiting for you": what needs the signed-in
// person, across the registers.
type waitingHandlers struct {
	*kit
	worklist *worklist.Service
}

func (h *waitingHandlers) waitingPage(c echo.Context) error {
	u := currentUser(c)
	l, err := h.worklist.For(c.Request().Context(), u.ID, u.Role)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "waiting", "Waiting for you", l)
}
