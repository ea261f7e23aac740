package server

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/labstack/echo/v4"
)

// The public intake form.

type dsarFormPage struct {
	Input  dsar.Input
	Errors map[string]string
	Done   bool
	Laws   []string
	Types  []string
}

func (s *Server) dsarForm(c echo.Context) error {
	return s.renderPublic(c, http.StatusOK, "trust_privacy_request", "Make a privacy request", dsarFormPage{Laws: dsar.Laws, Types: dsar.Types})
}

func (s *Server) submitDSAR(c echo.Context) error {
	var in dsar.Input
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	if err := s.admitPublic(c, formPrivacyRequest, in.RequesterEmail); err != nil {
		return err
	}
	o, err := s.org.Get(c.Request().Context())
	if err != nil {
		return err
	}
	_, err = s.dsar.Submit(c.Request().Context(), actor(c), in, companyName(o))
	if ok, status, _, fields := formFailure(err); ok {
		return s.renderPublic(c, status, "trust_privacy_request", "Make a privacy request", dsarFormPage{Input: in, Errors: fields, Laws: dsar.Laws, Types: dsar.Types})
	} else if err != nil {
		return err
	}
	return s.renderPublic(c, http.StatusOK, "trust_privacy_request", "Check your email", dsarFormPage{Input: in, Done: true})
}

type dsarConfirmPage struct {
	Token   string
	Request *dsar.Request
}

func (s *Server) dsarConfirmPage(c echo.Context) error {
	shareHeaders(c)
	if err := s.dsar.CheckConfirmation(c.Request().Context(), c.Param("token")); err != nil {
		return s.shareLinkError(c, err)
	}
	return s.renderPublic(c, http.StatusOK, "trust_privacy_request_confirm", "Confirm your request", dsarConfirmPage{Token: c.Param("token")})
}

func (s *Server) dsarConfirm(c echo.Context) error {
	shareHeaders(c)
	// The acknowledgement goes to the address the link was sent to, once:
	// network and form limits only.
	if err := s.admitPublic(c, formPrivacyConfirm, ""); err != nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := s.org.Get(ctx)
	if err != nil {
		return err
	}
	team, err := s.users.Emails(ctx, "editor")
	if err != nil {
		return err
	}
	if o != nil && o.PrivacyEmail != "" {
		team = append(team, o.PrivacyEmail)
	}
	r, err := s.dsar.Confirm(ctx, actor(c), c.Param("token"), companyName(o), team)
	if err != nil {
		return s.shareLinkError(c, err)
	}
	return s.renderPublic(c, http.StatusOK, "trust_privacy_request_confirm", "Request received", dsarConfirmPage{Request: r})
}

// The dashboard.

type dsarListPage struct {
	Requests  []dsar.Request
	Attention []dsar.Request
	Now       time.Time
	Year      int
	Form      dsar.Input
	Errors    map[string]string
	Laws      []string
	Types     []string
	Channels  []string
}

func (s *Server) dsarList(c echo.Context) error {
	return s.showDSARList(c, http.StatusOK, dsar.Input{}, nil)
}

func (s *Server) showDSARList(c echo.Context, status int, form dsar.Input, errs map[string]string) error {
	ctx := c.Request().Context()
	list, err := s.dsar.List(ctx, false)
	if err != nil {
		return err
	}
	attention, err := s.dsar.Attention(ctx)
	if err != nil {
		return err
	}
	return s.render(c, status, "privacy_requests", "Privacy requests", dsarListPage{Requests: list, Attention: attention, Now: s.timeNow(),
		Year: s.timeNow().Year(), Form: form, Errors: errs, Laws: dsar.Laws, Types: dsar.Types, Channels: dsar.Channels})
}

func (s *Server) createDSAR(c echo.Context) error {
	var in dsar.Input
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	r, err := s.dsar.Create(c.Request().Context(), actor(c), in)
	if ok, status, _, fields := formFailure(err); ok {
		return s.showDSARList(c, status, in, fields)
	} else if err != nil {
		return err
	}
	s.flash(c, "Recorded "+r.Reference+"; answer by "+r.Deadline().Format(time.DateOnly)+".")
	return seeOther(c, "/app/privacy-requests/"+r.Reference)
}

type dsarPage struct {
	Request *dsar.Request
	Now     time.Time
	Errors  map[string]string
	Message string
}

func (s *Server) dsarPage(c echo.Context) error { return s.showDSAR(c, http.StatusOK, nil, "") }

func (s *Server) showDSAR(c echo.Context, status int, errs map[string]string, msg string) error {
	r, err := s.dsar.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return s.render(c, status, "privacy_request", r.Reference, dsarPage{Request: r, Now: s.timeNow(), Errors: errs, Message: msg})
}

