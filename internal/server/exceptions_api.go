package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/exception"
	"github.com/labstack/echo/v4"
)

// exceptionJSON is one policy exception on the wire; renews is the ID of
// the exception it renews (null for a first request).
type exceptionJSON struct {
	ID                   int64      `json:"id"`
	Policy               string     `json:"policy"`
	PolicyTitle          string     `json:"policy_title"`
	Section              string     `json:"section"`
	Scope                string     `json:"scope"`
	Reason               string     `json:"reason"`
	CompensatingControls string     `json:"compensating_controls"`
	State                string     `json:"state"`
	InForce              bool       `json:"in_force"`
	ExpiresOn            string     `json:"expires_on"`
	Renews               *int64     `json:"renews"`
	RequestedBy          string     `json:"requested_by"`
	RequestedAt          time.Time  `json:"requested_at"`
	DecidedBy            string     `json:"decided_by"`
	DecidedAt            *time.Time `json:"decided_at"`
	DecisionNote         string     `json:"decision_note"`
	ApprovedAt           *time.Time `json:"approved_at"`
	EndedAt              *time.Time `json:"ended_at"`
	EndedBy              string     `json:"ended_by"`
	EndNote              string     `json:"end_note"`
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *exceptionHandlers) toJSON(e *exception.Exception) exceptionJSON {
	return exceptionJSON{ID: e.ID, Policy: e.PolicySlug, PolicyTitle: e.PolicyTitle, Section: e.Section, Scope: e.Scope, Reason: e.Reason,
		CompensatingControls: e.CompensatingControls, State: string(e.State), InForce: e.InForce(h.exceptions.Today()),
		ExpiresOn: e.ExpiresOn.Format(time.DateOnly), Renews: e.RenewsID, RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt.UTC(),
		DecidedBy: e.DecidedBy, DecidedAt: utcOrNil(e.DecidedAt), DecisionNote: e.DecisionNote, ApprovedAt: utcOrNil(e.ApprovedAt),
		EndedAt: utcOrNil(e.EndedAt), EndedBy: e.EndedBy, EndNote: e.EndNote}
}

// apiList lists the exceptions, filtered by ?state= and ?policy=.
func (h *exceptionHandlers) apiList(c echo.Context) error {
	list, err := h.exceptions.List(c.Request().Context(), exception.Filter{State: exception.State(c.QueryParam("state")), Policy: c.QueryParam("policy")})
	if err != nil {
		return err
	}
	resp := listResponse[exceptionJSON]{Items: []exceptionJSON{}}
	for i := range list {
		resp.Items = append(resp.Items, h.toJSON(&list[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *exceptionHandlers) apiGet(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	e, err := h.exceptions.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.toJSON(e))
}

func (h *exceptionHandlers) created(c echo.Context, e *exception.Exception) error {
	c.Response().Header().Set("Location", "/api/v1/exceptions/"+strconv.FormatInt(e.ID, 10))
	return c.JSON(http.StatusCreated, h.toJSON(e))
}

func (h *exceptionHandlers) apiCreate(c echo.Context) error {
	var in exceptionRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	e, err := h.exceptions.Request(c.Request().Context(), actor(c), in.input())
	if err != nil {
		return err
	}
	return h.created(c, e)
}

// apiRenew requests a renewal; the body is a request whose policy, if
// given, is ignored (a renewal keeps its policy).
func (h *exceptionHandlers) apiRenew(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	var in exceptionRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	e, err := h.exceptions.Renew(c.Request().Context(), actor(c), id, in.input())
	if err != nil {
		return err
	}
	return h.created(c, e)
}

// apiDecide runs one decision with the body's note.
func (h *exceptionHandlers) apiDecide(do func(*exceptionHandlers, echo.Context, int64, string) (*exception.Exception, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := exceptionID(c)
		if err != nil {
			return err
		}
		var in exceptionNoteRequest
		if err := bind(c, &in); err != nil {
			return err
		}
		e, err := do(h, c, id, in.Note)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, h.toJSON(e))
	}
}
