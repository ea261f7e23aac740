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
func (s *Server) accessReviewPage(c echo.Context) error {
	return s.showAccessReview(c, http.StatusOK, nil)
}

func (s *Server) showAccessReview(c echo.Context, status int, errs map[string]string) error {
	d, err := s.users.AccessReviewPage(c.Request().Context())
	if err != nil {
		return err
	}
	now := s.timeNow()
	return s.render(c, status, "access_review", "Access review", accessReviewPage{Data: d, Now: now, Errors: errs,
		From: now.AddDate(0, -3, 0).Format(time.DateOnly), To: now.Format(time.DateOnly)})
}

func (s *Server) recordAccessReview(c echo.Context) error {
	_, err := s.users.RecordAccessReview(c.Request().Context(), actor(c), c.FormValue("note"))
	if ok, status, _, fields := formFailure(err); ok {
		return s.showAccessReview(c, status, fields)
	} else if err != nil {
		return err
	}
	s.flash(c, "Review recorded.")
	return seeOther(c, "/app/access-review")
}
