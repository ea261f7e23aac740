package server

import (
	"net/http"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

type dpasPage struct {
	DPAs     []privacy.DPA
	Total    int64
	From, To int
	Filter   privacy.DPAFilter
	Statuses []string
	PrevURL  string
	NextURL  string
}

// dpasPageSize is how many agreements the dashboard list shows at once.
const dpasPageSize = 50

func (s *Server) dpasPage(c echo.Context) error {
	var f privacy.DPAFilter
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &f); err != nil {
		return apperr.Field("query", "could not be read")
	}
	page := 1
	if v := c.QueryParam("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return apperr.Field("page", "must be a page number from 1")
		}
		page = n
	}
	first := (page - 1) * dpasPageSize
	p, err := s.privacy.ListDPAs(c.Request().Context(), f, first, dpasPageSize)
	if err != nil {
		return err
	}
	v := dpasPage{DPAs: p.DPAs, Total: p.Total, From: first + 1, To: first + len(p.DPAs), Filter: f, Statuses: privacy.DPAStatuses}
	link := func(n int) string {
		q := c.QueryParams()
		q.Set("page", strconv.Itoa(n))
		return "/app/privacy/dpas?" + q.Encode()
	}
	if page > 1 {
		v.PrevURL = link(page - 1)
	}
	if int64(v.To) < p.Total {
		v.NextURL = link(page + 1)
	}
	return s.render(c, http.StatusOK, "dpas", "DPAs", v)
}

type dpaForm struct {
	ID         int64
	Input      privacy.DPAInput
	Errors     map[string]string
	Message    string
	Statuses   []string
	Mechanisms any
}

func (s *Server) newDPAForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "dpa_form", "New DPA", dpaForm{Input: privacy.DPAInput{Direction: privacy.Customer, NoticeDays: "30"},
		Statuses: privacy.DPAStatuses, Mechanisms: privacy.TransferMechanisms})
}

func (s *Server) editDPAForm(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	d, err := s.privacy.DPA(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "dpa_form", "Edit DPA", dpaForm{ID: id, Input: privacy.InputOf(d), Mechanisms: privacy.TransferMechanisms})
}

func (s *Server) saveDPA(c echo.Context) error {
	var in privacy.DPAInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	var id int64
	var err error
	if c.Param("id") != "" {
		if id, err = pathID(c, "id", privacy.ErrDPANotFound); err != nil {
			return err
		}
	}
	var d *privacy.DPA
	if id == 0 {
		d, err = s.privacy.CreateDPA(c.Request().Context(), actor(c), in)
	} else {
		d, err = s.privacy.UpdateDPA(c.Request().Context(), actor(c), id, in)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return s.render(c, status, "dpa_form", "DPA", dpaForm{ID: id, Input: in, Errors: fields, Message: msg,
			Statuses: privacy.DPAStatuses, Mechanisms: privacy.TransferMechanisms})
	} else if err != nil {
		return err
	}
	s.flash(c, "Saved the DPA with "+d.Counterparty+".")
	return seeOther(c, "/app/privacy/dpas/"+strconv.FormatInt(d.ID, 10))
}

type dpaPage struct {
	DPA          *privacy.DPA
	History      []privacy.StatusChange
	Subprocessor []privacy.Subprocessor
	StatusErrors map[string]string
	FileError    string
	AuditURL     string
}

func (s *Server) dpaPage(c echo.Context) error { return s.showDPA(c, http.StatusOK, dpaPage{}) }

func (s *Server) showDPA(c echo.Context, status int, p dpaPage) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if p.DPA, err = s.privacy.DPA(ctx, id); err != nil {
		return err
	}
	if p.History, err = s.privacy.DPAHistory(ctx, id); err != nil {
		return err
	}
	p.AuditURL = "/app/audit?object_type=dpa&object_id=" + strconv.FormatInt(id, 10)
	return s.render(c, status, "dpa", p.DPA.Counterparty, p)
}

func (s *Server) setDPAStatus(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	var in privacy.StatusInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	d, err := s.privacy.SetDPAStatus(c.Request().Context(), actor(c), id, in)
	if ok, status, msg, fields := formFailure(err); ok {
		if len(fields) == 0 {
			fields = map[string]string{"status": msg}
		}
		return s.showDPA(c, status, dpaPage{StatusErrors: fields})
	} else if err != nil {
		return err
	}
	s.flash(c, "The DPA with "+d.Counterparty+" is now "+d.Status+".")
	return seeOther(c, "/app/privacy/dpas/"+strconv.FormatInt(id, 10))
}

func (s *Server) uploadDPAFile(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return s.showDPA(c, http.StatusUnprocessableEntity, dpaPage{FileError: "choose the signed PDF to upload"})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = s.privacy.AttachFile(c.Request().Context(), actor(c), id, fh.Filename, f)
	if ok, status, msg, fields := formFailure(err); ok {
		if m, ok := fields["file"]; ok {
			msg = "The file " + m + "."
		}
		return s.showDPA(c, status, dpaPage{FileError: msg})
	} else if err != nil {
		return err
	}
	s.flash(c, "Stored the signed DPA ("+fh.Filename+").")
	return seeOther(c, "/app/privacy/dpas/"+strconv.FormatInt(id, 10))
}

