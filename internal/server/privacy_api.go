package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

func (h *privacyHandlers) apiListDPAs(c echo.Context) error {
	offset, limit, err := pageQuery(c, 100, 1000)
	if err != nil {
		return err
	}
	var f dpaFilterRequest
	if err := bind(c, &f); err != nil {
		return err
	}
	p, err := h.privacy.ListDPAs(c.Request().Context(), privacy.DPAFilter(f), offset, limit)
	if err != nil {
		return err
	}
	resp := listResponse[dpaJSON]{Items: []dpaJSON{}}
	for i := range p.DPAs {
		resp.Items = append(resp.Items, toDPAJSON(&p.DPAs[i]))
	}
	if int64(offset+limit) < p.Total {
		resp.NextCursor = encodeCursor(offset + limit)
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *privacyHandlers) apiGetDPA(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	return h.respondDPA(c, http.StatusOK, id)
}

func (h *privacyHandlers) respondDPA(c echo.Context, status int, id int64) error {
	d, err := h.privacy.DPA(c.Request().Context(), id)
	if err != nil {
		return err
	}
	history, err := h.privacy.DPAHistory(c.Request().Context(), id)
	if err != nil {
		return err
	}
	doc := dpaDetailJSON{dpaJSON: toDPAJSON(d), History: []statusChangeJSON{}}
	for _, h := range history {
		doc.History = append(doc.History, statusChangeJSON{From: h.FromStatus, To: h.ToStatus, At: h.At, By: h.ByLabel, Note: h.Note})
	}
	return c.JSON(status, doc)
}

// dpaJSON is an agreement on the wire; its lists, kept as text in the
// register, go out as arrays.
type dpaJSON struct {
	ID                        int64      `json:"id"`
	Direction                 string     `json:"direction"`
	Counterparty              string     `json:"counterparty"`
	ContactEmail              string     `json:"contact_email"`
	Domain                    string     `json:"domain"`
	Status                    string     `json:"status"`
	TemplateVersion           string     `json:"template_version"`
	SignedOn                  *time.Time `json:"signed_on"`
	EffectiveOn               *time.Time `json:"effective_on"`
	TerminatedOn              *time.Time `json:"terminated_on"`
	OurSignatory              string     `json:"our_signatory"`
	TheirSignatory            string     `json:"their_signatory"`
	DataRegion                string     `json:"data_region"`
	TransferMechanisms        []string   `json:"transfer_mechanisms"`
	SCCModules                []string   `json:"scc_modules"`
	SubprocessorAuthorization string     `json:"subprocessor_authorization"`
	NoticeDays                int        `json:"notice_days"`
	FileSHA256                string     `json:"file_sha256"`
	FileName                  string     `json:"file_name"`
	FileSize                  int64      `json:"file_size"`
	Source                    string     `json:"source"`
	Notes                     string     `json:"notes"`
	CreatedAt                 time.Time  `json:"created_at"`
	UpdatedAt                 time.Time  `json:"updated_at"`
}

func toDPAJSON(d *privacy.DPA) dpaJSON {
	return dpaJSON{ID: d.ID, Direction: d.Direction, Counterparty: d.Counterparty, ContactEmail: d.ContactEmail, Domain: d.Domain,
		Status: d.Status, TemplateVersion: d.TemplateVersion, SignedOn: d.SignedOn, EffectiveOn: d.EffectiveOn, TerminatedOn: d.TerminatedOn,
		OurSignatory: d.OurSignatory, TheirSignatory: d.TheirSignatory, DataRegion: d.DataRegion,
		TransferMechanisms: orEmpty(d.Mechanisms()), SCCModules: orEmpty(d.Modules()),
		SubprocessorAuthorization: d.SubprocessorAuthorization, NoticeDays: d.NoticeDays, FileSHA256: d.FileSHA256,
		FileName: d.FileName, FileSize: d.FileSize, Source: d.Source, Notes: d.Notes, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// dpaDetailJSON is one agreement with its history, oldest step first.
type dpaDetailJSON struct {
	dpaJSON
	History []statusChangeJSON `json:"history"`
}

// statusChangeJSON is one step of an agreement's history.
type statusChangeJSON struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Note string    `json:"note"`
}

// subprocessorJSON is a sub-processor on the wire.
type subprocessorJSON struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	Purpose           string     `json:"purpose"`
	DataCategories    []string   `json:"data_categories"`
	Countries         []string   `json:"countries"`
	TransferMechanism string     `json:"transfer_mechanism"`
	Website           string     `json:"website"`
	VendorDPAID       *int64     `json:"vendor_dpa_id"`
	Status            string     `json:"status"`
	ActiveSince       *time.Time `json:"active_since"`
	RemovedOn         *time.Time `json:"removed_on"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

func toSubprocessorJSON(p *privacy.Subprocessor) subprocessorJSON {
	return subprocessorJSON{ID: p.ID, Name: p.Name, Purpose: p.Purpose, DataCategories: p.Categories(), Countries: p.CountryCodes(),
		TransferMechanism: p.TransferMechanism, Website: p.Website, VendorDPAID: p.VendorDPAID, Status: p.Status,
		ActiveSince: p.ActiveSince, RemovedOn: p.RemovedOn, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (h *privacyHandlers) apiCreateDPA(c echo.Context) error {
	var in dpaRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := h.privacy.CreateDPA(c.Request().Context(), actor(c), privacy.DPAInput(in))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/dpas/"+strconv.FormatInt(d.ID, 10))
	return h.respondDPA(c, http.StatusCreated, d.ID)
}

func (h *privacyHandlers) apiUpdateDPA(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	var in dpaRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if _, err := h.privacy.UpdateDPA(c.Request().Context(), actor(c), id, privacy.DPAInput(in)); err != nil {
		return err
	}
	return h.respondDPA(c, http.StatusOK, id)
}

func (h *privacyHandlers) apiSetDPAStatus(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	var in dpaStatusRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	if _, err := h.privacy.SetDPAStatus(c.Request().Context(), actor(c), id, privacy.StatusInput(in)); err != nil {
		return err
	}
	return h.respondDPA(c, http.StatusOK, id)
}

// apiUploadDPAFile takes the signed PDF as a multipart field "file".
func (h *privacyHandlers) apiUploadDPAFile(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apperr.Field("file", "send the signed PDF as the multipart field \"file\"")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := h.privacy.AttachFile(c.Request().Context(), actor(c), id, fh.Filename, f); err != nil {
		return err
	}
	return h.respondDPA(c, http.StatusOK, id)
}

// subprocessorListRequest is the query of the sub-processor list.
type subprocessorListRequest struct {
	Status string `query:"status"`
}

func (h *privacyHandlers) apiListSubprocessors(c echo.Context) error {
	var req subprocessorListRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	subs, err := h.privacy.Subprocessors(c.Request().Context(), req.Status)
	if err != nil {
		return err
	}
	resp := listResponse[subprocessorJSON]{Items: []subprocessorJSON{}}
	for i := range subs {
		resp.Items = append(resp.Items, toSubprocessorJSON(&subs[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *privacyHandlers) apiGetSubprocessor(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrSubprocessorNotFound)
	if err != nil {
		return err
	}
	p, err := h.privacy.Subprocessor(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSubprocessorJSON(p))
}

func (h *privacyHandlers) apiCreateSubprocessor(c echo.Context) error {
	var in subprocessorRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	p, err := h.privacy.CreateSubprocessor(c.Request().Context(), actor(c), privacy.SubprocessorInput(in))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/subprocessors/"+strconv.FormatInt(p.ID, 10))
	return c.JSON(http.StatusCreated, toSubprocessorJSON(p))
}

func (h *privacyHandlers) apiUpdateSubprocessor(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrSubprocessorNotFound)
	if err != nil {
		return err
	}
	var in subprocessorRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	p, err := h.privacy.UpdateSubprocessor(c.Request().Context(), actor(c), id, privacy.SubprocessorInput(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSubprocessorJSON(p))
}

// noticeListRequest is the query of the notice list.
type noticeListRequest struct {
	State string `query:"state"`
}

func (h *privacyHandlers) apiListNotices(c echo.Context) error {
	var req noticeListRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	var states []string
	if req.State != "" {
		states = []string{req.State}
	}
	ns, err := h.privacy.Notices(c.Request().Context(), privacy.NoticeFilter{States: states, NewestFirst: true})
	if err != nil {
		return err
	}
	resp := listResponse[noticeJSON]{Items: []noticeJSON{}}
	for i := range ns {
		resp.Items = append(resp.Items, toNoticeJSON(&ns[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

// noticeJSON is a notice of a change to the sub-processors, with the
// sub-processors it concerns and its counts.
type noticeJSON struct {
	ID             int64             `json:"id"`
	Change         string            `json:"change"`
	SubprocessorID int64             `json:"subprocessor_id"`
	ReplacesID     *int64            `json:"replaces_id"`
	Summary        string            `json:"summary"`
	AnnouncedAt    time.Time         `json:"announced_at"`
	EffectiveOn    time.Time         `json:"effective_on"`
	State          string            `json:"state"`
	AppliedAt      *time.Time        `json:"applied_at"`
	WithdrawnAt    *time.Time        `json:"withdrawn_at"`
	AnnouncedBy    string            `json:"announced_by"`
	Subprocessor   subprocessorJSON  `json:"subprocessor"`
	Replaces       *subprocessorJSON `json:"replaces,omitempty"`
	Recipients     int64             `json:"recipients"`
	Objections     int64             `json:"objections"`
}

func toNoticeJSON(v *privacy.NoticeView) noticeJSON {
	n := v.Notice
	j := noticeJSON{ID: n.ID, Change: n.Change, SubprocessorID: n.SubprocessorID, ReplacesID: n.ReplacesID, Summary: n.Summary,
		AnnouncedAt: n.AnnouncedAt, EffectiveOn: n.EffectiveOn, State: n.State, AppliedAt: n.AppliedAt, WithdrawnAt: n.WithdrawnAt,
		AnnouncedBy: n.AnnouncedBy, Subprocessor: toSubprocessorJSON(&v.Subprocessor), Recipients: v.Recipients, Objections: v.Objections}
	if v.Replaces != nil {
		r := toSubprocessorJSON(v.Replaces)
		j.Replaces = &r
	}
	return j
}

// noticeDetailJSON is one notice with its objections and the addresses
// it was sent to.
type noticeDetailJSON struct {
	noticeJSON
	Objections []objectionJSON `json:"objection_list"`
	SentTo     []string        `json:"sent_to"`
}

// objectionJSON is a customer's objection to a notice.
type objectionJSON struct {
	ID        int64     `json:"id"`
	NoticeID  int64     `json:"notice_id"`
	DPAID     *int64    `json:"dpa_id"`
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

func (h *privacyHandlers) respondNotice(c echo.Context, status int, id int64) error {
	d, err := h.privacy.NoticeByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	j := noticeDetailJSON{noticeJSON: toNoticeJSON(&d.NoticeView), Objections: []objectionJSON{}, SentTo: []string{}}
	for _, o := range d.Objections {
		j.Objections = append(j.Objections, objectionJSON{ID: o.ID, NoticeID: o.NoticeID, DPAID: o.DPAID, Email: o.Email, Reason: o.Reason, CreatedAt: o.CreatedAt})
	}
	for _, r := range d.Sent {
		j.SentTo = append(j.SentTo, r.Email)
	}
	return c.JSON(status, j)
}

func (h *privacyHandlers) apiGetNotice(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrNoticeNotFound)
	if err != nil {
		return err
	}
	return h.respondNotice(c, http.StatusOK, id)
}

func (h *privacyHandlers) apiAnnounce(c echo.Context) error {
	var in noticeRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	n, _, err := h.privacy.Announce(c.Request().Context(), actor(c), privacy.NoticeInput(in))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/subprocessor-notices/"+strconv.FormatInt(n.ID, 10))
	return h.respondNotice(c, http.StatusCreated, n.ID)
}

func (h *privacyHandlers) apiWithdrawNotice(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrNoticeNotFound)
	if err != nil {
		return err
	}
	if _, err := h.privacy.Withdraw(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return h.respondNotice(c, http.StatusOK, id)
}
