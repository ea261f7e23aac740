package server

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditview"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/store"
	"github.com/labstack/echo/v4"
)

// exportHandlers serve evidence exports and the audit trail.
type exportHandlers struct {
	*kit
	evidence *evidence.Service
	org      *org.Service
	store    *store.Store
}

// exportCSV streams one dataset as CSV: GET …/exports/{dataset}.csv?from=&to=[&bom=1].
// The dataset and period are checked before the first byte, so that a bad
// request gets a clear 4xx; rows then stream from one snapshot.
func (h *exportHandlers) exportCSV(c echo.Context) error {
	if c.Param("file") == "evidence.zip" {
		return h.exportBundle(c)
	}
	name, ok := strings.CutSuffix(c.Param("file"), ".csv")
	if !ok {
		return apperr.New(apperr.NotFound, "exports are served as DATASET.csv")
	}
	if current, ok := evidence.Renamed(name); ok {
		// Links and scripts that use the old name keep working.
		u := *c.Request().URL
		u.Path = strings.TrimSuffix(u.Path, c.Param("file")) + current + ".csv"
		return c.Redirect(http.StatusMovedPermanently, u.RequestURI())
	}
	if _, err := evidence.Find(name); err != nil {
		return err
	}
	period, err := evidence.ParsePeriod(c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	bom := c.QueryParam("bom") == "1" || c.QueryParam("bom") == "true"
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{
		"filename": fmt.Sprintf("%s_%s_%s.csv", name, period.From.Format(time.DateOnly), period.To.Format(time.DateOnly))}))
	hdr.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	res, err := h.evidence.Export(c.Request().Context(), actor(c), name, period, evidence.Options{BOM: bom, Role: currentUser(c).Role}, c.Response())
	if err != nil {
		// The status is sent; the cut-off body and this log line say why.
		h.log.Error("export failed mid-stream", "dataset", name, "request_id", requestID(c), "error", err)
		return nil
	}
	h.log.Info("export", "dataset", name, "rows", res.Rows, "sha256", res.SHA256, "request_id", requestID(c))
	return nil
}

type exportsPage struct {
	Datasets []evidence.Dataset
	Counts   map[string]int64
	From, To string
	// Default says which period the page opened with, when it chose one.
	Default string
	Error   string
}

// exportsPage lists every dataset with its row count for the period,
// by default the audit period under way, else the year to date.
func (h *exportHandlers) exportsPage(c echo.Context) error {
	from, to := c.QueryParam("from"), c.QueryParam("to")
	var chosen string
	if from == "" && to == "" {
		o, err := h.org.Current(c.Request().Context())
		if err != nil {
			return err
		}
		var audit *evidence.Period
		chosen = "the year to date"
		if first, last, ok := o.AuditPeriodAt(h.timeNow()); ok {
			audit, chosen = &evidence.Period{From: first, To: last}, "the current audit period"
		}
		d := evidence.DefaultPeriod(h.timeNow(), audit)
		from, to = d.From.Format(time.DateOnly), d.To.Format(time.DateOnly)
	}
	p := exportsPage{Datasets: evidence.All(), From: from, To: to, Default: chosen}
	period, err := evidence.ParsePeriod(from, to)
	if err != nil {
		_, _, msg, fields := classify(err)
		p.Error = msg
		for k, v := range fields {
			p.Error = k + " " + v
		}
		return h.render(c, http.StatusUnprocessableEntity, "exports", "Evidence exports", p)
	}
	if p.Counts, err = h.evidence.Count(c.Request().Context(), period); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "exports", "Evidence exports", p)
}

// exportBundle streams the signed evidence bundle for the period.
func (h *exportHandlers) exportBundle(c echo.Context) error {
	period, err := evidence.ParsePeriod(c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	o, err := h.org.Current(c.Request().Context())
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "application/zip")
	hdr.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{
		"filename": fmt.Sprintf("evidence_%s_%s.zip", period.From.Format(time.DateOnly), period.To.Format(time.DateOnly))}))
	hdr.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	m, err := h.evidence.Bundle(c.Request().Context(), actor(c), currentUser(c).Role, period, companyName(o), c.Response())
	if err != nil {
		h.log.Error("evidence bundle failed mid-stream", "request_id", requestID(c), "error", err)
		return nil
	}
	h.log.Info("evidence bundle", "files", len(m.Files), "audit_head", m.AuditHead.Seq, "request_id", requestID(c))
	return nil
}

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
