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

// waitingFor returns the signed-in user's work list.
func waitingFor(c echo.Context, w *worklist.Service) (*worklist.List, error) {
	u := currentUser(c)
	return w.For(c.Request().Context(), u.ID, u.Role)
}

func (h *waitingHandlers) waitingPage(c echo.Context) error {
	l, err := waitingFor(c, h.worklist)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "waiting", "Waiting for you", l)
}
