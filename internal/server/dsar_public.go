package server

import (
	"net/http"

	"github.com/charter-registry/charter/internal/dsar"
	"github.com/labstack/echo/v4"
)

type dsarFormPage struct {
	Input  dsarRequest
	Errors map[string]string
	Done   bool
	Laws   []string
	Types  []string
}

func (h *dsarHandlers) dsarForm(c echo.Context) error {
	return h.renderPublic(c, http.StatusOK, "trust_privacy_request", "Make a privacy request", dsarFormPage{Laws: dsar.Laws, Types: dsar.Types})
}

func (h *dsarHandlers) submitDSAR(c echo.Context) error {
	var in dsarRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := h.admitPublic(c, formPrivacyRequest, in.RequesterEmail); err != nil {
		return err
	}
	o, err := h.org.Current(c.Request().Context())
	if err != nil {
		return err
	}
	_, err = h.dsar.Submit(c.Request().Context(), actor(c), dsar.Input(in), companyName(o))
	if ok, status, _, fields := formFailure(err); ok {
		return h.renderPublic(c, status, "trust_privacy_request", "Make a privacy request", dsarFormPage{Input: in, Errors: fields, Laws: dsar.Laws, Types: dsar.Types})
	} else if err != nil {
		return err
	}
	return h.renderPublic(c, http.StatusOK, "trust_privacy_request", "Check your email", dsarFormPage{Input: in, Done: true})
}

type dsarConfirmPage struct {
	Token   string
	Request *dsar.Request
}

func (h *dsarHandlers) dsarConfirmPage(c echo.Context) error {
	shareHeaders(c)
	if err := h.dsar.CheckConfirmation(c.Request().Context(), c.Param("token")); err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_privacy_request_confirm", "Confirm your request", dsarConfirmPage{Token: c.Param("token")})
}

func (h *dsarHandlers) dsarConfirm(c echo.Context) error {
	shareHeaders(c)
	// The acknowledgement goes to the address the link was sent to, once:
	// network and form limits only.
	if err := h.admitPublic(c, formPrivacyConfirm, ""); err != nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := h.org.Current(ctx)
	if err != nil {
		return err
	}
	team, err := h.users.Emails(ctx, "editor")
	if err != nil {
		return err
	}
	if o.ID != 0 && o.PrivacyEmail != "" {
		team = append(team, o.PrivacyEmail)
	}
	r, err := h.dsar.Confirm(ctx, actor(c), c.Param("token"), companyName(o), team)
	if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.renderPublic(c, http.StatusOK, "trust_privacy_request_confirm", "Request received", dsarConfirmPage{Request: r})
}
