package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/privacy"
	"github.com/labstack/echo/v4"
)

// standardDPAJSON is a version of the standard DPA on the API; the text
// only when one version is asked for.
type standardDPAJSON struct {
	Version       int        `json:"version"`
	Status        string     `json:"status"`
	ChangeSummary string     `json:"change_summary"`
	SHA256        string     `json:"sha256,omitempty"`
	Author        string     `json:"author"`
	ApprovedBy    string     `json:"approved_by,omitempty"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
	PublishedBy   string     `json:"published_by,omitempty"`
	PublishedAt   *time.Time `json:"published_at,omitempty"`
	SupersededAt  *time.Time `json:"superseded_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	Body          string     `json:"body,omitempty"`
}

func toStandardDPAJSON(v *privacy.StandardDPAVersion, withBody bool) *standardDPAJSON {
	inUTC := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	j := &standardDPAJSON{Version: v.Number, Status: v.Status, ChangeSummary: v.ChangeSummary, SHA256: v.SHA256, Author: v.Author,
		ApprovedBy: v.ApprovedBy, ApprovedAt: inUTC(v.ApprovedAt), PublishedBy: v.PublishedBy, PublishedAt: inUTC(v.PublishedAt),
		SupersededAt: inUTC(v.SupersededAt), CreatedAt: v.CreatedAt.UTC()}
	if withBody {
		j.Body = v.Body
	}
	return j
}

func (h *privacyHandlers) apiListStandardDPA(c echo.Context) error {
	versions, err := h.privacy.StandardDPAVersions(c.Request().Context())
	if err != nil {
		return err
	}
	resp := listResponse[*standardDPAJSON]{Items: []*standardDPAJSON{}}
	for i := range versions {
		resp.Items = append(resp.Items, toStandardDPAJSON(&versions[i], false))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *privacyHandlers) apiCurrentStandardDPA(c echo.Context) error {
	v, err := h.privacy.CurrentStandardDPA(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStandardDPAJSON(v, true))
}

func (h *privacyHandlers) apiGetStandardDPA(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	v, err := h.privacy.StandardDPA(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStandardDPAJSON(v, true))
}

func (h *privacyHandlers) apiCreateStandardDPA(c echo.Context) error {
	var req standardDPARequest
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := h.privacy.DraftStandardDPA(c.Request().Context(), actor(c), req.draft())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/standard-dpa/"+strconv.Itoa(v.Number))
	return c.JSON(http.StatusCreated, toStandardDPAJSON(v, true))
}

func (h *privacyHandlers) apiUpdateStandardDPA(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	var req standardDPARequest
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := h.privacy.EditStandardDPA(c.Request().Context(), actor(c), n, req.draft())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStandardDPAJSON(v, true))
}

func (h *privacyHandlers) apiApproveStandardDPA(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	v, err := h.privacy.ApproveStandardDPA(c.Request().Context(), actor(c), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStandardDPAJSON(v, false))
}

func (h *privacyHandlers) apiPublishStandardDPA(c echo.Context) error {
	n, err := standardDPANumber(c)
	if err != nil {
		return err
	}
	v, err := h.privacy.PublishStandardDPA(c.Request().Context(), actor(c), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStandardDPAJSON(v, false))
}
