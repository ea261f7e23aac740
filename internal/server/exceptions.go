package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/exception"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/labstack/echo/v4"
)

// exceptionHandlers serve the policy exceptions register.
type exceptionHandlers struct {
	*kit
	exceptions *exception.Service
	policies   *policy.Service
}

// exceptionRequest is a request for an exception (or its renewal) as the
// form or a JSON body sends it.
type exceptionRequest struct {
	Policy               string `json:"policy" form:"policy"`
	Section              string `json:"section" form:"section"`
	Scope                string `json:"scope" form:"scope"`
	Reason               string `json:"reason" form:"reason"`
	CompensatingControls string `json:"compensating_controls" form:"compensating_controls"`
	ExpiresOn            string `json:"expires_on" form:"expires_on"`
}

func (r exceptionRequest) input() exception.Input { return exception.Input(r) }

// exceptionNoteRequest is the note of an approval, rejection or revocation.
type exceptionNoteRequest struct {
	Note string `json:"note" form:"note"`
}

func exceptionID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, exception.ErrNotFound
	}
	return id, nil
}

type exceptionsPage struct {
	Exceptions []exception.Exception
	State      string
	Policy     string
	States     []exception.State
	Policies   []policy.Summary
	Today      time.Time
}

func (h *exceptionHandlers) listPage(c echo.Context) error {
	ctx := c.Request().Context()
	f := exception.Filter{State: exception.State(c.QueryParam("state")), Policy: c.QueryParam("policy")}
	list, err := h.exceptions.List(ctx, f)
	if err != nil {
		return err
	}
	policies, err := h.policies.List(ctx, policy.ListOptions{})
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "exceptions", "Policy exceptions", exceptionsPage{Exceptions: list, State: string(f.State), Policy: f.Policy,
		States: exception.States, Policies: policies, Today: h.exceptions.Today()})
}

// exceptionForm is the request form, new or renewing Renews.
type exceptionForm struct {
	Input    exceptionRequest
	Renews   *exception.Exception
	Policies []policy.Summary
	MaxDays  int
	Errors   map[string]string
	Message  string
}

func (h *exceptionHandlers) showForm(c echo.Context, status int, f exceptionForm) error {
	var err error
	if f.Policies, err = h.policies.List(c.Request().Context(), policy.ListOptions{}); err != nil {
		return err
	}
	f.MaxDays = h.exceptions.MaxDays()
	title := "Request a policy exception"
	if f.Renews != nil {
		title = "Renew exception " + strconv.FormatInt(f.Renews.ID, 10)
	}
	return h.render(c, status, "exception_form", title, f)
}

func (h *exceptionHandlers) newForm(c echo.Context) error {
	return h.showForm(c, http.StatusOK, exceptionForm{Input: exceptionRequest{Policy: c.QueryParam("policy")}})
}

func (h *exceptionHandlers) create(c echo.Context) error {
	var in exceptionRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	e, err := h.exceptions.Request(c.Request().Context(), actor(c), in.input())
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showForm(c, status, exceptionForm{Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Exception requested; another editor or admin approves it.")
	return seeOther(c, "/app/exceptions/"+strconv.FormatInt(e.ID, 10))
}

// exceptionPage is one exception with its renewal history and the forms
// the signed-in user may use.
type exceptionPage struct {
	Exception *exception.Exception
	Renews    *exception.Exception
	Renewals  []exception.Exception
	// CanApprove: the user may decide the request (not its requester).
	CanApprove bool
	InForce    bool
	// Action and Errors refill the decision form that was refused.
	Action  string
	Note    string
	Errors  map[string]string
	Message string
}

func (h *exceptionHandlers) page(c echo.Context) error {
	return h.showPage(c, http.StatusOK, exceptionPage{})
}

func (h *exceptionHandlers) showPage(c echo.Context, status int, p exceptionPage) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if p.Exception, err = h.exceptions.Get(ctx, id); err != nil {
		return err
	}
	if p.Exception.RenewsID != nil {
		if p.Renews, err = h.exceptions.Get(ctx, *p.Exception.RenewsID); err != nil {
			return err
		}
	}
	if p.Renewals, err = h.exceptions.List(ctx, exception.Filter{RenewsID: id}); err != nil {
		return err
	}
	p.CanApprove = p.Exception.CanApprove(currentUser(c).ID)
	p.InForce = p.Exception.InForce(h.exceptions.Today())
	return h.render(c, status, "exception", "Exception "+strconv.FormatInt(id, 10), p)
}

// decide runs one decision (approve, reject, revoke) from the page's form;
// a refused one shows the page again with the form's note and message.
func (h *exceptionHandlers) decide(action, done string, do func(*exceptionHandlers, echo.Context, int64, string) (*exception.Exception, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := exceptionID(c)
		if err != nil {
			return err
		}
		var in exceptionNoteRequest
		if err := bind(c, &in); err != nil {
			return err
		}
		_, err = do(h, c, id, in.Note)
		if ok, status, msg, fields := formFailure(err); ok {
			return h.showPage(c, status, exceptionPage{Action: action, Note: in.Note, Errors: fields, Message: msg})
		} else if apperr.Is(err, apperr.Forbidden) {
			h.flashProblem(c, err)
			return seeOther(c, "/app/exceptions/"+strconv.FormatInt(id, 10))
		} else if err != nil {
			return err
		}
		h.flash(c, done)
		return seeOther(c, "/app/exceptions/"+strconv.FormatInt(id, 10))
	}
}

func approveException(h *exceptionHandlers, c echo.Context, id int64, note string) (*exception.Exception, error) {
	return h.exceptions.Approve(c.Request().Context(), actor(c), id, note)
}

func rejectException(h *exceptionHandlers, c echo.Context, id int64, note string) (*exception.Exception, error) {
	return h.exceptions.Reject(c.Request().Context(), actor(c), id, note)
}

func revokeException(h *exceptionHandlers, c echo.Context, id int64, note string) (*exception.Exception, error) {
	return h.exceptions.Revoke(c.Request().Context(), actor(c), id, note)
}

func (h *exceptionHandlers) renewForm(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	old, err := h.exceptions.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !old.Renewable() {
		h.flashProblem(c, exception.ErrNotRenewable)
		return seeOther(c, "/app/exceptions/"+strconv.FormatInt(id, 10))
	}
	in := exceptionRequest{Policy: old.PolicySlug, Section: old.Section, Scope: old.Scope, Reason: old.Reason, CompensatingControls: old.CompensatingControls}
	return h.showForm(c, http.StatusOK, exceptionForm{Input: in, Renews: old})
}

func (h *exceptionHandlers) renew(c echo.Context) error {
	id, err := exceptionID(c)
	if err != nil {
		return err
	}
	old, err := h.exceptions.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	var in exceptionRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	e, err := h.exceptions.Renew(c.Request().Context(), actor(c), id, in.input())
	if ok, status, msg, fields := formFailure(err); ok {
		in.Policy = old.PolicySlug
		return h.showForm(c, status, exceptionForm{Input: in, Renews: old, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Renewal requested; approving it supersedes exception "+strconv.FormatInt(id, 10)+".")
	return seeOther(c, "/app/exceptions/"+strconv.FormatInt(e.ID, 10))
}
