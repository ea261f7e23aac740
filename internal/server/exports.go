package server

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
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
	Error    string
}

// exportsPage lists every dataset with its row count for the period.
func (h *exportHandlers) exportsPage(c echo.Context) error {
	now := h.timeNow()
	from, to := c.QueryParam("from"), c.QueryParam("to")
	if from == "" && to == "" {
		// The last full calendar year is the usual audit period.
		from = fmt.Sprintf("%d-01-01", now.Year()-1)
		to = fmt.Sprintf("%d-12-31", now.Year()-1)
	}
	p := exportsPage{Datasets: evidence.All(), From: from, To: to}
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
	o, err := h.org.Get(c.Request().Context())
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
