package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

func (h *privacyHandlers) apiListDPAs(c echo.Context) error {
	limit, err := parseLimit(c.QueryParam("limit"), 100, 1000)
	if err != nil {
		return err
	}
	offset, err := decodeCursor(c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	f := privacy.DPAFilter{Direction: c.QueryParam("direction"), Status: c.QueryParam("status"), Q: c.QueryParam("q")}
	p, err := h.privacy.ListDPAs(c.Request().Context(), f, offset, limit)
	if err != nil {
		return err
	}
	resp := listResponse[privacy.DPA]{Items: p.DPAs}
	if resp.Items == nil {
		resp.Items = []privacy.DPA{}
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
	// The DPA encodes itself (its lists are kept as text); the history is
	// added beside its fields.
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if history == nil {
		history = []privacy.StatusChange{}
	}
	doc["history"] = history
	return c.JSON(status, doc)
}

func (h *privacyHandlers) apiCreateDPA(c echo.Context) error {
	var in privacy.DPAInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	d, err := h.privacy.CreateDPA(c.Request().Context(), actor(c), in)
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
	var in privacy.DPAInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	if _, err := h.privacy.UpdateDPA(c.Request().Context(), actor(c), id, in); err != nil {
		return err
	}
	return h.respondDPA(c, http.StatusOK, id)
}

func (h *privacyHandlers) apiSetDPAStatus(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrDPANotFound)
	if err != nil {
		return err
	}
	var in privacy.StatusInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	if _, err := h.privacy.SetDPAStatus(c.Request().Context(), actor(c), id, in); err != nil {
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

func (h *privacyHandlers) apiListSubprocessors(c echo.Context) error {
	subs, err := h.privacy.Subprocessors(c.Request().Context(), c.QueryParam("status"))
	if err != nil {
		return err
	}
	if subs == nil {
		subs = []privacy.Subprocessor{}
	}
	return c.JSON(http.StatusOK, listResponse[privacy.Subprocessor]{Items: subs})
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
	return c.JSON(http.StatusOK, p)
}

func (h *privacyHandlers) apiCreateSubprocessor(c echo.Context) error {
	var in privacy.SubprocessorInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	p, err := h.privacy.CreateSubprocessor(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/subprocessors/"+strconv.FormatInt(p.ID, 10))
	return c.JSON(http.StatusCreated, p)
}

func (h *privacyHandlers) apiUpdateSubprocessor(c echo.Context) error {
	id, err := pathID(c, "id", privacy.ErrSubprocessorNotFound)
	if err != nil {
		return err
	}
	var in privacy.SubprocessorInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	p, err := h.privacy.UpdateSubprocessor(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *privacyHandlers) apiListNotices(c echo.Context) error {
	var states []string
	if st := c.QueryParam("state"); st != "" {
		if st != privacy.Scheduled && st != privacy.Applied && st != privacy.Withdrawn {
			return apperr.Field("state", "must be scheduled, applied or withdrawn")
		}
		states = []string{st}
	}
	ns, err := h.privacy.Notices(c.Request().Context(), privacy.NoticeFilter{States: states, NewestFirst: true})
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []privacy.NoticeView{}
	}
	return c.JSON(http.StatusOK, listResponse[privacy.NoticeView]{Items: ns})
}

type noticeJSON struct {
	privacy.NoticeView
	Objections []privacy.Objection `json:"objection_list"`
	SentTo     []string            `json:"sent_to"`
}

func (h *privacyHandlers) respondNotice(c echo.Context, status int, id int64) error {
	d, err := h.privacy.NoticeByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	j := noticeJSON{NoticeView: d.NoticeView, Objections: d.Objections, SentTo: []string{}}
	if j.Objections == nil {
		j.Objections = []privacy.Objection{}
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
	var in privacy.NoticeInput
	if err := bindBody(c, &in); err != nil {
		return err
	}
	n, _, err := h.privacy.Announce(c.Request().Context(), actor(c), in)
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
