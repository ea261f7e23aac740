package server

import (
	"context"

	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/questionnaire"
	"github.com/labstack/echo/v4"
)

// publicAnswersPage is /trust/answers: the approved public answers not
// waiting for a review, with their public evidence.
type publicAnswersPage struct {
	Org     *org.Organization
	Answers []questionnaire.Answer
}

func (h *trustHandlers) trustAnswers(c echo.Context) error {
	return h.cached(c, echo.MIMETextHTMLCharsetUTF8, func(ctx context.Context) ([]byte, error) {
		o, err := h.org.Current(ctx)
		if err != nil {
			return nil, err
		}
		answers, err := h.answers.List(ctx, questionnaire.Filter{Usable: true, Access: string(questionnaire.Public)})
		if err != nil {
			return nil, err
		}
		shared, err := h.documents.Shared(ctx)
		if err != nil {
			return nil, err
		}
		public := map[string]bool{}
		for _, d := range shared {
			public[d.Slug] = d.Access == "public"
		}
		// Only what a visitor may have is named: a policy (requested
		// through a packet) and public documents; other documents are left
		// out of the evidence shown.
		for i := range answers {
			kept := answers[i].Links[:0]
			for _, l := range answers[i].Links {
				if l.PolicySlug != "" || public[l.DocumentSlug] {
					kept = append(kept, l)
				}
			}
			answers[i].Links = kept
		}
		return h.renderPublicBytes("trust_answers", "Security questions", brandOf(o), "", publicAnswersPage{Org: loaded(o), Answers: answers})
	})
}
