package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/labstack/echo/v4"
)

// answerHandlers serve the questionnaire answer library.
type answerHandlers struct {
	*kit
	answers *questionnaire.Service
}

var errNoAnswer = apperr.New(apperr.NotFound, "no such answer")

// answerForm is an answer as the dashboard's form sends it: the evidence
// one link a line (policy/<slug>, policy/<slug>#<section>, document/<slug>).
type answerForm struct {
	Question   string `form:"question"`
	Answer     string `form:"answer"`
	Access     string `form:"access"`
	OwnerEmail string `form:"owner_email"`
	Evidence   string `form:"evidence"`
}

func (f answerForm) toInput() (questionnaire.Input, error) {
	ev, err := questionnaire.ParseEvidence(f.Evidence)
	return questionnaire.Input{Question: f.Question, Answer: f.Answer, Access: f.Access, OwnerEmail: f.OwnerEmail, Evidence: ev}, err
}

func formOf(a *questionnaire.Answer) answerForm {
	lines := make([]string, len(a.Links))
	for i, l := range a.Links {
		lines[i] = l.String()
	}
	return answerForm{Question: a.Question, Answer: a.Answer, Access: string(a.Access), OwnerEmail: a.OwnerEmail, Evidence: strings.Join(lines, "\n")}
}

// answerFilter is the list's query: words, an access level, flagged only.
type answerFilter struct {
	Query  string `query:"q" form:"q"`
	Access string `query:"access" form:"access"`
	Review string `query:"review" form:"review"`
}

func (f answerFilter) toFilter() questionnaire.Filter {
	return questionnaire.Filter{Query: f.Query, Access: f.Access, Review: f.Review == "1" || f.Review == "true"}
}

type answersPage struct {
	Filter  answerFilter
	Answers []questionnaire.Answer
	Flagged int
}

func (h *answerHandlers) listPage(c echo.Context) error {
	var f answerFilter
	if err := bind(c, &f); err != nil {
		return err
	}
	list, err := h.answers.List(c.Request().Context(), f.toFilter())
	if err != nil {
		return err
	}
	p := answersPage{Filter: f, Answers: list}
	for _, a := range list {
		if a.NeedsReview {
			p.Flagged++
		}
	}
	return h.render(c, http.StatusOK, "answers", "Questionnaire answers", p)
}

// answerPage shows an answer and the forms that change it; a refused
// form comes back with its values and errors.
type answerPage struct {
	Answer  *questionnaire.Answer // nil on the new-answer form
	Input   answerForm
	Errors  map[string]string
	Message string
}

func (h *answerHandlers) newForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "answer", "Add an answer", answerPage{Input: answerForm{Access: string(questionnaire.OnRequest),
		OwnerEmail: currentUser(c).Email}})
}

func (h *answerHandlers) show(c echo.Context, status int, p answerPage) error {
	id, err := pathID(c, "id", errNoAnswer)
	if err != nil {
		return err
	}
	a, err := h.answers.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	p.Answer = a
	if p.Errors == nil && p.Message == "" {
		p.Input = formOf(a)
	}
	return h.render(c, status, "answer", "Answer "+strconv.FormatInt(a.ID, 10), p)
}

func (h *answerHandlers) page(c echo.Context) error { return h.show(c, http.StatusOK, answerPage{}) }

