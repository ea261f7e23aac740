package server

import (
	"net/http"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

// privacyHandlers serve the privacy registers (DPAs, sub-processors, change
// notices) and their public forms (subscriptions, DPA requests, objections).
type privacyHandlers struct {
	*kit
	privacy *privacy.Service
	org     *org.Service
	files   *files.Store
}

// dpaRequest is an agreement as a form or a JSON body sends it.
type dpaRequest struct {
	Direction                 string   `json:"direction" form:"direction"`
	Counterparty              string   `json:"counterparty" form:"counterparty"`
	ContactEmail              string   `json:"contact_email" form:"contact_email"`
	Domain                    string   `json:"domain" form:"domain"`
	Status                    string   `json:"status" form:"status"`
	TemplateVersion           string   `json:"template_version" form:"template_version"`
	SignedOn                  string   `json:"signed_on" form:"signed_on"`
	EffectiveOn               string   `json:"effective_on" form:"effective_on"`
	OurSignatory              string   `json:"our_signatory" form:"our_signatory"`
	TheirSignatory            string   `json:"their_signatory" form:"their_signatory"`
	DataRegion                string   `json:"data_region" form:"data_region"`
	TransferMechanisms        []string `json:"transfer_mechanisms" form:"transfer_mechanisms"`
	SCCModules                []string `json:"scc_modules" form:"scc_modules"`
	SubprocessorAuthorization string   `json:"subprocessor_authorization" form:"subprocessor_authorization"`
	NoticeDays                string   `json:"notice_days" form:"notice_days"`
	Notes                     string   `json:"notes" form:"notes"`
}

// dpaStatusRequest moves an agreement on, from the DPA page's form or a
// JSON body.
type dpaStatusRequest struct {
	Status string `json:"status" form:"status"`
	Date   string `json:"date" form:"date"`
	Note   string `json:"note" form:"note"`
}

// dpaFilterRequest is the query of the DPA lists.
type dpaFilterRequest struct {
	Direction string `query:"direction"`
	Status    string `query:"status"`
	Q         string `query:"q"`
}

// subprocessorRequest is a sub-processor as a form or a JSON body sends it.
type subprocessorRequest struct {
	Name              string `json:"name" form:"name"`
	Purpose           string `json:"purpose" form:"purpose"`
	DataCategories    string `json:"data_categories" form:"data_categories"`
	Countries         string `json:"countries" form:"countries"`
	TransferMechanism string `json:"transfer_mechanism" form:"transfer_mechanism"`
	Website           string `json:"website" form:"website"`
	VendorDPAID       string `json:"vendor_dpa_id" form:"vendor_dpa_id"`
	InUse             bool   `json:"in_use" form:"in_use"`
	ActiveSince       string `json:"active_since" form:"active_since"` // YYYY-MM-DD
}

// noticeRequest announces a change, from a sub-processor's page or a JSON
// body.
type noticeRequest struct {
	Change         string `json:"change" form:"change"`
	SubprocessorID int64  `json:"subprocessor_id" form:"subprocessor_id"`
	ReplacesID     int64  `json:"replaces_id" form:"replaces_id"`
	EffectiveOn    string `json:"effective_on" form:"effective_on"`
	Summary        string `json:"summary" form:"summary"`
}

type dpasPage struct {
	DPAs     []privacy.DPA
	Total    int64
	From, To int
	Filter   dpaFilterRequest
	Statuses []string
	PrevURL  string
	NextURL  string
}

// dpasPageSize is how many agreements the dashboard list shows at once.
const dpasPageSize = 50

func (h *privacyHandlers) dpasPage(c echo.Context) error {
	var f dpaFilterRequest
	if err := bind(c, &f); err != nil {
		return err
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
	p, err := h.privacy.ListDPAs(c.Request().Context(), privacy.DPAFilter(f), first, dpasPageSize)
	if err != nil {
		return err
	}
	v := dpasPage{DPAs: p.DPAs, Total: p.Total, From: first + 1, To: first + len(p.DPAs), Filter: f,
		Statuses: append([]string{privacy.OpenStatus}, privacy.DPAStatuses...)}
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
	return h.render(c, http.StatusOK, "dpas", "DPAs", v)
}

type dpaForm struct {
	ID         int64
	Input      dpaRequest
	Errors     map[string]string
	Message    string
	Statuses   []string
	Mechanisms any
}

func (h *privacyHandlers) newDPAForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "dpa_form", "New DPA", dpaForm{Input: dpaRequest{Direction: privacy.Customer, NoticeDays: "30"},
		Statuses: privacy.DPAStatuses, Mechanisms: privacy.TransferMechanisms})
}

