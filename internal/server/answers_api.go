package server

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/labstack/echo/v4"
)

// answerBody is an answer as a JSON body sends it.
type answerBody struct {
	Question   string         `json:"question"`
	Answer     string         `json:"answer"`
	Access     string         `json:"access"`
	OwnerEmail string         `json:"owner_email"`
	Evidence   []evidenceBody `json:"evidence"`
}

// evidenceBody is one link: a policy (with an optional section) or a
// trust document, by slug.
type evidenceBody struct {
	Policy   string `json:"policy"`
	Section  string `json:"section"`
	Document string `json:"document"`
}

func (b answerBody) toInput() questionnaire.Input {
	in := questionnaire.Input{Question: b.Question, Answer: b.Answer, Access: b.Access, OwnerEmail: b.OwnerEmail}
	for _, e := range b.Evidence {
		in.Evidence = append(in.Evidence, questionnaire.EvidenceInput(e))
	}
	return in
}

type answerJSON struct {
	ID           int64            `json:"id"`
	Question     string           `json:"question"`
	Answer       string           `json:"answer"`
	Access       string           `json:"access"`
	OwnerEmail   string           `json:"owner_email"`
	State        string           `json:"state"`
	Author       string           `json:"author"`
	ApprovedBy   string           `json:"approved_by"`
	ApprovedAt   *time.Time       `json:"approved_at"`
	NeedsReview  bool             `json:"needs_review"`
	ReviewReason string           `json:"review_reason"`
	Evidence     []answerLinkJSON `json:"evidence"`
	UpdatedAt    time.Time        `json:"updated_at"`
}

// answerLinkJSON is one link: policy, section and the version the answer
// was checked against; or document.
type answerLinkJSON struct {
	Policy         string `json:"policy,omitempty"`
	Section        string `json:"section,omitempty"`
	CheckedVersion string `json:"checked_version,omitempty"`
	Document       string `json:"document,omitempty"`
	Title          string `json:"title"`
}

func answerToJSON(a *questionnaire.Answer) answerJSON {
	j := answerJSON{ID: a.ID, Question: a.Question, Answer: a.Answer, Access: string(a.Access), OwnerEmail: a.OwnerEmail, State: string(a.State),
		Author: a.Author, ApprovedBy: a.ApprovedBy, NeedsReview: a.NeedsReview, ReviewReason: a.ReviewReason, UpdatedAt: a.UpdatedAt.UTC(),
		Evidence: []answerLinkJSON{}}
	if a.ApprovedAt != nil {
		t := a.ApprovedAt.UTC()
		j.ApprovedAt = &t
	}
	for _, l := range a.Links {
		j.Evidence = append(j.Evidence, answerLinkJSON{Policy: l.PolicySlug, Section: l.Section, CheckedVersion: l.CheckedVersion,
			Document: l.DocumentSlug, Title: l.Title})
	}
	return j
}

func (h *answerHandlers) apiList(c echo.Context) error {
	var f answerFilter
	if err := bind(c, &f); err != nil {
		return err
	}
	list, err := h.answers.List(c.Request().Context(), f.toFilter())
	if err != nil {
		return err
	}
	resp := listResponse[answerJSON]{Items: []answerJSON{}}
	for i := range list {
		resp.Items = append(resp.Items, answerToJSON(&list[i]))
	}
	return c.JSON(http.StatusOK, resp)
}

func (h *answerHandlers) apiGet(c echo.Context) error {
	id, err := pathID(c, "id", errNoAnswer)
	if err != nil {
		return err
	}
	a, err := h.answers.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, answerToJSON(a))
}

// reread answers with the stored answer, its links' titles filled.
func (h *answerHandlers) reread(c echo.Context, status int, id int64) error {
	a, err := h.answers.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(status, answerToJSON(a))
}

func (h *answerHandlers) apiCreate(c echo.Context) error {
	var b answerBody
	if err := bind(c, &b); err != nil {
		return err
	}
	a, err := h.answers.Create(c.Request().Context(), actor(c), b.toInput())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/answers/%d", a.ID))
	return h.reread(c, http.StatusCreated, a.ID)
}

func (h *answerHandlers) apiUpdate(c echo.Context) error {
	id, err := pathID(c, "id", errNoAnswer)
	if err != nil {
		return err
	}
	var b answerBody
	if err := bind(c, &b); err != nil {
		return err
	}
	if _, err := h.answers.Update(c.Request().Context(), actor(c), id, b.toInput()); err != nil {
		return err
	}
	return h.reread(c, http.StatusOK, id)
}

func (h *answerHandlers) apiApprove(c echo.Context) error {
	id, err := pathID(c, "id", errNoAnswer)
	if err != nil {
		return err
	}
	if _, err := h.answers.Approve(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return h.reread(c, http.StatusOK, id)
}

func (h *answerHandlers) apiReview(c echo.Context) error {
	id, err := pathID(c, "id", errNoAnswer)
	if err != nil {
		return err
	}
	if _, err := h.answers.Review(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return h.reread(c, http.StatusOK, id)
}

// apiSheet is the questionnaire CSV of an API call: the "file" part of a
// multipart body, or the whole body.
func apiSheet(c echo.Context) (io.ReadCloser, error) {
	mediaType, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mediaType == echo.MIMEMultipartForm {
		return sheetUpload(c)
	}
	return c.Request().Body, nil
}

// apiFill takes a questionnaire CSV and answers the same sheet with the
// columns Answer, Access level, Evidence, Match and Library question.
func (h *answerHandlers) apiFill(c echo.Context) error {
	f, err := apiSheet(c)
	if err != nil {
		return err
	}
	defer f.Close()
	var out bytes.Buffer
	if _, err := h.answers.Fill(c.Request().Context(), actor(c), f, &out); err != nil {
		return err
	}
	return sendSheet(c, &out)
}

type importJSON struct {
	Created int `json:"created"`
}

// apiImport adds a CSV's question-and-answer pairs as drafts; the access
// level and owner are query parameters.
func (h *answerHandlers) apiImport(c echo.Context) error {
	var req answerImportForm
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, &req); err != nil {
		return apperr.Field("query", "could not be read")
	}
	f, err := apiSheet(c)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := h.answers.Import(c.Request().Context(), actor(c), f, req.Access, req.OwnerEmail)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, importJSON(res))
}
