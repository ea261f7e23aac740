// Package questionnaire is the answer library: the questions security
// questionnaires ask, each with an approved answer, an access level and an
// owner, and the policy versions (and sections) or trust documents that
// support it. A questionnaire sheet (CSV) is filled from the library; a
// packet may carry public and on-request answers. An answer citing a
// policy is flagged for review when that policy gets a new major version.
// Nothing here drafts text: every answer is written and approved by people.
package questionnaire

import (
	"fmt"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
)

// Access is who may read an answer.
type Access string

// The access levels, as for trust documents.
const (
	Public    Access = "public"     // may be given to anyone
	OnRequest Access = "on_request" // in a packet, after an NDA and approval
	Internal  Access = "internal"   // for the team only: never exported, never in a packet
)

// Label names the access level as pages show it.
func (a Access) Label() string {
	if a == OnRequest {
		return "on request"
	}
	return string(a)
}

// Shareable reports whether answers at this level may leave the team.
func (a Access) Shareable() bool { return a == Public || a == OnRequest }

// State is where an answer stands.
type State string

// The states of an answer.
const (
	Draft    State = "draft"
	Approved State = "approved"
)

// Answer is one entry of the library.
type Answer struct {
	ID           int64
	Question     string
	Answer       string
	Access       Access
	OwnerEmail   string
	State        State
	AuthorID     *int64
	Author       string
	ApprovedByID *int64
	ApprovedBy   string
	ApprovedAt   *time.Time
	// NeedsReview is raised when a cited policy got a new major version;
	// ReviewReason says which.
	NeedsReview  bool
	ReviewReason string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Links        []Link `gorm:"foreignKey:AnswerID"`
}

// TableName is the library's table.
func (Answer) TableName() string { return "questionnaire_answers" }

// Usable reports whether the answer may be given out: approved, not
// waiting for a review.
func (a *Answer) Usable() bool { return a.State == Approved && !a.NeedsReview }

// Link is one piece of evidence for an answer: a policy (with the version
// the answer was checked against and an optional section) or a trust
// document.
type Link struct {
	AnswerID        int64 `gorm:"primaryKey"`
	Position        int   `gorm:"primaryKey"`
	PolicySlug      string
	PolicyVersionID *int64
	CheckedVersion  string // such as "2.0"
	Section         string
	DocumentSlug    string
	// Title is the policy's or document's title, filled when read.
	Title string `gorm:"-"`
}

// TableName is the links' table.
func (Link) TableName() string { return "questionnaire_answer_links" }

// String is the link as the evidence field writes it.
func (l Link) String() string {
	if l.DocumentSlug != "" {
		return "document/" + l.DocumentSlug
	}
	s := "policy/" + l.PolicySlug
	if l.Section != "" {
		s += "#" + l.Section
	}
	return s
}

// Input is an answer as typed in a form, a JSON body or an imported row.
type Input struct {
	Question   string `validate:"required,max=2000"`
	Answer     string `validate:"required,max=10000"`
	Access     string `validate:"oneof=public on_request internal"`
	OwnerEmail string `validate:"required,address"`
	Evidence   []EvidenceInput
}

// EvidenceInput names one link: a policy slug with an optional section,
// or a document slug.
type EvidenceInput struct {
	Policy   string
	Section  string
	Document string
}

// MaxLinks bounds the evidence of one answer.
const MaxLinks = 20

// ParseEvidence reads the evidence field of the form: one link a line,
// "policy/<slug>", "policy/<slug>#<section>" or "document/<slug>".
// Errors: Invalid naming "evidence" with the line at fault.
func ParseEvidence(text string) ([]EvidenceInput, error) {
	var out []EvidenceInput
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		kind, rest, _ := strings.Cut(line, "/")
		switch strings.ToLower(strings.TrimSpace(kind)) {
		case "policy":
			slug, section, _ := strings.Cut(rest, "#")
			out = append(out, EvidenceInput{Policy: strings.TrimSpace(slug), Section: strings.TrimSpace(section)})
		case "document":
			out = append(out, EvidenceInput{Document: strings.TrimSpace(rest)})
		default:
			return nil, apperr.Field("evidence", fmt.Sprintf("line %d: write policy/<slug>, policy/<slug>#<section> or document/<slug>", i+1))
		}
	}
	return out, nil
}

// normalize trims in and checks its fields; registers are checked by the
// service.
func (in *Input) normalize(v *check.Validator) check.Errors {
	in.Question, in.Answer = strings.TrimSpace(in.Question), strings.TrimSpace(strings.ReplaceAll(in.Answer, "\r\n", "\n"))
	in.Access, in.OwnerEmail = strings.TrimSpace(in.Access), notify.NormalizeAddress(in.OwnerEmail)
	errs := v.Struct(*in)
	if len(in.Evidence) > MaxLinks {
		errs.Add("evidence", fmt.Sprintf("at most %d links", MaxLinks))
	}
	for i := range in.Evidence {
		e := &in.Evidence[i]
		e.Policy, e.Section, e.Document = strings.TrimSpace(e.Policy), strings.TrimSpace(e.Section), strings.TrimSpace(e.Document)
		switch {
		case (e.Policy == "") == (e.Document == ""):
			errs.Add("evidence", fmt.Sprintf("link %d: name a policy or a document", i+1))
		case e.Document != "" && e.Section != "":
			errs.Add("evidence", fmt.Sprintf("link %d: a section belongs to a policy", i+1))
		case len(e.Section) > 200:
			errs.Add("evidence", fmt.Sprintf("link %d: the section is longer than 200 characters", i+1))
		}
	}
	return errs
}

// Errors of the library.
var (
	ErrNotFound     = apperr.New(apperr.NotFound, "no such answer")
	ErrSelfApproval = apperr.New(apperr.Forbidden, "you cannot approve an answer you wrote: another editor approves it")
	ErrNotDraft     = apperr.New(apperr.Conflict, "this answer is already approved")
	ErrNoReview     = apperr.New(apperr.Conflict, "this answer is not flagged for review")
)