func (h *privacyHandlers) editDPAForm(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	d, err := h.privacy.DPA(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "dpa_form", "Edit DPA", dpaForm{ID: id, Input: dpaRequest(privacy.InputOf(d)), Mechanisms: privacy.TransferMechanisms})
}

func (h *privacyHandlers) saveDPA(c echo.Context) error {
	var in dpaRequest
	if err := bind(c, &in); err != nil {
		return err
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
		d, err = h.privacy.CreateDPA(c.Request().Context(), actor(c), privacy.DPAInput(in))
	} else {
		d, err = h.privacy.UpdateDPA(c.Request().Context(), actor(c), id, privacy.DPAInput(in))
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.render(c, status, "dpa_form", "DPA", dpaForm{ID: id, Input: in, Errors: fields, Message: msg,
			Statuses: privacy.DPAStatuses, Mechanisms: privacy.TransferMechanisms})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved the DPA with "+d.Counterparty+".")
	return seeOther(c, "/app/privacy/dpas/"+strconv.FormatInt(d.ID, 10))
}

type dpaPage struct {
	DPA          *privacy.DPA
	History      []privacy.StatusChange
	Subprocessor []privacy.Subprocessor
	// StatusForm, StatusErrors and StatusMessage refill a refused status
	// change; FileErrors and FileMessage report a refused upload.
	StatusForm    dpaStatusRequest
	StatusErrors  map[string]string
	StatusMessage string
	FileErrors    map[string]string
	FileMessage   string
	AuditURL      string
}

func (h *privacyHandlers) dpaPage(c echo.Context) error {
	return h.showDPA(c, http.StatusOK, dpaPage{})
}

func (h *privacyHandlers) showDPA(c echo.Context, status int, p dpaPage) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if p.DPA, err = h.privacy.DPA(ctx, id); err != nil {
		return err
	}
	if p.History, err = h.privacy.DPAHistory(ctx, id); err != nil {
		return err
	}
	p.AuditURL = "/app/audit?object_type=dpa&object_id=" + strconv.FormatInt(id, 10)
	return h.render(c, status, "dpa", p.DPA.Counterparty, p)
}

