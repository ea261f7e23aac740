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
	Errors   map[string]string // by policy slug
	AllError string            // of the "acknowledge all" form
	// Completed counts the acknowledgements just recorded.
	Completed int
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
		if msg, failed := ackFailure(err); failed {
			return h.showAck(c, statusOf(err), ackPage{AllError: msg})
		} else if err != nil {
			return h.shareLinkError(c, err)
		}
		return h.showAck(c, http.StatusOK, ackPage{Completed: len(acks)})
	}
	slug := c.FormValue("policy")
	_, err := h.people.AcknowledgeByLink(ctx, actor(c), token, slug, c.FormValue("version"), agreed)
	if msg, failed := ackFailure(err); failed {
		return h.showAck(c, statusOf(err), ackPage{Errors: map[string]string{slug: msg}})
	} else if err != nil {
		return h.shareLinkError(c, err)
	}
	return h.showAck(c, http.StatusOK, ackPage{Completed: 1})
}

// ackFailure is the message for the employee when err is a problem they
// can fix on the page (the statement unticked, a policy changed or
// already acknowledged); other errors are the link's or internal.
func ackFailure(err error) (string, bool) {
	switch apperr.KindOf(err) {
	case apperr.Invalid, apperr.Conflict:
		_, _, msg, fields := classify(err)
		if m, ok := fields["agree"]; ok {
			msg = "Please " + m + "."
		}
		return msg, true
	}
	return "", false
}
