package server

import (
	"html/template"
	"net/http"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/labstack/echo/v4"
)

// policyHandlers serve the policies, their versions and reviews, pages and API.
type policyHandlers struct {
	*kit
	policies *policy.Service
}

type policiesPage struct {
	Policies []policy.Summary
	Sort     string
	Desc     bool
	Columns  []sortColumn
}

type sortColumn struct {
	Key, Label string
}

var policyColumns = []sortColumn{
	{"title", "Policy"}, {"owner", "Owner"}, {"version", "Version"}, {"effective", "Effective"},
	{"next_review", "Next review"}, {"status", "Status"},
}

func (h *policyHandlers) policiesPage(c echo.Context) error {
	opt := policy.ListOptions{Sort: c.QueryParam("sort"), Desc: c.QueryParam("order") == "desc"}
	list, err := h.policies.List(c.Request().Context(), opt)
	if err != nil {
		return err
	}
	if opt.Sort == "" {
		opt.Sort = "title"
	}
	return h.render(c, http.StatusOK, "policies", "Policies",
		policiesPage{Policies: list, Sort: opt.Sort, Desc: opt.Desc, Columns: policyColumns})
}

type policyPage struct {
	Detail      *policy.Detail
	Pending     *policy.Version
	Body        template.HTML
	ReviewNote  string
	ReviewError string
}

func (h *policyHandlers) policyPage(c echo.Context) error {
	return h.showPolicy(c, http.StatusOK, "", "")
}

func (h *policyHandlers) showPolicy(c echo.Context, status int, note, noteErr string) error {
	d, err := h.policies.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	p := policyPage{Detail: d, Pending: d.Pending(), ReviewNote: note, ReviewError: noteErr}
	if d.Current != nil {
		if p.Body, err = h.renderMarkdown(d.Current.Body); err != nil {
			return err
		}
	}
	return h.render(c, status, "policy", d.Policy.Title, p)
}

type versionPage struct {
	Policy  *policy.Policy
	Version *policy.Version
	Body    template.HTML
	Message string
	// Previous is the version this one is compared with ("" for the first).
	Previous string
}

func (h *policyHandlers) versionPage(c echo.Context) error {
	return h.showVersion(c, http.StatusOK, "")
}

func (h *policyHandlers) showVersion(c echo.Context, status int, msg string) error {
	p, v, err := h.policies.Version(c.Request().Context(), c.Param("slug"), c.Param("version"))
	if err != nil {
		return err
	}
	body, err := h.renderMarkdown(v.Body)
	if err != nil {
		return err
	}
	d, err := h.policies.Get(c.Request().Context(), p.Slug)
	if err != nil {
		return err
	}
	return h.render(c, status, "version", p.Title+" "+v.Number(), versionPage{Policy: p, Version: v, Body: body, Message: msg, Previous: d.Before(v.Number())})
}

// versionForm is the version editor: Markdown with a server-side preview.
type versionForm struct {
	Policy        *policy.Policy
	Number        string // empty for a new version
	Body          string
	ChangeSummary string
	Material      bool
	Preview       template.HTML
	Errors        map[string]string
	Message       string
}

// versionFormRequest is the version editor as posted: Material is
// "major" for a material change; Preview asks for the preview instead of
// saving.
type versionFormRequest struct {
	Body          string `form:"body"`
	ChangeSummary string `form:"change_summary"`
	Material      string `form:"material"`
	Preview       string `form:"preview"`
}

func (in *versionFormRequest) draft() policy.Draft {
	material := in.Material == "major"
	return policy.Draft{Body: in.Body, ChangeSummary: in.ChangeSummary, Material: &material}
}

func (h *policyHandlers) newVersionForm(c echo.Context) error {
	d, err := h.policies.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	f := versionForm{Policy: &d.Policy}
	if d.Current != nil {
		f.Body = d.Current.Body
	}
	if pend := d.Pending(); pend != nil {
		f.Message = "Version " + pend.Number() + " is already in preparation; edit it instead of starting another."
	}
	return h.render(c, http.StatusOK, "version_form", "New version of "+d.Policy.Title, f)
}