func (h *privacyHandlers) setDPAStatus(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	var in dpaStatusRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := h.privacy.SetDPAStatus(c.Request().Context(), actor(c), id, privacy.StatusInput(in))
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showDPA(c, status, dpaPage{StatusForm: in, StatusErrors: fields, StatusMessage: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "The DPA with "+d.Counterparty+" is now "+d.Status+".")
	return seeOther(c, "/app/privacy/dpas/"+strconv.FormatInt(id, 10))
}

func (h *privacyHandlers) uploadDPAFile(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return h.showDPA(c, http.StatusUnprocessableEntity, dpaPage{FileErrors: map[string]string{"file": "is required: choose the signed PDF to upload"}})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = h.privacy.AttachFile(c.Request().Context(), actor(c), id, fh.Filename, f)
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showDPA(c, status, dpaPage{FileErrors: fields, FileMessage: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Stored the signed DPA ("+fh.Filename+").")
	return seeOther(c, "/app/privacy/dpas/"+strconv.FormatInt(id, 10))
}

func (h *privacyHandlers) dpaFile(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	d, err := h.privacy.DPA(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if d.FileSHA256 == "" {
		return apperr.New(apperr.NotFound, "no signed file has been uploaded for this DPA")
	}
	return sendFile(c, h.files, d.FileSHA256, d.FileName, "application/pdf")
}

type subprocessorsAdminPage struct {
	Subprocessors []privacy.Subprocessor
	Notices       []privacy.NoticeView
	Active        int64
	Pending       int64
	NoticeDays    int
	// Status and NoticesShown are the filters in force ("" for none).
	Status       string
	NoticesShown string
}

func (h *privacyHandlers) subprocessorsAdminPage(c echo.Context) error {
	ctx := c.Request().Context()
	status, shown := c.QueryParam("status"), c.QueryParam("notices")
	subs, err := h.privacy.Subprocessors(ctx, status)
	if err != nil {
		return err
	}
	nf := privacy.NoticeFilter{NewestFirst: true, Limit: 100}
	switch shown {
	case "":
	case "objected":
		nf.States, nf.Objected = []string{privacy.Scheduled}, true
	default:
		nf.States = []string{shown}
	}
	notices, err := h.privacy.Notices(ctx, nf)
	if err != nil {
		return err
	}
	active, pending, err := h.privacy.SubscriberCounts(ctx)
	if err != nil {
		return err
	}
	days, err := h.privacy.NoticePeriod(ctx)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "subprocessors", "Sub-processors", subprocessorsAdminPage{Subprocessors: subs, Notices: notices,
		Active: active, Pending: pending, NoticeDays: days, Status: status, NoticesShown: shown})
}

type subprocessorForm struct {
	ID         int64
	Current    *privacy.Subprocessor
	Input      subprocessorRequest
	Errors     map[string]string
	Message    string
	Mechanisms any
	Vendors    []privacy.DPA
	// The announce form, on an existing sub-processor's page.
	Notice        noticeRequest
	NoticeErrors  map[string]string
	NoticeMessage string
	NoticeDays    int
	Earliest      string
	Active        []privacy.Subprocessor
	Notices       []privacy.NoticeView
}

func (h *privacyHandlers) newSubprocessorForm(c echo.Context) error {
	return h.showSubprocessorForm(c, http.StatusOK, subprocessorForm{Input: subprocessorRequest{TransferMechanism: "eu_scc"}})
}

func (h *privacyHandlers) subprocessorPage(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrSubprocessorNotFound)
	if err != nil {
		return err
	}
	p, err := h.privacy.Subprocessor(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.showSubprocessorForm(c, http.StatusOK, subprocessorForm{ID: id, Current: p, Input: subprocessorRequest(privacy.SubprocessorInputOf(p))})
}

func (h *privacyHandlers) showSubprocessorForm(c echo.Context, status int, f subprocessorForm) error {
	ctx := c.Request().Context()
	var err error
	f.Mechanisms = privacy.TransferMechanisms
	if f.Vendors, err = h.privacy.VendorDPAs(ctx); err != nil {
		return err
	}
	if f.ID != 0 {
		if f.Current == nil {
			if f.Current, err = h.privacy.Subprocessor(ctx, f.ID); err != nil {
				return err
			}
		}
		if f.NoticeDays, err = h.privacy.NoticePeriod(ctx); err != nil {
			return err
		}
		f.Earliest = h.timeNow().AddDate(0, 0, max(f.NoticeDays, 1)).Format("2006-01-02")
		if f.Notice.EffectiveOn == "" {
			f.Notice.EffectiveOn = f.Earliest
		}
		if f.Active, err = h.privacy.Subprocessors(ctx, privacy.Active); err != nil {
			return err
		}
		all, err := h.privacy.Notices(ctx, privacy.NoticeFilter{NewestFirst: true})
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
	return h.render(c, status, "subprocessor", title, f)
}

func (h *privacyHandlers) saveSubprocessor(c echo.Context) error {
	var in subprocessorRequest
	if err := bind(c, &in); err != nil {
		return err
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
		p, err = h.privacy.CreateSubprocessor(c.Request().Context(), actor(c), privacy.SubprocessorInput(in))
	} else {
		p, err = h.privacy.UpdateSubprocessor(c.Request().Context(), actor(c), id, privacy.SubprocessorInput(in))
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.showSubprocessorForm(c, status, subprocessorForm{ID: id, Input: in, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved "+p.Name+".")
	return seeOther(c, "/app/privacy/subprocessors/"+strconv.FormatInt(p.ID, 10))
}

func (h *privacyHandlers) announceChange(c echo.Context) error {
	var in noticeRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var n *privacy.Notice
	var plan *privacy.AnnouncementPlan
	sent := 0
	var err error
	if confirmed(c) {
		n, sent, err = h.privacy.Announce(ctx, actor(c), privacy.NoticeInput(in))
	} else {
		plan, err = h.privacy.PlanAnnouncement(ctx, privacy.NoticeInput(in))
	}
	if ok, status, msg, fields := formFailure(err); ok {
		p, perr := h.privacy.Subprocessor(c.Request().Context(), in.SubprocessorID)
		if perr != nil {
			return err
		}
		return h.showSubprocessorForm(c, status, subprocessorForm{ID: p.ID, Current: p, Input: subprocessorRequest(privacy.SubprocessorInputOf(p)),
			Notice: in, NoticeErrors: fields, NoticeMessage: msg})
	} else if err != nil {
		return err
	}
	if plan != nil {
		return h.showConfirm(c, http.StatusOK, announceConfirm(in, plan))
	}
	h.flash(c, "Announced; "+strconv.Itoa(sent)+" notice email(s) queued. The change applies on "+n.EffectiveOn.Format("2006-01-02")+".")
	return seeOther(c, "/app/privacy/notices/"+strconv.FormatInt(n.ID, 10))
}

// announceConfirm says whom announcing the change will email, and when it
// applies; its form posts the same notice again, confirmed.
func announceConfirm(in noticeRequest, plan *privacy.AnnouncementPlan) confirmPage {
	back := "/app/privacy/subprocessors/" + strconv.FormatInt(in.SubprocessorID, 10)
	n := plan.Customers + plan.Subscribers
	p := confirmPage{Title: "Announce a sub-processor change", Cancel: back, Back: plan.Subprocessor, Action: "/app/privacy/notices",
		Fields: []hiddenField{{"change", in.Change}, {"subprocessor_id", strconv.FormatInt(in.SubprocessorID, 10)},
			{"replaces_id", strconv.FormatInt(in.ReplacesID, 10)}, {"effective_on", in.EffectiveOn}, {"summary", in.Summary}}}
	effective := plan.Notice.EffectiveOn.Format("2006-01-02")
	p.Lead = "The change applies on " + effective + ". " + plural(n, "email", "emails") + " will be queued: " +
		plural(plan.Customers, "customer", "customers") + " with a signed DPA (each with a personal link to object until " + effective + ") and " +
		plural(plan.Subscribers, "other subscriber", "other subscribers") + " of the trust page."
	p.Details = []string{"Change: " + plan.Notice.Change + " " + plan.Subprocessor, "What the notice says: " + plan.Notice.Summary}
	if plan.Replaces != "" {
		p.Details[0] += " (replacing " + plan.Replaces + ")"
	}
	p.Details = append(p.Details, "The public sub-processor list shows it under upcoming changes from now on.")
	p.Button = "Announce and send " + plural(n, "email", "emails")
	if n == 0 {
		p.Button = "Announce"
	}
	return p
}

func (h *privacyHandlers) noticePage(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrNoticeNotFound)
	if err != nil {
		return err
	}
	d, err := h.privacy.NoticeByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "notice", "Change notice", d)
}

func (h *privacyHandlers) withdrawNotice(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrNoticeNotFound)
	if err != nil {
		return err
	}
	if _, err := h.privacy.Withdraw(c.Request().Context(), actor(c), id); apperr.Is(err, apperr.Conflict) {
		h.flashProblem(c, err)
	} else if err != nil {
		return err
	} else {
		h.flash(c, "The change is withdrawn and will not apply.")
	}
	return seeOther(c, "/app/privacy/notices/"+strconv.FormatInt(id, 10))
}
