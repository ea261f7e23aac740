package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditview"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
)

// auditQuery is the filter of the audit page and API, from the query string.
type auditQuery struct {
	Actor      string `query:"actor"`
	ObjectType string `query:"object_type"`
	ObjectID   string `query:"object_id"`
	Action     string `query:"action"`
	From       string `query:"from"`
	To         string `query:"to"`
	Before     string `query:"before"`
	Limit      string `query:"limit"`
}

// filter turns the query into an audit.Filter; dates are whole UTC days and
// "to" is inclusive.
func (q auditQuery) filter() (audit.Filter, error) {
	f := audit.Filter{Actor: q.Actor, ObjectType: q.ObjectType, ObjectID: q.ObjectID, Action: q.Action}
	fields := map[string]string{}
	if q.From != "" {
		t, err := time.Parse(time.DateOnly, q.From)
		if err != nil {
			fields["from"] = "must be a date as YYYY-MM-DD"
		}
		f.From = t
	}
	if q.To != "" {
		t, err := time.Parse(time.DateOnly, q.To)
		if err != nil {
			fields["to"] = "must be a date as YYYY-MM-DD"
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fields["to"] = "must not be before from"
	}
	if q.Before != "" {
		n, err := strconv.ParseInt(q.Before, 10, 64)
		if err != nil || n <= 0 {
			fields["before"] = "must be a positive event number"
		}
		f.BeforeSeq = n
	}
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > 500 {
			fields["limit"] = "must be a number from 1 to 500"
		}
		f.Limit = n
	}
	if len(fields) > 0 {
		return f, apperr.Fields(fields)
	}
	return f, nil
}

type auditPage struct {
	Query       auditQuery
	Events      []auditview.View
	Actions     []string
	ObjectTypes []string
	NextURL     string
	Errors      map[string]string
}

func (h *exportHandlers) auditPage(c echo.Context) error {
	ctx := c.Request().Context()
	var q auditQuery
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &q); err != nil {
		return apperr.Field("query", "could not be read")
	}
	p := auditPage{Query: q}
	var err error
	if p.Actions, p.ObjectTypes, err = audit.Facets(ctx, h.store.DB); err != nil {
		return err
	}
	f, err := q.filter()
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		p.Errors = e.Fields
		return h.render(c, http.StatusUnprocessableEntity, "audit", "Audit trail", p)
	}
	page, err := h.auditEvents(c, f)
	if err != nil {
		return err
	}
	p.Events = page.views
	if page.NextBefore > 0 {
		v := c.QueryParams()
		v.Set("before", strconv.FormatInt(page.NextBefore, 10))
		p.NextURL = "/app/audit?" + v.Encode()
	}
	return h.render(c, http.StatusOK, "audit", "Audit trail", p)
}

// auditViews is a page of events as the current user's role may see them.
type auditViews struct {
	views      []auditview.View
	NextBefore int64
}

// auditEvents lists the events of f as the signed-in role may see them
// (auditview). A filter on actor or object ID keeps only events whose actor
// and object the role sees, or the filter would tell whether a withheld
// address is there; such a page may hold fewer events than the limit, and
// its cursor still leads on.
func (h *exportHandlers) auditEvents(c echo.Context, f audit.Filter) (auditViews, error) {
	page, err := audit.List(c.Request().Context(), h.store.DB, f)
	if err != nil {
		return auditViews{}, err
	}
	var role auth.Role
	if u := currentUser(c); u != nil {
		role = u.Role
	}
	out := auditViews{views: make([]auditview.View, 0, len(page.Events)), NextBefore: page.NextBefore}
	for _, e := range page.Events {
		if (f.Actor != "" || f.ObjectID != "") && !auditview.IdentityVisible(role, e) {
			continue
		}
		out.views = append(out.views, auditview.For(role, e))
	}
	return out, nil
}

// auditEventJSON is an event on the API. Withheld names the fields the
// token's role may not see (they are then empty); data_withheld says the
// same of before and after at a glance.
type auditEventJSON struct {
	Seq          int64     `json:"seq"`
	OccurredAt   time.Time `json:"occurred_at"`
	Actor        string    `json:"actor"`
	Action       string    `json:"action"`
	ObjectType   string    `json:"object_type"`
	ObjectID     string    `json:"object_id"`
	Before       string    `json:"before,omitempty"`
	After        string    `json:"after,omitempty"`
	DataWithheld bool      `json:"data_withheld"`
	Withheld     []string  `json:"withheld,omitempty"`
	ClientIP     string    `json:"client_ip,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
	RequestID    string    `json:"request_id,omitempty"`
	PrevHash     string    `json:"prev_hash"`
	Hash         string    `json:"hash"`
}

func (h *exportHandlers) apiListAudit(c echo.Context) error {
	var q auditQuery
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &q); err != nil {
		return apperr.Field("query", "could not be read")
	}
	f, err := q.filter()
	if err != nil {
		return err
	}
	page, err := h.auditEvents(c, f)
	if err != nil {
		return err
	}
	items := make([]auditEventJSON, len(page.views))
	for i, v := range page.views {
		items[i] = auditEventJSON{Seq: v.Seq, OccurredAt: v.OccurredAt.UTC(), Actor: v.Actor, Action: v.Action,
			ObjectType: v.ObjectType, ObjectID: v.ObjectID, Before: v.BeforeJSON, After: v.AfterJSON,
			DataWithheld: v.DataWithheld(), Withheld: v.Withheld,
			ClientIP: v.ClientIP, UserAgent: v.UserAgent, RequestID: v.RequestID, PrevHash: v.PrevHash, Hash: v.Hash}
	}
	next := ""
	if page.NextBefore > 0 {
		next = strconv.FormatInt(page.NextBefore, 10)
	}
	return c.JSON(http.StatusOK, listResponse[auditEventJSON]{Items: items, NextCursor: next})
}
