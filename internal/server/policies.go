package server

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/exception"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/labstack/echo/v4"
)

// policyHandlers serve the policies, their versions and reviews, pages and API.
type policyHandlers struct {
	*kit
	policies *policy.Service
	// exceptions lists each policy's exceptions on its page.
	exceptions *exception.Service
}

type policiesPage struct {
	Policies []policy.Summary
	Sort     string
	Desc     bool
	Columns  []sortColumn
	// Status and Review are the filters in force ("" for none), kept by
	// the sort links; Filter is them as a query string ("" for none).
	Status   string
	Review   string
	Filter   template.URL
	Statuses []policy.Status
	Reviews  []policy.ReviewState
}

type sortColumn struct {
	Key, Label string
}

var policyColumns = []sortColumn{
	{"title", "Policy"}, {"owner", "Owner"}, {"version", "Version"}, {"effective", "Effective"},
	{"next_review", "Next review"}, {"status", "Status"},
}

func (h *policyHandlers) policiesPage(c echo.Context) error {
	opt := policy.ListOptions{Sort: c.QueryParam("sort"), Desc: c.QueryParam("order") == "desc",
		Status: policy.Status(c.QueryParam("status")), Review: policy.ReviewState(c.QueryParam("review"))}
	list, err := h.policies.List(c.Request().Context(), opt)
	if err != nil {
		return err
	}
	if opt.Sort == "" {
		opt.Sort = "title"
	}
	filter := url.Values{}
	if opt.Status != "" {
		filter.Set("status", string(opt.Status))
	}
	if opt.Review != "" {
		filter.Set("review", string(opt.Review))
	}
	return h.render(c, http.StatusOK, "policies", "Policies",
		policiesPage{Policies: list, Sort: opt.Sort, Desc: opt.Desc, Columns: policyColumns, Status: string(opt.Status), Review: string(opt.Review),
			Filter: template.URL(filter.Encode()), Statuses: policy.ListStatuses, Reviews: policy.ReviewStates})
}

type policyPage struct {
	Detail      *policy.Detail
	Pending     *policy.Version
	Body        template.HTML
	ReviewNote  string
	ReviewError string
	// Exceptions are the policy's exceptions, newest request first;
	// Today tells those in force.
	Exceptions []exception.Exception
	Today      time.Time
}

func (h *policyHandlers) policyPage(c echo.Context) error {
	return h.showPolicy(c, http.StatusOK, "", "")
}

func (h *policyHandlers) showPolicy(c echo.Context, status int, note, noteErr string) error {
	d, err := h.policies.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	p := policyPage{Detail: d, Pending: d.Pending(), ReviewNote: note, ReviewError: noteErr, Today: h.exceptions.Today()}
	if p.Exceptions, err = h.exceptions.List(c.Request().Context(), exception.Filter{Policy: d.Policy.Slug}); err != nil {
		return err
	}
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
	// CanApprove: the signed-in user may approve this version (the rule
	// policy.Service.Approve applies), so the page offers the button.
	CanApprove bool
	Waiting    string // how long the draft has waited for approval
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
	page := versionPage{Policy: p, Version: v, Body: body, Message: msg, Previous: d.Before(v.Number()), CanApprove: canApprove(c, v)}
	if v.Waiting() {
		page.Waiting = policy.Age(v.WaitingSince(), h.now())
	}
	return h.render(c, status, "version", p.Title+" "+v.Number(), page)
}

// canApprove reports whether the signed-in user may approve v.
func canApprove(c echo.Context, v *policy.Version) bool {
	u := currentUser(c)
	return u != nil && u.Role.Allows(auth.Editor) && v.CanApprove(u.ID, u.Role == auth.Admin)
}

