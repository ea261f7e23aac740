package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/labstack/echo/v4"
)

// The public vulnerability report form. Researchers often write from
// personal addresses, so unlike the other public forms it takes any email.

// reportRequest is the public vulnerability report form.
type reportRequest struct {
	Email   string `form:"email" json:"email"`
	Summary string `form:"summary" json:"summary"`
	Details string `form:"details" json:"details"`
	Steps   string `form:"steps" json:"steps"`
	Product string `form:"product" json:"product"`
}

type reportFormPage struct {
	Input   reportRequest
	Errors  map[string]string
	Message string
	Done    *advisory.Report
	// Reward is the profile's wording of what a valid finding earns.
	Reward string
}

// reward is the profile's reward wording ("" before the seed).
func (h *advisoryHandlers) reward(c echo.Context) (string, error) {
	o, err := h.org.Current(c.Request().Context())
	if err != nil {
		return "", err
	}
	return o.BountyReward, nil
}

func (h *advisoryHandlers) reportForm(c echo.Context) error {
	reward, err := h.reward(c)
	if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_security", "Report a security issue", reportFormPage{Reward: reward})
}

func (h *advisoryHandlers) submitReport(c echo.Context) error {
	var in reportRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := h.admitPublic(c, formSecurityReport, in.Email); err != nil {
		return err
	}
	o, err := h.org.Current(c.Request().Context())
	if err != nil {
		return err
	}
	securityEmail := ""
	if o.ID != 0 {
		securityEmail = o.SecurityEmail
	}
	r, err := h.advisories.SubmitReport(c.Request().Context(), actor(c), advisory.ReportInput(in), securityEmail)
	if ok, status, msg, fields := formFailure(err); ok {
		return h.renderPublic(c, status, "trust_security", "Report a security issue", reportFormPage{Input: in, Errors: fields, Message: msg, Reward: o.BountyReward})
	} else if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_security", "Report received", reportFormPage{Done: r})
}
