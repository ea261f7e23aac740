package server

import (
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/labstack/echo/v4"
)

type versionJSON struct {
	Version       string     `json:"version"`
	Status        string     `json:"status"`
	Material      bool       `json:"material"`
	ChangeSummary string     `json:"change_summary"`
	SHA256        string     `json:"sha256,omitempty"`
	Author        string     `json:"author"`
	ApprovedBy    string     `json:"approved_by,omitempty"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
	PublishedBy   string     `json:"published_by,omitempty"`
	PublishedAt   *time.Time `json:"published_at,omitempty"`
	SupersededAt  *time.Time `json:"superseded_at,omitempty"`
	Approver      string     `json:"approver,omitempty"`
	SubmittedAt   *time.Time `json:"submitted_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	Body          string     `json:"body,omitempty"`
}

func toVersionJSON(v *policy.Version, withBody bool) *versionJSON {
	if v == nil {
		return nil
	}
	j := &versionJSON{Version: v.Number(), Status: string(v.Status), Material: v.Material, ChangeSummary: v.ChangeSummary,
		SHA256: v.SHA256, Author: v.Author, ApprovedBy: v.ApprovedBy, ApprovedAt: utc(v.ApprovedAt),
		PublishedBy: v.PublishedBy, PublishedAt: utc(v.PublishedAt), SupersededAt: utc(v.SupersededAt), Approver: v.Approver, CreatedAt: v.CreatedAt.UTC()}
	if v.Waiting() {
		j.SubmittedAt = utc(v.SubmittedAt)
	}
	if withBody {
		j.Body = v.Body
	}
	return j
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type policyJSON struct {
	Slug                 string       `json:"slug"`
	Title                string       `json:"title"`
	OwnerRole            string       `json:"owner_role"`
	ReviewIntervalMonths int          `json:"review_interval_months"`
	TSC                  []string     `json:"tsc"`
	Status               string       `json:"status"`
	ReviewState          string       `json:"review_state"`
	NextReviewAt         *time.Time   `json:"next_review_at"`
	LastReviewedAt       *time.Time   `json:"last_reviewed_at"`
	CurrentVersion       *versionJSON `json:"current_version"`
	PendingVersion       *versionJSON `json:"pending_version"`
}

func toPolicyJSON(s *policy.Summary, withBody bool) policyJSON {
	return policyJSON{Slug: s.Slug, Title: s.Title, OwnerRole: s.OwnerRole, ReviewIntervalMonths: s.ReviewIntervalMonths,
		TSC: s.Criteria(), Status: s.StatusLabel(), ReviewState: string(s.Review), NextReviewAt: utc(s.NextReviewAt),
		LastReviewedAt: utc(s.LastReviewedAt), CurrentVersion: toVersionJSON(s.Current, withBody),
		PendingVersion: toVersionJSON(s.Pending, false)}
}

func (h *policyHandlers) apiListPolicies(c echo.Context) error {
	offset, limit, err := pageQuery(c, 50, 200)
	if err != nil {
		return err
	}
	order := c.QueryParam("order")
	if order != "" && order != "asc" && order != "desc" {
		return apperr.Field("order", "must be asc or desc")
	}
	list, err := h.policies.List(c.Request().Context(), policy.ListOptions{Sort: c.QueryParam("sort"), Desc: order == "desc",
		Status: policy.Status(c.QueryParam("status")), Review: policy.ReviewState(c.QueryParam("review"))})
	if err != nil {
		return err
	}
	resp := listResponse[policyJSON]{Items: []policyJSON{}}
	for i := offset; i < len(list) && i < offset+limit; i++ {
		resp.Items = append(resp.Items, toPolicyJSON(&list[i], false))
	}
	if offset+limit < len(list) {
		resp.NextCursor = encodeCursor(offset + limit)
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *policyHandlers) apiGetPolicy(c echo.Context) error {
	d, err := h.policies.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	sum := policy.Summary{Policy: d.Policy, Current: d.Current, Pending: d.Pending(), Review: d.Review}
	return c.JSON(http.StatusOK, toPolicyJSON(&sum, true))
}

func (h *policyHandlers) apiListVersions(c echo.Context) error {
	d, err := h.policies.Get(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	resp := listResponse[*versionJSON]{Items: []*versionJSON{}}
	for i := range d.Versions {
		resp.Items = append(resp.Items, toVersionJSON(&d.Versions[i], false))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *policyHandlers) apiGetVersion(c echo.Context) error {
	_, v, err := h.policies.Version(c.Request().Context(), c.Param("slug"), c.Param("version"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toVersionJSON(v, true))
}

// versionRequest is the body of creating or changing a draft, which
// submits it for approval; Approver optionally names the editor or admin
// asked to approve it, by email.
type versionRequest struct {
	Body          string `json:"body"`
	ChangeSummary string `json:"change_summary"`
	Material      *bool  `json:"material"`
	Approver      string `json:"approver"`
}

func (h *policyHandlers) apiCreateVersion(c echo.Context) error {
	var req versionRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := h.policies.CreateDraft(c.Request().Context(), actor(c), c.Param("slug"), policy.Draft(req))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/policies/"+c.Param("slug")+"/versions/"+v.Number())
	return c.JSON(http.StatusCreated, toVersionJSON(v, true))
}

func (h *policyHandlers) apiUpdateVersion(c echo.Context) error {
	// A published version is refused before the body is looked at: it is a
	// state conflict whatever the body says.
	_, v, err := h.policies.Version(c.Request().Context(), c.Param("slug"), c.Param("version"))
	if err != nil {
		return err
	}
	if !v.Open() {
		return policy.ErrImmutable
	}
	var req versionRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err = h.policies.UpdateDraft(c.Request().Context(), actor(c), c.Param("slug"), c.Param("version"), policy.Draft(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toVersionJSON(v, true))
}

func (h *policyHandlers) apiApproveVersion(c echo.Context) error {
	v, err := h.policies.Approve(c.Request().Context(), actor(c), c.Param("slug"), c.Param("version"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toVersionJSON(v, false))
}

func (h *policyHandlers) apiPublishVersion(c echo.Context) error {
	v, err := h.policies.Publish(c.Request().Context(), actor(c), c.Param("slug"), c.Param("version"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toVersionJSON(v, false))
}

type reviewJSON struct {
	ReviewedBy   string    `json:"reviewed_by"`
	ReviewedAt   time.Time `json:"reviewed_at"`
	Note         string    `json:"note"`
	NextReviewAt time.Time `json:"next_review_at"`
}

func (h *policyHandlers) apiRecordReview(c echo.Context) error {
	var req reviewRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	r, err := h.policies.RecordReview(c.Request().Context(), actor(c), c.Param("slug"), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, reviewJSON{ReviewedBy: r.ReviewedBy, ReviewedAt: r.ReviewedAt.UTC(), Note: r.Note, NextReviewAt: r.NextReviewAt.UTC()})
}
