package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
)

type accessReviewPage struct {
	Data     *auth.AccessReviewData
	Now      time.Time
	From, To string
	Errors   map[string]string
}

// accessReviewPage shows who can sign in and with what, and the reviews
// recorded so far; the CSV is the access_review export.
func (h *userHandlers) accessReviewPage(c echo.Context) error {
	return h.showAccessReview(c, http.StatusOK, nil)
}

func (h *userHandlers) showAccessReview(c echo.Context, status int, errs map[string]string) error {
	d, err := h.users.AccessReviewPage(c.Request().Context())
	if err != nil {
		return err
	}
	now := h.timeNow()
	return h.render(c, status, "access_review", "Access review", accessReviewPage{Data: d, Now: now, Errors: errs,
		From: now.AddDate(0, -3, 0).Format(time.DateOnly), To: now.Format(time.DateOnly)})
}

func (h *userHandlers) recordAccessReview(c echo.Context) error {
	_, err := h.users.RecordAccessReview(c.Request().Context(), actor(c), c.FormValue("note"))
	if ok, status, _, fields := formFailure(err); ok {
		return h.showAccessReview(c, status, fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Review recorded.")
	return seeOther(c, "/app/access-review")
}