func (s *Server) dpaFile(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	d, err := s.privacy.DPA(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if d.FileSHA256 == "" {
		return apperr.New(apperr.NotFound, "no signed file has been uploaded for this DPA")
	}
	return sendFile(c, s.files, d.FileSHA256, d.FileName, "application/pdf")
}

type subprocessorsAdminPage struct {
	Subprocessors []privacy.Subprocessor
	Notices       []privacy.NoticeView
	Active        int64
	Pending       int64
	NoticeDays    int
}

func (s *Server) subprocessorsAdminPage(c echo.Context) error {
	ctx := c.Request().Context()
	subs, err := s.privacy.Subprocessors(ctx, "")
	if err != nil {
		return err
	}
	notices, err := s.privacy.Notices(ctx, privacy.NoticeFilter{NewestFirst: true, Limit: 100})
	if err != nil {
		return err
	}
	active, pending, err := s.privacy.SubscriberCounts(ctx)
	if err != nil {
		return err
	}
	days, err := s.privacy.NoticePeriod(ctx)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "subprocessors", "Sub-processors", subprocessorsAdminPage{Subprocessors: subs, Notices: notices,
		Active: active, Pending: pending, NoticeDays: days})
}

type subprocessorForm struct {
	ID         int64
	Current    *privacy.Subprocessor
	Input      privacy.SubprocessorInput
	Errors     map[string]string
	Message    string
	Mechanisms any
	Vendors    []privacy.DPA
	// The announce form, on an existing sub-processor's page.
	Notice       privacy.NoticeInput
	NoticeErrors map[string]string
	NoticeDays   int
	Earliest     string
	Active       []privacy.Subprocessor
	Notices      []privacy.NoticeView
}

func (s *Server) newSubprocessorForm(c echo.Context) error {
	return s.showSubprocessorForm(c, http.StatusOK, subprocessorForm{Input: privacy.SubprocessorInput{TransferMechanism: "eu_scc"}})
}

func (s *Server) subprocessorPage(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrSubprocessorNotFound)
	if err != nil {
		return err
	}
	p, err := s.privacy.Subprocessor(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.showSubprocessorForm(c, http.StatusOK, subprocessorForm{ID: id, Current: p, Input: privacy.SubprocessorInputOf(p)})
}

func (s *Server) showSubprocessorForm(c echo.Context, status int, f subprocessorForm) error {
	ctx := c.Request().Context()
	var err error
	f.Mechanisms = privacy.TransferMechanisms
	if f.Vendors, err = s.privacy.VendorDPAs(ctx); err != nil {
		return err
	}
	if f.ID != 0 {
		if f.Current == nil {
			if f.Current, err = s.privacy.Subprocessor(ctx, f.ID); err != nil {
				return err
			}
		}
		if f.NoticeDays, err = s.privacy.NoticePeriod(ctx); err != nil {
			return err
		}
		f.Earliest = s.timeNow().AddDate(0, 0, max(f.NoticeDays, 1)).Format("2006-01-02")
		if f.Notice.EffectiveOn == "" {
			f.Notice.EffectiveOn = f.Earliest
		}
		if f.Active, err = s.privacy.Subprocessors(ctx, privacy.Active); err != nil {
			return err
		}
		all, err := s.privacy.Notices(ctx, privacy.NoticeFilter{NewestFirst: true})
		if err != nil {
			return err
		}
		for _, n := range all {
			if n.SubprocessorID == f.ID || (n.ReplacesID != nil && *n.ReplacesID == f.ID) {
				f.Notices = append(f.Notices, n)
			}
		}
	}
	title := "New sub-processor"
	if f.Current != nil {
		title = f.Current.Name
	}
	return s.render(c, status, "subprocessor", title, f)
}

func (s *Server) saveSubprocessor(c echo.Context) error {
	var in privacy.SubprocessorInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	var id int64
	var err error
	if c.Param("id") != "" {
		if id, err = pathID(c, "id", privacy.ErrSubprocessorNotFound); err != nil {
			return err
		}
	}
	var p *privacy.Subprocessor
	if id == 0 {
		p, err = s.privacy.CreateSubprocessor(c.Request().Context(), actor(c), in)
	} else {
		p, err = s.privacy.UpdateSubprocessor(c.Request().Context(), actor(c), id, in)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return s.showSubprocessorForm(c, status, subprocessorForm{ID: id, Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	s.flash(c, "Saved "+p.Name+".")
	return seeOther(c, "/app/privacy/subprocessors/"+strconv.FormatInt(p.ID, 10))
}

func (s *Server) announceChange(c echo.Context) error {
	var in privacy.NoticeInput
	if err := c.Bind(&in); err != nil {
		return apperr.Field("form", "could not be read")
	}
	n, sent, err := s.privacy.Announce(c.Request().Context(), actor(c), in)
	if ok, status, msg, fields := formFailure(err); ok {
		if len(fields) == 0 {
			fields = map[string]string{"change": msg}
		}
		p, perr := s.privacy.Subprocessor(c.Request().Context(), in.SubprocessorID)
		if perr != nil {
			return err
		}
		return s.showSubprocessorForm(c, status, subprocessorForm{ID: p.ID, Current: p, Input: privacy.SubprocessorInputOf(p), Notice: in, NoticeErrors: fields})
	} else if err != nil {
		return err
	}
	s.flash(c, "Announced; "+strconv.Itoa(sent)+" notice email(s) queued. The change applies on "+n.EffectiveOn.Format("2006-01-02")+".")
	return seeOther(c, "/app/privacy/notices/"+strconv.FormatInt(n.ID, 10))
}

func (s *Server) noticePage(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrNoticeNotFound)
	if err != nil {
		return err
	}
	d, err := s.privacy.NoticeByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "notice", "Change notice", d)
}

func (s *Server) withdrawNotice(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrNoticeNotFound)
	if err != nil {
		return err
	}
	if _, err := s.privacy.Withdraw(c.Request().Context(), actor(c), id); apperr.Is(err, apperr.Conflict) {
		s.flash(c, err.Error())
	} else if err != nil {
		return err
	} else {
		s.flash(c, "The change is withdrawn and will not apply.")
	}
	return seeOther(c, "/app/privacy/notices/"+strconv.FormatInt(id, 10))
}
