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
	Token    string
	View     *people.AckView
	Policies []ackPolicy
	// Refused is the form refused: a policy's slug, or "all" for the
	// "acknowledge all" form; Errors and Message are its field errors
	// and its problem as a whole (a policy changed, already done).
	Refused string
	Errors  map[string]string
	Message string
	// Completed counts the acknowledgements just recorded.
	Completed int
}

// ErrorsOf is the field errors of the form named (a slug or "all").
func (p ackPage) ErrorsOf(form string) map[string]string {
	return errorsIf(p.Refused == form, p.Errors)
}

// MessageOf is the problem of the form named as a whole.
func (p ackPage) MessageOf(form string) string {
	if p.Refused != form {
		return ""
	}
	return p.Message
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
	md := nestedMarkdown()
	for _, o := range v.Owed {
		html, err := renderNestedMarkdown(md, o.Body)
		if err != nil {
			return err
		}
		p.Policies = append(p.Policies, ackPolicy{OwedPolicy: o, Text: html})
	}
	return h.renderPublic(c, status, "ack", "Policies to acknowledge", p)
}

// acknowledgeByLink records one policy (fields policy and version) or,
// with all=yes, every policy listed (repeated policy and version fields)
// in one transaction.
func (h *peopleHandlers) acknowledgeByLink(c echo.Context) error {
	shareHeaders(c)
	ctx, token, agreed := c.Request().Context(), c.Param("token"), c.FormValue("agree") == "yes"
	if c.FormValue("all") == "yes" {
		form, err := c.FormParams()
		if err != nil {
			return err
		}
		slugs, versions := form["policy"], form["version"]
		if len(slugs) != len(versions) {
			return apperr.Field("version", "must be given once for each policy")
		}
		choices := make([]people.AckChoice, len(slugs))
		for i := range slugs {
			choices[i] = people.AckChoice{Slug: slugs[i], Version: versions[i]}
		}
		acks, err := h.people.AcknowledgeAllByLink(ctx, actor(c), token, choices, agreed)
		if ok, status, msg, fields := formFailure(err); ok {
			return h.showAck(c, status, ackPage{Refused: "all", Errors: fields, Message: msg})
		} else if err != nil {
			return h.shareLinkError(c, err)
		}
		return h.showAck(c, http.StatusOK, ackPage{Completed: len(acks)})
	}
	slug := c.FormValue("policy")
	_, err := h.people.AcknowledgeByLink(ctx, actor(c), token, slug, c.FormValue("version"), agreed)
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showAck(c, status, ackPage{Refused: slug, Errors: fields, Message: msg})
	} else if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.showAck(c, http.StatusOK, ackPage{Completed: 1})
}