func (s *Server) actOnDSAR(c echo.Context) error {
	var a dsar.Action
	if err := c.Bind(&a); err != nil {
		return apperr.Field("form", "could not be read")
	}
	_, err := s.dsar.Act(c.Request().Context(), actor(c), c.Param("ref"), a)
	if ok, status, msg, fields := formFailure(err); ok {
		return s.showDSAR(c, status, fields, msg)
	} else if err != nil {
		return err
	}
	s.flash(c, "Saved.")
	return seeOther(c, "/app/privacy-requests/"+c.Param("ref"))
}

func (s *Server) dsarResponseUpload(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return s.showDSAR(c, http.StatusUnprocessableEntity, map[string]string{"file": "choose the response to upload"}, "invalid input")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = s.dsar.AttachResponse(c.Request().Context(), actor(c), c.Param("ref"), fh.Filename, f)
	if ok, status, msg, fields := formFailure(err); ok {
		return s.showDSAR(c, status, fields, msg)
	} else if err != nil {
		return err
	}
	s.flash(c, "Stored the response.")
	return seeOther(c, "/app/privacy-requests/"+c.Param("ref"))
}

func (s *Server) dsarResponse(c echo.Context) error {
	r, err := s.dsar.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	if r.ResponseSHA256 == "" {
		return apperr.New(apperr.NotFound, "no response stored")
	}
	return sendFile(c, s.files, r.ResponseSHA256, r.ResponseName, "application/octet-stream")
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

func (s *Server) dsarMetrics(c echo.Context) error {
	year, err := yearParam(c, s.timeNow())
	if err != nil {
		return err
	}
	m, err := s.dsar.YearMetrics(c.Request().Context(), year)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "privacy_metrics", fmt.Sprintf("Privacy request figures %d", year), m)
}

// dsarMetricsCSV is the year's figures as CSV, for publication.
func (s *Server) dsarMetricsCSV(c echo.Context) error {
	year, err := yearParam(c, s.timeNow())
	if err != nil {
		return err
	}
	m, err := s.dsar.YearMetrics(c.Request().Context(), year)
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="privacy-requests-%d.csv"`, year))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"year", "type", "received", "complied_in_whole_or_part", "denied", "median_days_to_respond"})
	for _, f := range m.Types {
		median := ""
		if f.MedianDays != nil {
			median = strconv.FormatFloat(*f.MedianDays, 'f', -1, 64)
		}
		_ = w.Write([]string{strconv.Itoa(year), evidence.EscapeCell(f.Type), strconv.Itoa(f.Received), strconv.Itoa(f.Complied), strconv.Itoa(f.Denied), median})
	}
	w.Flush()
	return w.Error()
}

// API.

func (s *Server) apiListDSAR(c echo.Context) error {
	list, err := s.dsar.List(c.Request().Context(), c.QueryParam("open") == "true")
	if err != nil {
		return err
	}
	out := []dsarJSON{}
	for i := range list {
		out = append(out, toDSARJSON(&list[i], s.timeNow()))
	}
	return c.JSON(http.StatusOK, listResponse[dsarJSON]{Items: out})
}

type dsarJSON struct {
	*dsar.Request
	Deadline    string `json:"deadline"`
	AckDeadline string `json:"acknowledgement_deadline,omitempty"`
	Timing      string `json:"timing,omitempty"`
}

func toDSARJSON(r *dsar.Request, now time.Time) dsarJSON {
	j := dsarJSON{Request: r, Deadline: r.Deadline().Format(time.DateOnly)}
	if d, ok := r.AckDeadline(); ok {
		j.AckDeadline = d.Format(time.DateOnly)
	}
	if r.Open() {
		j.Timing = dsar.Timing(r.Deadline(), now)
	}
	return j
}

func (s *Server) apiCreateDSAR(c echo.Context) error {
	var in dsar.Input
	if err := bindBody(c, &in); err != nil {
		return err
	}
	r, err := s.dsar.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toDSARJSON(r, s.timeNow()))
}

func (s *Server) apiGetDSAR(c echo.Context) error {
	r, err := s.dsar.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDSARJSON(r, s.timeNow()))
}

func (s *Server) apiActOnDSAR(c echo.Context) error {
	var a dsar.Action
	if err := bindBody(c, &a); err != nil {
		return err
	}
	r, err := s.dsar.Act(c.Request().Context(), actor(c), c.Param("ref"), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDSARJSON(r, s.timeNow()))
}

func (s *Server) apiDSARMetrics(c echo.Context) error {
	year, err := yearParam(c, s.timeNow())
	if err != nil {
		return err
	}
	m, err := s.dsar.YearMetrics(c.Request().Context(), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}