func (h *policyHandlers) createVersion(c echo.Context) error {
	ctx := c.Request().Context()
	var in versionFormRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := h.policies.Get(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	f := versionForm{Policy: &d.Policy, Body: in.Body, ChangeSummary: in.ChangeSummary, Material: in.Material == "major"}
	if in.Preview != "" {
		return h.renderPreview(c, f)
	}
	v, err := h.policies.CreateDraft(ctx, actor(c), d.Policy.Slug, in.draft())
	if err != nil {
		return h.formError(c, f, err)
	}
	h.flash(c, "Draft "+v.Number()+" saved. Another editor or admin must approve it before it can be published.")
	return seeOther(c, "/app/policies/"+d.Policy.Slug+"/versions/"+v.Number())
}

func (h *policyHandlers) editVersionForm(c echo.Context) error {
	p, v, err := h.policies.Version(c.Request().Context(), c.Param("slug"), c.Param("version"))
	if err != nil {
		return err
	}
	if !v.Open() {
		return policy.ErrImmutable
	}
	f := versionForm{Policy: p, Number: v.Number(), Body: v.Body, ChangeSummary: v.ChangeSummary, Material: v.Material}
	if v.Status == policy.StatusApproved {
		f.Message = "This version is approved. Saving changes returns it to draft, and it must be approved again."
	}
	return h.render(c, http.StatusOK, "version_form", "Edit "+p.Title+" "+v.Number(), f)
}

func (h *policyHandlers) updateVersion(c echo.Context) error {
	ctx := c.Request().Context()
	var in versionFormRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	p, v, err := h.policies.Version(ctx, c.Param("slug"), c.Param("version"))
	if err != nil {
		return err
	}
	f := versionForm{Policy: p, Number: v.Number(), Body: in.Body, ChangeSummary: in.ChangeSummary, Material: in.Material == "major"}
	if in.Preview != "" {
		return h.renderPreview(c, f)
	}
	v, err = h.policies.UpdateDraft(ctx, actor(c), p.Slug, v.Number(), in.draft())
	if err != nil {
		return h.formError(c, f, err)
	}
	h.flash(c, "Draft "+v.Number()+" saved.")
	return seeOther(c, "/app/policies/"+p.Slug+"/versions/"+v.Number())
}

func (h *policyHandlers) renderPreview(c echo.Context, f versionForm) error {
	var err error
	if f.Preview, err = h.renderMarkdown(f.Body); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "version_form", "Preview: "+f.Policy.Title, f)
}

// formError shows the form again with what was typed: field errors beside
// their fields (422), a conflict as a message (409).
func (h *policyHandlers) formError(c echo.Context, f versionForm, err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	status, _, msg, fields := classify(e)
	if e.Kind != apperr.Invalid && e.Kind != apperr.Conflict {
		return err
	}
	f.Errors, f.Message = fields, msg
	return h.render(c, status, "version_form", f.Policy.Title, f)
}

func (h *policyHandlers) approveVersion(c echo.Context) error {
	v, err := h.policies.Approve(c.Request().Context(), actor(c), c.Param("slug"), c.Param("version"))
	return h.afterTransition(c, v, err, "approved")
}

func (h *policyHandlers) publishVersion(c echo.Context) error {
	v, err := h.policies.Publish(c.Request().Context(), actor(c), c.Param("slug"), c.Param("version"))
	return h.afterTransition(c, v, err, "published")
}

// afterTransition redirects to the version with a message, or shows the
// version again with the reason the step was refused.
func (h *policyHandlers) afterTransition(c echo.Context, v *policy.Version, err error, verb string) error {
	if err != nil {
		k := apperr.KindOf(err)
		if k == apperr.Forbidden || k == apperr.Conflict {
			status, _, msg, _ := classify(err)
			return h.showVersion(c, status, msg)
		}
		return err
	}
	h.flash(c, "Version "+v.Number()+" "+verb+".")
	return seeOther(c, "/app/policies/"+c.Param("slug")+"/versions/"+v.Number())
}

// reviewRequest is a periodic review, from the policy page's form or the API.
type reviewRequest struct {
	Note string `json:"note" form:"note"`
}

func (h *policyHandlers) recordReview(c echo.Context) error {
	var req reviewRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	note := req.Note
	_, err := h.policies.RecordReview(c.Request().Context(), actor(c), c.Param("slug"), note)
	if err != nil {
		if e, ok := apperr.As(err); ok && (e.Kind == apperr.Invalid || e.Kind == apperr.Conflict) {
			status, _, msg, fields := classify(e)
			if m, ok := fields["note"]; ok {
				msg = "Note " + m
			}
			return h.showPolicy(c, status, note, msg)
		}
		return err
	}
	h.flash(c, "Review recorded; the next review date has moved on.")
	return seeOther(c, "/app/policies/"+c.Param("slug"))
}

type diffPage struct {
	Comparison  *policy.Comparison
	Versions    []policy.Version
	ChangesOnly bool // ?view=changes: changed lines with a little context
}

func (h *policyHandlers) diffPage(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := h.policies.Get(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	from, to := c.QueryParam("from"), c.QueryParam("to")
	if from == "" && to != "" {
		// A version's own page asks for its changes: against the one before.
		if from = d.Before(to); from == "" {
			return apperr.New(apperr.NotFound, "version "+to+" is the first; there is nothing to compare")
		}
	}
	if from == "" || to == "" {
		// Default: the previous version against the newest.
		if len(d.Versions) < 2 {
			return apperr.New(apperr.NotFound, "this policy has only one version; there is nothing to compare")
		}
		to, from = d.Versions[0].Number(), d.Versions[1].Number()
	}
	cmp, err := h.policies.Compare(ctx, d.Policy.Slug, from, to)
	if err != nil {
		return err
	}
	changesOnly := c.QueryParam("view") == "changes"
	if changesOnly {
		cmp.Lines = policy.ChangesOnly(cmp.Lines, policy.DiffContextLines)
	}
	return h.render(c, http.StatusOK, "diff", d.Policy.Title+": "+from+" → "+to, diffPage{Comparison: cmp, Versions: d.Versions, ChangesOnly: changesOnly})
}