// versionForm is the version editor: Markdown with a server-side preview.
// Material is "major", "minor" or "" (not chosen yet: the form preselects
// nothing, so that the editor must say which). Approvers are whom the
// draft may name as its approver.
type versionForm struct {
	Policy        *policy.Policy
	Number        string // empty for a new version
	Body          string
	ChangeSummary string
	Material      string
	Approver      string
	Approvers     []policy.Approver
	Preview       template.HTML
	Errors        map[string]string
	Message       string
}

// versionFormRequest is the version editor as posted: Material is
// "major" for a material change, "minor" for another; Approver the email
// of the approver asked, or empty for any; Preview asks for the preview
// instead of saving.
type versionFormRequest struct {
	Body          string `form:"body"`
	ChangeSummary string `form:"change_summary"`
	Material      string `form:"material"`
	Approver      string `form:"approver"`
	Preview       string `form:"preview"`
}

func (in *versionFormRequest) draft() policy.Draft {
	d := policy.Draft{Body: in.Body, ChangeSummary: in.ChangeSummary, Approver: in.Approver}
	if in.Material == "major" || in.Material == "minor" {
		material := in.Material == "major"
		d.Material = &material
	}
	return d
}

func materialChoice(material bool) string {
	if material {
		return "major"
	}
	return "minor"
}

// withApprovers fills the form's list of possible approvers: every editor
// and admin but the signed-in user and the draft's author.
func (h *policyHandlers) withApprovers(c echo.Context, f *versionForm, author *int64) error {
	all, err := h.policies.Approvers(c.Request().Context())
	if err != nil {
		return err
	}
	me := currentUser(c)
	for _, a := range all {
		if (me != nil && a.UserID == me.ID) || (author != nil && *author == a.UserID) {
			continue
		}
		f.Approvers = append(f.Approvers, a)
	}
	return nil
}

func (h *policyHandlers) newVersionForm(c echo.Context) error {
	d, err := h.policies.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	f := versionForm{Policy: &d.Policy}
	if err := h.withApprovers(c, &f, nil); err != nil {
		return err
	}
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
	f := versionForm{Policy: &d.Policy, Body: in.Body, ChangeSummary: in.ChangeSummary, Material: in.Material, Approver: in.Approver}
	if err := h.withApprovers(c, &f, nil); err != nil {
		return err
	}
	if in.Preview != "" {
		return h.renderPreview(c, f)
	}
	v, err := h.policies.CreateDraft(ctx, actor(c), d.Policy.Slug, in.draft())
	if err != nil {
		return h.formError(c, f, err)
	}
	h.flash(c, "Draft "+v.Number()+" saved and submitted for approval"+approverNote(v)+".")
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
	f := versionForm{Policy: p, Number: v.Number(), Body: v.Body, ChangeSummary: v.ChangeSummary, Material: materialChoice(v.Material), Approver: v.Approver}
	if err := h.withApprovers(c, &f, v.AuthorID); err != nil {
		return err
	}
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
	f := versionForm{Policy: p, Number: v.Number(), Body: in.Body, ChangeSummary: in.ChangeSummary, Material: in.Material, Approver: in.Approver}
	if err := h.withApprovers(c, &f, v.AuthorID); err != nil {
		return err
	}
	if in.Preview != "" {
		return h.renderPreview(c, f)
	}
	v, err = h.policies.UpdateDraft(ctx, actor(c), p.Slug, v.Number(), in.draft())
	if err != nil {
		return h.formError(c, f, err)
	}
	h.flash(c, "Draft "+v.Number()+" saved and submitted for approval again"+approverNote(v)+".")
	return seeOther(c, "/app/policies/"+p.Slug+"/versions/"+v.Number())
}

// approverNote says who was asked to approve v.
func approverNote(v *policy.Version) string {
	if v.Approver != "" {
		return " to " + v.Approver
	}
	return " to the other editors and admins"
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
	// The waiting list approves in place and returns to itself.
	back := localPath(c.FormValue("next"), "/app/policies/"+c.Param("slug")+"/versions/"+v.Number())
	return seeOther(c, back)
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
