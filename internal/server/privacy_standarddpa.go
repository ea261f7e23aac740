package server

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

// The standard DPA's versions on the dashboard: editors draft, another
// editor approves, and an approved version is published (issue 18, item 4).

type standardDPAListPage struct {
	Versions []privacy.StandardDPAVersion
	Open     *privacy.StandardDPAVersion // the version in preparation, if any
}

func (h *privacyHandlers) standardDPAPage(c echo.Context) error {
	versions, err := h.privacy.StandardDPAVersions(c.Request().Context())
	if err != nil {
		return err
	}
	p := standardDPAListPage{Versions: versions}
	for i := range versions {
		if versions[i].Open() {
			p.Open = &versions[i]
		}
	}
	return h.render(c, http.StatusOK, "standard_dpa", "Standard DPA", p)
}

// standardDPANumber reads the version number in the path; anything but a
// positive number is a version that does not exist.
func standardDPANumber(c echo.Context) (int, error) {
	n, err := strconv.Atoi(c.Param("number"))
	if err != nil || n < 1 {
		return 0, privacy.ErrStandardDPANotFound
	}
	return n, nil
}

type standardDPAVersionPage struct {
	Version *privacy.StandardDPAVersion
	Body    template.HTML
	Message string
}

func (h *privacyHandlers) standardDPAVersionPage(c echo.Context) error {
	return h.showStandardDPA(c, http.StatusOK, "")
}

func (h *privacyHandlers) showStandardDPA(c echo.Context, status int, msg string) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	v, err := h.privacy.StandardDPA(c.Request().Context(), n)
	if err != nil {
		return err
	}
	body, err := h.renderMarkdown(v.Body)
	if err != nil {
		return err
	}
	return h.render(c, status, "standard_dpa_version", "Standard DPA version "+strconv.Itoa(v.Number),
		standardDPAVersionPage{Version: v, Body: body, Message: msg})
}

// standardDPAForm is the editor of a version: Markdown with a preview.
type standardDPAForm struct {
	Number        int // 0 for a new version
	Body          string
	ChangeSummary string
	Preview       template.HTML
	Errors        map[string]string
	Message       string
}

// standardDPARequest is a version's text as the editor posts it, or as the
// API sends it; Preview asks for the preview instead of saving.
type standardDPARequest struct {
	Body          string `json:"body" form:"body"`
	ChangeSummary string `json:"change_summary" form:"change_summary"`
	Preview       string `json:"-" form:"preview"`
}

func (r standardDPARequest) draft() privacy.StandardDPADraft {
	return privacy.StandardDPADraft{Body: r.Body, ChangeSummary: r.ChangeSummary}
}

func (h *privacyHandlers) newStandardDPAForm(c echo.Context) error {
	f := standardDPAForm{}
	if cur, err := h.privacy.CurrentStandardDPA(c.Request().Context()); err == nil {
		f.Body = cur.Body
	} else if apperr.KindOf(err) != apperr.NotFound {
		return err
	}
	return h.render(c, http.StatusOK, "standard_dpa_form", "New version of the standard DPA", f)
}

func (h *privacyHandlers) createStandardDPA(c echo.Context) error {
	var req standardDPARequest
	if err := bind(c, &req); err != nil {
		return err
	}
	f := standardDPAForm{Body: req.Body, ChangeSummary: req.ChangeSummary}
	if req.Preview != "" {
		return h.previewStandardDPA(c, f)
	}
	v, err := h.privacy.DraftStandardDPA(c.Request().Context(), actor(c), req.draft())
	if err != nil {
		return h.standardDPAFormError(c, f, err)
	}
	h.flash(c, "Draft "+strconv.Itoa(v.Number)+" saved. Another editor or admin must approve it before it can be published.")
	return seeOther(c, "/app/privacy/standard-dpa/"+strconv.Itoa(v.Number))
}

func (h *privacyHandlers) editStandardDPAForm(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	v, err := h.privacy.StandardDPA(c.Request().Context(), n)
	if err != nil {
		return err
	}
	if !v.Open() {
		return privacy.ErrStandardDPAImmutable
	}
	f := standardDPAForm{Number: v.Number, Body: v.Body, ChangeSummary: v.ChangeSummary}
	if v.Status == privacy.DPAApproved {
		f.Message = "This version is approved. Saving changes returns it to draft, and it must be approved again."
	}
	return h.render(c, http.StatusOK, "standard_dpa_form", "Edit the standard DPA", f)
}

func (h *privacyHandlers) updateStandardDPA(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	var req standardDPARequest
	if err := bind(c, &req); err != nil {
		return err
	}
	f := standardDPAForm{Number: n, Body: req.Body, ChangeSummary: req.ChangeSummary}
	if req.Preview != "" {
		return h.previewStandardDPA(c, f)
	}
	v, err := h.privacy.EditStandardDPA(c.Request().Context(), actor(c), n, req.draft())
	if err != nil {
		return h.standardDPAFormError(c, f, err)
	}
	h.flash(c, "Draft "+strconv.Itoa(v.Number)+" saved.")
	return seeOther(c, "/app/privacy/standard-dpa/"+strconv.Itoa(v.Number))
}

func (h *privacyHandlers) previewStandardDPA(c echo.Context, f standardDPAForm) error {
	var err error
	if f.Preview, err = h.renderMarkdown(f.Body); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "standard_dpa_form", "Preview: standard DPA", f)
}

// standardDPAFormError shows the form again with what was typed: field
// errors beside their fields (422), a conflict as a message (409).
func (h *privacyHandlers) standardDPAFormError(c echo.Context, f standardDPAForm, err error) error {
	ok, status, msg, fields := formFailure(err)
	if !ok {
		return err
	}
	f.Errors, f.Message = fields, msg
	return h.render(c, status, "standard_dpa_form", "Standard DPA", f)
}

func (h *privacyHandlers) approveStandardDPA(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	_, err = h.privacy.ApproveStandardDPA(c.Request().Context(), actor(c), n)
	return h.afterStandardDPAStep(c, n, err, "approved")
}

func (h *privacyHandlers) publishStandardDPA(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	_, err = h.privacy.PublishStandardDPA(c.Request().Context(), actor(c), n)
	return h.afterStandardDPAStep(c, n, err, "published: customers sign it on /trust/dpa from now on")
}

// afterStandardDPAStep redirects to the version with a message, or shows
// it again with the reason the step was refused.
func (h *privacyHandlers) afterStandardDPAStep(c echo.Context, n int, err error, done string) error {
	if err != nil {
		if k := apperr.KindOf(err); k == apperr.Forbidden || k == apperr.Conflict {
			status, _, msg, _ := classify(err)
			return h.showStandardDPA(c, status, msg)
		}
		return err
	}
	h.flash(c, "Version "+strconv.Itoa(n)+" "+done+".")
	return seeOther(c, "/app/privacy/standard-dpa/"+strconv.Itoa(n))
}