func (h *answerHandlers) create(c echo.Context) error {
	var f answerForm
	if err := bind(c, &f); err != nil {
		return err
	}
	in, err := f.toInput()
	var a *questionnaire.Answer
	if err == nil {
		a, err = h.answers.Create(c.Request().Context(), actor(c), in)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.render(c, status, "answer", "Add an answer", answerPage{Input: f, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved as a draft: another editor approves it.")
	return seeOther(c, fmt.Sprintf("/app/answers/%d", a.ID))
}

func (h *answerHandlers) update(c echo.Context) error {
	id, err := pathID(c, "id", errNoAnswer)
	if err != nil {
		return err
	}
	var f answerForm
	if err := bind(c, &f); err != nil {
		return err
	}
	in, err := f.toInput()
	if err == nil {
		_, err = h.answers.Update(c.Request().Context(), actor(c), id, in)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.show(c, status, answerPage{Input: f, Errors: fields, Message: msg})
	} else if err != nil {
		return err
	}
	h.flash(c, "Saved. A changed answer is a draft again until another editor approves it.")
	return seeOther(c, fmt.Sprintf("/app/answers/%d", id))
}

func (h *answerHandlers) approve(c echo.Context) error {
	return h.settle(c, h.answers.Approve, "Approved.")
}

func (h *answerHandlers) review(c echo.Context) error {
	return h.settle(c, h.answers.Review, "Reviewed: still true of the policies in force.")
}

// settle approves or reviews an answer; a refusal (self-approval, not a
// draft) is shown on the answer's page.
func (h *answerHandlers) settle(c echo.Context, act func(context.Context, audit.Actor, int64) (*questionnaire.Answer, error), done string) error {
	id, err := pathID(c, "id", errNoAnswer)
	if err != nil {
		return err
	}
	_, err = act(c.Request().Context(), actor(c), id)
	switch apperr.KindOf(err) {
	case apperr.Conflict, apperr.Forbidden:
		h.flashProblem(c, err)
	default:
		if err != nil {
			return err
		}
		h.flash(c, done)
	}
	return seeOther(c, fmt.Sprintf("/app/answers/%d", id))
}

// answersImportPage is the page that fills a questionnaire sheet and
// imports question-and-answer pairs as drafts.
type answersImportPage struct {
	Errors        map[string]string
	Message       string
	ImportErrors  map[string]string
	ImportMessage string
	Access        string
	OwnerEmail    string
	Created       int
}

func (h *answerHandlers) fillPage(c echo.Context) error {
	return h.render(c, http.StatusOK, "answers_import", "Fill a questionnaire", answersImportPage{Access: string(questionnaire.Internal),
		OwnerEmail: currentUser(c).Email})
}

// sheetUpload opens the uploaded CSV, nil with the field error when none.
func sheetUpload(c echo.Context) (io.ReadCloser, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, apperr.Field("file", "is required: a CSV file with a Question column")
	}
	return fh.Open()
}

// fill answers the uploaded sheet and sends it back as a download.
func (h *answerHandlers) fill(c echo.Context) error {
	f, err := sheetUpload(c)
	var out bytes.Buffer
	if err == nil {
		defer f.Close()
		_, err = h.answers.Fill(c.Request().Context(), actor(c), f, &out)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.render(c, status, "answers_import", "Fill a questionnaire", answersImportPage{Errors: fields, Message: msg,
			Access: string(questionnaire.Internal), OwnerEmail: currentUser(c).Email})
	} else if err != nil {
		return err
	}
	return sendSheet(c, &out)
}

func sendSheet(c echo.Context, out *bytes.Buffer) error {
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": "questionnaire-answered.csv"}))
	hdr.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", out.Bytes())
}

// answerImportForm is the drafts import's settings.
type answerImportForm struct {
	Access     string `form:"access" query:"access"`
	OwnerEmail string `form:"owner_email" query:"owner_email"`
}

func (h *answerHandlers) importDrafts(c echo.Context) error {
	var req answerImportForm
	if err := bind(c, &req); err != nil {
		return err
	}
	f, err := sheetUpload(c)
	var res questionnaire.ImportResult
	if err == nil {
		defer f.Close()
		res, err = h.answers.Import(c.Request().Context(), actor(c), f, req.Access, req.OwnerEmail)
	}
	if ok, status, msg, fields := formFailure(err); ok {
		return h.render(c, status, "answers_import", "Fill a questionnaire", answersImportPage{ImportErrors: fields, ImportMessage: msg,
			Access: req.Access, OwnerEmail: req.OwnerEmail})
	} else if err != nil {
		return err
	}
	h.flash(c, fmt.Sprintf("Imported %d answers as drafts: another editor approves each.", res.Created))
	return seeOther(c, "/app/answers")
}
