package server

import (
	"html/template"
	"net/http"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/people"
	"github.com/labstack/echo/v4"
)

type ackPolicy struct {
	people.OwedPolicy
	Text template.HTML
}

type ackPage struct {
	Token     string
	View      *people.AckView
	Policies  []ackPolicy
	Errors    map[string]string // by policy slug
	Message   string
	Completed string // title of the policy just acknowledged
}

func (h *peopleHandlers) ackPage(c echo.Context) error {
	return h.showAck(c, http.StatusOK, ackPage{})
}

func (h *peopleHandlers) showAck(c echo.Context, status int, p ackPage) error {
	shareHeaders(c)
	token := c.Param("token")
	v, err := h.people.AckPage(c.Request().Context(), token)
	if err != nil {
		return h.shareLinkError(c, err)
	}
	p.Token, p.View = token, v
	for _, o := range v.Owed {
		html, err := h.renderMarkdown(o.Body)
		if err != nil {
			return err
		}
		p.Policies = append(p.Policies, ackPolicy{OwedPolicy: o, Text: html})
	}
	return h.renderPublic(c, status, "ack", "Policies to acknowledge", p)
}

func (h *peopleHandlers) acknowledgeByLink(c echo.Context) error {
	shareHeaders(c)
	slug := c.FormValue("policy")
	_, err := h.people.AcknowledgeByLink(c.Request().Context(), actor(c), c.Param("token"), slug, c.FormValue("version"), c.FormValue("agree") == "yes")
	switch apperr.KindOf(err) {
	case apperr.Internal:
		if err != nil {
			return err
		}
		return h.showAck(c, http.StatusOK, ackPage{Completed: slug})
	case apperr.Invalid, apperr.Conflict:
		_, _, msg, fields := classify(err)
		if m, ok := fields["agree"]; ok {
			msg = "Please " + m + "."
		}
		return h.showAck(c, statusOf(err), ackPage{Errors: map[string]string{slug: msg}})
	}
	return h.shareLinkError(c, err)
}
