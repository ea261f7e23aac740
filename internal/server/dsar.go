package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/org"
	"github.com/labstack/echo/v4"
)

// dsarHandlers serve privacy requests: the public form and its confirmation,
// the dashboard and the API.
type dsarHandlers struct {
	*kit
	dsar  *dsar.Service
	org   *org.Service
	users *auth.Service
	files *files.Store
}

// The public intake form.

// The dashboard.

// dsarRequest is a privacy request as the dashboard's form, the public
// form or a JSON body sends it.
type dsarRequest struct {
	ReceivedOn     string `json:"received_on" form:"received_on"`
	Channel        string `json:"channel" form:"channel"`
	Law            string `json:"law" form:"law"`
	Type           string `json:"type" form:"type"`
	RequesterName  string `json:"requester_name" form:"requester_name"`
	RequesterEmail string `json:"requester_email" form:"requester_email"`
	Details        string `json:"details" form:"details"`
	CustomerDPAID  int64  `json:"customer_dpa_id" form:"customer_dpa_id"`
}

// dsarActionRequest is a step on a request as a form or a JSON body sends it.
type dsarActionRequest struct {
	Action          string `json:"action" form:"action"`
	Method          string `json:"verification_method" form:"verification_method"`
	Reason          string `json:"reason" form:"reason"`
	Outcome         string `json:"outcome" form:"outcome"`
	SystemsSearched string `json:"systems_searched" form:"systems_searched"`
}

type dsarListPage struct {
	Requests  []dsar.Request
	Attention []dsar.Request
	Now       time.Time
	Year      int
	OpenOnly  bool // only the open requests are listed
	Form      dsarRequest
	Errors    map[string]string
	Laws      []string
	Types     []string
	Channels  []string
}

func (h *dsarHandlers) dsarList(c echo.Context) error {
	return h.showDSARList(c, http.StatusOK, dsarRequest{}, nil)
}

func (h *dsarHandlers) showDSARList(c echo.Context, status int, form dsarRequest, errs map[string]string) error {
	ctx := c.Request().Context()
	openOnly := c.QueryParam("status") == "open"
	if s := c.QueryParam("status"); s != "" && !openOnly {
		return apperr.Field("status", "must be open, or left out for every request")
	}
	list, err := h.dsar.List(ctx, openOnly)
	if err != nil {
		return err
	}
	attention, err := h.dsar.Attention(ctx)
	if err != nil {
		return err
	}
	return h.render(c, status, "privacy_requests", "Privacy requests", dsarListPage{Requests: list, Attention: attention, Now: h.timeNow(),
		Year: h.timeNow().Year(), OpenOnly: openOnly, Form: form, Errors: errs, Laws: dsar.Laws, Types: dsar.Types, Channels: dsar.Channels})
}

func (h *dsarHandlers) createDSAR(c echo.Context) error {
	var in dsarRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	r, err := h.dsar.Create(c.Request().Context(), actor(c), dsar.Input(in))
	if ok, status, _, fields := formFailure(err); ok {
		return h.showDSARList(c, status, in, fields)
	} else if err != nil {
		return err
	}
	h.flash(c, "Recorded "+r.Reference+"; answer by "+r.Deadline().Format(time.DateOnly)+".")
	return seeOther(c, "/app/privacy-requests/"+r.Reference)
}

type dsarPage struct {
	Request *dsar.Request
	Now     time.Time
	// Form is the refused action ("upload" for the response file), its
	// values kept; Errors and Message are shown in its form.
	Form    dsarActionRequest
	Errors  map[string]string
	Message string
}

// uploadAction names the response upload among the page's forms.
const uploadAction = "upload"

func (h *dsarHandlers) dsarPage(c echo.Context) error {
	return h.showDSAR(c, http.StatusOK, dsarActionRequest{}, nil, "")
}

func (h *dsarHandlers) showDSAR(c echo.Context, status int, form dsarActionRequest, errs map[string]string, msg string) error {
	r, err := h.dsar.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return h.render(c, status, "privacy_request", r.Reference, dsarPage{Request: r, Now: h.timeNow(), Form: form, Errors: errs, Message: msg})
}

func (h *dsarHandlers) actOnDSAR(c echo.Context) error {
	var a dsarActionRequest
	if err := bind(c, &a); err != nil {
		return err
	}
	_, err := h.dsar.Act(c.Request().Context(), actor(c), c.Param("ref"), dsar.Action(a))
	if ok, status, msg, fields := formFailure(err); ok {
		// A problem of the request itself (not yet verified) has no
		// control to mark: the form says it as a whole.
		if problem, found := fields["action"]; found {
			delete(fields, "action")
			msg = strings.TrimSpace("The request " + problem + ". " + msg)
		}
		return h.showDSAR(c, status, a, fields, msg)
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved.")
	return seeOther(c, "/app/privacy-requests/"+c.Param("ref"))
}

func (h *dsarHandlers) dsarResponseUpload(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return h.showDSAR(c, http.StatusUnprocessableEntity, dsarActionRequest{Action: uploadAction}, map[string]string{"file": "is required: choose the response to upload"}, "")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = h.dsar.AttachResponse(c.Request().Context(), actor(c), c.Param("ref"), fh.Filename, f)
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showDSAR(c, status, dsarActionRequest{Action: uploadAction}, fields, msg)
	} else if err != nil {
		return err
	}
	h.flash(c, "Stored the response.")
	return seeOther(c, "/app/privacy-requests/"+c.Param("ref"))
}

func (h *dsarHandlers) dsarResponse(c echo.Context) error {
	r, err := h.dsar.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	if r.ResponseSHA256 == "" {
		return apperr.New(apperr.NotFound, "no response stored")
	}
	return sendFile(c, h.files, r.ResponseSHA256, r.ResponseName, "application/octet-stream")
}

func yearParam(c echo.Context, now time.Time) (int, error) {
	y := now.Year()
	if v := c.QueryParam("year"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2000 || n > 2100 {
			return 0, apperr.Field("year", "must be a year such as 2026")
		}
		y = n
	}
	return y, nil
}

func (h *dsarHandlers) dsarMetrics(c echo.Context) error {
	year, err := yearParam(c, h.timeNow())
	if err != nil {
		return err
	}
	m, err := h.dsar.YearMetrics(c.Request().Context(), year)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "privacy_metrics", fmt.Sprintf("Privacy request figures %d", year), m)
}

// dsarMetricsCSV is the year's figures as CSV, for publication.
func (h *dsarHandlers) dsarMetricsCSV(c echo.Context) error {
	year, err := yearParam(c, h.timeNow())
	if err != nil {
		return err
	}
	m, err := h.dsar.YearMetrics(c.Request().Context(), year)
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="privacy-requests-%d.csv"`, year))
	c.Response().WriteHeader(http.StatusOK)
	w := evidence.NewCSVWriter(c.Response())
	if err := w.Write([]string{"year", "type", "received", "complied_in_whole_or_part", "denied", "median_days_to_respond"}); err != nil {
		return err
	}
	for _, f := range m.Types {
		median := ""
		if f.MedianDays != nil {
			median = strconv.FormatFloat(*f.MedianDays, 'f', -1, 64)
		}
		if err := w.Write([]string{strconv.Itoa(year), evidence.EscapeCell(f.Type), strconv.Itoa(f.Received), strconv.Itoa(f.Complied), strconv.Itoa(f.Denied), median}); err != nil {
			return err
		}
	}
	return nil
}

// API.
