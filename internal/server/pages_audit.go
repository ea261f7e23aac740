package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
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
	Events      []audit.Event
	Actions     []string
	ObjectTypes []string
	NextURL     string
	Errors      map[string]string
}

func (s *Server) auditPage(c echo.Context) error {
	ctx := c.Request().Context()
	var q auditQuery
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &q); err != nil {
		return apperr.Field("query", "could not be read")
	}
	p := auditPage{Query: q}
	var err error
	if p.Actions, p.ObjectTypes, err = audit.Facets(ctx, s.store.DB); err != nil {
		return err
	}
	f, err := q.filter()
	if e, ok := apperr.As(err); ok && e.Kind == apperr.Invalid {
		p.Errors = e.Fields
		return s.render(c, http.StatusUnprocessableEntity, "audit", "Audit trail", p)
	}
	page, err := audit.List(ctx, s.store.DB, f)
	if err != nil {
		return err
	}
	p.Events = page.Events
	if page.NextBefore > 0 {
		v := c.QueryParams()
		v.Set("before", strconv.FormatInt(page.NextBefore, 10))
		p.NextURL = "/app/audit?" + v.Encode()
	}
	return s.render(c, http.StatusOK, "audit", "Audit trail", p)
}

type auditEventJSON struct {
	Seq        int64     `json:"seq"`
	OccurredAt time.Time `json:"occurred_at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Before     string    `json:"before,omitempty"`
	After      string    `json:"after,omitempty"`
	ClientIP   string    `json:"client_ip,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

func (s *Server) apiListAudit(c echo.Context) error {
	var q auditQuery
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &q); err != nil {
		return apperr.Field("query", "could not be read")
	}
	f, err := q.filter()
	if err != nil {
		return err
	}
	page, err := audit.List(c.Request().Context(), s.store.DB, f)
	if err != nil {
		return err
	}
	items := make([]auditEventJSON, len(page.Events))
	for i, e := range page.Events {
		items[i] = auditEventJSON{Seq: e.Seq, OccurredAt: e.OccurredAt.UTC(), Actor: e.Actor, Action: e.Action,
			ObjectType: e.ObjectType, ObjectID: e.ObjectID, Before: e.BeforeJSON, After: e.AfterJSON,
			ClientIP: e.ClientIP, UserAgent: e.UserAgent, RequestID: e.RequestID, PrevHash: e.PrevHash, Hash: e.Hash}
	}
	next := ""
	if page.NextBefore > 0 {
		next = strconv.FormatInt(page.NextBefore, 10)
	}
	return c.JSON(http.StatusOK, listResponse[auditEventJSON]{Items: items, NextCursor: next})
}
