package server

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/notify"
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
	return h.render(c, status, "ack", "Policies to acknowledge", p)
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

func (h *peopleHandlers) sendAckLink(c echo.Context) error {
	m, err := h.people.IssueAckLink(c.Request().Context(), actor(c), c.Param("email"))
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.Conflict {
			h.flash(c, err.Error())
			return seeOther(c, "/app/people/"+c.Param("email"))
		}
		return err
	}
	h.flash(c, "A new acknowledgement link for "+m.ToAddr+" is in the outbox; any earlier link no longer works.")
	return seeOther(c, "/app/people/"+c.Param("email"))
}

type outboxPage struct {
	SMTPHost string
	Messages []notify.Message
	Counts   map[string]int64
	State    string
	To       string
}

func (h *opsHandlers) outboxPage(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.QueryParam("state")
	if state != "" && state != notify.Pending && state != notify.Sent && state != notify.Failed {
		return apperr.Field("state", "must be pending, sent or failed")
	}
	ob := notify.NewOutbox(h.store.DB)
	msgs, err := ob.List(ctx, notify.Filter{State: state, To: c.QueryParam("to")})
	if err != nil {
		return err
	}
	counts, err := ob.Counts(ctx)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "outbox", "Outbox", outboxPage{SMTPHost: h.cfg.SMTPHost, Messages: msgs, Counts: counts, State: state, To: c.QueryParam("to")})
}

// sendAllAckLinks queues a link for everyone who owes an acknowledgement.
func (h *peopleHandlers) sendAllAckLinks(c echo.Context) error {
	n, err := h.people.SendAckLinks(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	h.flash(c, strconv.Itoa(n)+" acknowledgement link(s) queued in the outbox.")
	return seeOther(c, "/app/outbox")
}
