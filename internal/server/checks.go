package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/people"
	"github.com/labstack/echo/v4"
)

// checkJSON is an employee's background check as a role may see it:
// admins, editors and auditors see the status and dates; viewers see only
// whether it is complete (a field-level rule).
type checkJSON struct {
	Complete        bool       `json:"complete"`
	Status          string     `json:"status,omitempty"`
	Provider        string     `json:"provider,omitempty"`
	InitiatedOn     string     `json:"initiated_on,omitempty"`
	CompletedOn     string     `json:"completed_on,omitempty"`
	ExemptionReason string     `json:"exemption_reason,omitempty"`
	Due             string     `json:"due,omitempty"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`
}

// seesCheckDetails is the field-level rule for background checks.
func seesCheckDetails(u *auth.User) bool { return u != nil && u.Role.Allows(auth.Auditor) }

func dateOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func toCheckJSON(u *auth.User, c *people.BackgroundCheck, due time.Time) checkJSON {
	j := checkJSON{Complete: c.Status.Complete()}
	if !seesCheckDetails(u) {
		return j
	}
	j.Status, j.Provider, j.ExemptionReason = string(c.Status), c.Provider, c.ExemptionReason
	j.InitiatedOn, j.CompletedOn, j.Due = dateOf(c.InitiatedOn), dateOf(c.CompletedOn), due.Format(time.DateOnly)
	if !c.UpdatedAt.IsZero() {
		at := c.UpdatedAt.UTC()
		j.UpdatedAt = &at
	}
	return j
}

func (h *peopleHandlers) apiSetBackgroundCheck(c echo.Context) error {
	var in people.CheckInput
	if err := (&echo.DefaultBinder{}).BindBody(c, &in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "the request body is not valid JSON for this endpoint")
	}
	bc, err := h.people.SetBackgroundCheck(c.Request().Context(), actor(c), c.Param("email"), in)
	if err != nil {
		return err
	}
	d, err := h.people.Detail(c.Request().Context(), c.Param("email"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCheckJSON(currentUser(c), bc, d.CheckDue))
}

// setBackgroundCheck is the employee page's check form.
func (h *peopleHandlers) setBackgroundCheck(c echo.Context) error {
	var in people.CheckInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	_, err := h.people.SetBackgroundCheck(c.Request().Context(), actor(c), c.Param("email"), in)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		return h.showEmployee(c, http.StatusUnprocessableEntity, &in, e.Fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Background check updated.")
	return seeOther(c, "/app/people/"+c.Param("email"))
}
