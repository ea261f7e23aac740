// Package worklist gathers what waits for a person across the registers —
// drafts to approve, versions to publish, requests to decide, deadlines,
// reviews, lapsing documents, overdue acknowledgements — from the area
// services, for the dashboard's "waiting for you". It reads only, and
// shows each person only what their role may see and act on.
package worklist

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/exception"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/questionnaire"
)

// Item is one thing waiting for a person.
type Item struct {
	Title  string
	Detail string
	// Age says how long it has waited, or when it is due: "3 days",
	// "overdue by 2 days", "due in 5 days".
	Age    string
	Urgent bool   // overdue or late
	Href   string // the page where it is done
	Action string // what the link does: "Approve", "Decide", "View"
	// ApprovePath, for a draft the person may approve, is where the
	// list's Approve form posts.
	ApprovePath string
}

// Section is the items of one kind, under a heading.
type Section struct {
	Key     string // stable name, e.g. "approve"
	Heading string
	Items   []Item
}

// List is everything waiting for one person.
type List struct {
	Sections []Section
	Total    int
}

// Sources are the services the list reads.
type Sources struct {
	Policies   *policy.Service
	People     *people.Service
	Privacy    *privacy.Service
	Packets    *packet.Service
	DSAR       *dsar.Service
	Advisories *advisory.Service
	Documents  *document.Service
	Exceptions *exception.Service
	Answers    *questionnaire.Service
}

// Service builds work lists.
type Service struct {
	src Sources
	now func() time.Time
}

// NewService returns a Service reading src, with the given clock.
func NewService(src Sources, now func() time.Time) *Service { return &Service{src: src, now: now} }

// DocumentWindowDays is how far ahead a trust document's lapse is listed.
const DocumentWindowDays = document.EarlyReminderDays

// For returns what waits for the user: the actions of editors and admins
// only to them, privacy requests and vulnerability reports (personal and
// unpublished data) only to them, and to every role the reviews,
// documents and acknowledgements that need someone's attention.
func (s *Service) For(ctx context.Context, userID int64, role auth.Role) (*List, error) {
	now := s.now().UTC()
	editor := role.Allows(auth.Editor)
	l := &List{}
	add := func(sec Section) {
		if len(sec.Items) > 0 {
			l.Sections = append(l.Sections, sec)
			l.Total += len(sec.Items)
		}
	}
	summaries, err := s.src.Policies.List(ctx, policy.ListOptions{Sort: "next_review"})
	if err != nil {
		return nil, err
	}
	if editor {
		approve, publish := s.versions(summaries, userID, role == auth.Admin, now)
		add(approve)
		add(publish)
		sec, err := s.exceptionsToApprove(ctx, userID, now)
		if err != nil {
			return nil, err
		}
		add(sec)
		for _, gather := range []func(context.Context, time.Time) (Section, error){
			s.packetRequests, s.dpaRequests, s.objections, s.privacyRequests, s.vulnerabilityReports,
		} {
			sec, err := gather(ctx, now)
			if err != nil {
				return nil, err
			}
			add(sec)
		}
		approveAnswers, reviewAnswers, err := s.answers(ctx, userID, now)
		if err != nil {
			return nil, err
		}
		add(approveAnswers)
		add(reviewAnswers)
	}
	add(reviews(summaries, editor, now))
	expiring, err := s.exceptionsExpiring(ctx, editor, now)
	if err != nil {
		return nil, err
	}
	add(expiring)
	for _, gather := range []func(context.Context, time.Time) (Section, error){s.documents, s.acknowledgements} {
		sec, err := gather(ctx, now)
		if err != nil {
			return nil, err
		}
		add(sec)
	}
	return l, nil
}

func versionHref(slug string, v *policy.Version) string {
	return "/app/policies/" + slug + "/versions/" + v.Number()
}

func (s *Service) versions(summaries []policy.Summary, userID int64, admin bool, now time.Time) (approve, publish Section) {
	approve = Section{Key: "approve", Heading: "Drafts to approve"}
	publish = Section{Key: "publish", Heading: "Approved, to publish"}
	for _, sum := range summaries {
		v := sum.Pending
		if v == nil {
			continue
		}
		href := versionHref(sum.Slug, v)
		switch {
		case v.Status == policy.StatusDraft && v.CanApprove(userID, admin):
			detail := "Drafted by " + v.Author
			if v.Approver != "" {
				detail += "; approver named: " + v.Approver
			}
			approve.Items = append(approve.Items, Item{Title: sum.Title + " " + v.Number(), Detail: detail + ".",
				Age: policy.Age(v.WaitingSince(), now), Href: href, Action: "Read", ApprovePath: href + "/approve"})
		case v.Status == policy.StatusApproved && v.ApprovedAt != nil:
			publish.Items = append(publish.Items, Item{Title: sum.Title + " " + v.Number(), Detail: "Approved by " + v.ApprovedBy + ".",
				Age: policy.Age(*v.ApprovedAt, now), Href: href, Action: "Publish"})
		}
	}
	return approve, publish
}

// answers lists the questionnaire answers waiting for an editor: drafts
// someone else wrote, and answers flagged since a cited policy changed.
func (s *Service) answers(ctx context.Context, userID int64, now time.Time) (approve, review Section, err error) {
	approve = Section{Key: "answers_approve", Heading: "Questionnaire answers to approve"}
	review = Section{Key: "answers_review", Heading: "Questionnaire answers to review after a policy change"}
	drafts, err := s.src.Answers.List(ctx, questionnaire.Filter{State: questionnaire.Draft})
	if err != nil {
		return approve, review, err
	}
	for _, a := range drafts {
		if a.AuthorID != nil && *a.AuthorID == userID {
			continue
		}
		approve.Items = append(approve.Items, Item{Title: a.Question, Detail: "Written by " + a.Author + ".", Age: policy.Age(a.UpdatedAt, now),
			Href: "/app/answers/" + strconv.FormatInt(a.ID, 10), Action: "Read"})
	}
	flagged, err := s.src.Answers.List(ctx, questionnaire.Filter{Review: true})
	for _, a := range flagged {
		review.Items = append(review.Items, Item{Title: a.Question, Detail: a.ReviewReason, Age: policy.Age(a.UpdatedAt, now), Urgent: true,
			Href: "/app/answers/" + strconv.FormatInt(a.ID, 10), Action: "Review"})
	}
	return approve, review, err
}

func (s *Service) packetRequests(ctx context.Context, now time.Time) (Section, error) {
	sec := Section{Key: "packets", Heading: "Policy requests to decide"}
	reqs, err := s.src.Packets.Requests(ctx, packet.RequestFilter{Status: packet.Pending})
	for _, r := range reqs {
		since := r.CreatedAt
		if r.ConfirmedAt != nil {
			since = *r.ConfirmedAt
		}
		sec.Items = append(sec.Items, Item{Title: r.Name + " (" + r.Company + ")", Detail: r.Email, Age: policy.Age(since, now),
			Href: "/app/packets/requests/" + strconv.FormatInt(r.ID, 10), Action: "Decide"})
	}
	return sec, err
}

func (s *Service) dpaRequests(ctx context.Context, now time.Time) (Section, error) {
	sec := Section{Key: "dpas", Heading: "Customer DPA requests"}
	page, err := s.src.Privacy.ListDPAs(ctx, privacy.DPAFilter{Direction: privacy.Customer, Status: privacy.Requested}, 0, 100)
	if err != nil {
		return sec, err
	}
	for _, d := range page.DPAs {
		sec.Items = append(sec.Items, Item{Title: d.Counterparty, Detail: d.ContactEmail, Age: policy.Age(d.CreatedAt, now),
			Href: "/app/privacy/dpas/" + strconv.FormatInt(d.ID, 10), Action: "Handle"})
	}
	return sec, nil
}

func (s *Service) objections(ctx context.Context, now time.Time) (Section, error) {
	sec := Section{Key: "objections", Heading: "Objections to sub-processor changes"}
	notices, err := s.src.Privacy.Notices(ctx, privacy.NoticeFilter{States: []string{privacy.Scheduled}})
	for _, n := range notices {
		if n.Objections == 0 {
			continue
		}
		sec.Items = append(sec.Items, Item{Title: n.Subprocessor.Name + ": " + n.Change,
			Detail: fmt.Sprintf("%d objection(s); takes effect on %s.", n.Objections, n.EffectiveOn.Format(time.DateOnly)),
			Age:    dueIn(n.EffectiveOn, now), Urgent: true, Href: "/app/privacy/notices/" + strconv.FormatInt(n.ID, 10), Action: "Review"})
	}
	return sec, err
}

func (s *Service) privacyRequests(ctx context.Context, now time.Time) (Section, error) {
	sec := Section{Key: "privacy_requests", Heading: "Privacy-request deadlines"}
	due, err := s.src.DSAR.Attention(ctx)
	for _, r := range due {
		deadline := r.Deadline()
		sec.Items = append(sec.Items, Item{Title: r.Reference + " (" + r.RequestType + ", " + dsar.LawLabel(r.Law) + ")",
			Detail: "Deadline " + deadline.Format(time.DateOnly) + ".", Age: dueIn(deadline, now), Urgent: now.After(deadline),
			Href: "/app/privacy-requests/" + r.Reference, Action: "Handle"})
	}
	return sec, err
}

func (s *Service) vulnerabilityReports(ctx context.Context, now time.Time) (Section, error) {
	sec := Section{Key: "reports", Heading: "New vulnerability reports"}
	reports, err := s.src.Advisories.Reports(ctx, "new")
	for _, r := range reports {
		sec.Items = append(sec.Items, Item{Title: r.Reference + ": " + r.Summary, Detail: "From " + r.Email + ".",
			Age: policy.Age(r.CreatedAt, now), Href: "/app/reports/" + r.Reference, Action: "Triage"})
	}
	return sec, err
}

func reviews(summaries []policy.Summary, editor bool, now time.Time) Section {
	sec := Section{Key: "reviews", Heading: "Policy reviews due and overdue"}
	action := "View"
	if editor {
		action = "Review"
	}
	for _, sum := range summaries {
		if sum.Review == policy.ReviewCurrent || sum.NextReviewAt == nil {
			continue
		}
		sec.Items = append(sec.Items, Item{Title: sum.Title, Detail: "Review due " + sum.NextReviewAt.Format(time.DateOnly) + ".",
			Age: dueIn(*sum.NextReviewAt, now), Urgent: sum.Review == policy.ReviewOverdue, Href: "/app/policies/" + sum.Slug, Action: action})
	}
	return sec
}

func (s *Service) documents(ctx context.Context, now time.Time) (Section, error) {
	sec := Section{Key: "documents", Heading: "Trust documents lapsing"}
	docs, err := s.src.Documents.List(ctx)
	horizon := now.AddDate(0, 0, DocumentWindowDays)
	for _, d := range docs {
		if d.Current == nil || d.Current.ValidUntil == nil || d.Current.ValidUntil.After(horizon) {
			continue
		}
		until := *d.Current.ValidUntil
		sec.Items = append(sec.Items, Item{Title: d.Title, Detail: "Version " + d.Current.Version + " valid until " + until.Format(time.DateOnly) + ".",
			Age: dueIn(until.AddDate(0, 0, 1), now), Urgent: !until.AddDate(0, 0, 1).After(now), Href: "/app/documents/" + d.Slug, Action: "Upload a new version"})
	}
	return sec, err
}

func exceptionHref(e *exception.Exception) string {
	return "/app/exceptions/" + strconv.FormatInt(e.ID, 10)
}

func exceptionTitle(e *exception.Exception) string {
	t := e.PolicyTitle
	if e.Section != "" {
		t += " (" + e.Section + ")"
	}
	return t + ": " + e.Scope
}

// exceptionsToApprove are the requests the user may decide: everyone's
// but their own.
func (s *Service) exceptionsToApprove(ctx context.Context, userID int64, now time.Time) (Section, error) {
	sec := Section{Key: "exceptions", Heading: "Policy exceptions to approve"}
	reqs, err := s.src.Exceptions.List(ctx, exception.Filter{State: exception.Requested})
	for i := range reqs {
		e := &reqs[i]
		if !e.CanApprove(userID) {
			continue
		}
		sec.Items = append(sec.Items, Item{Title: exceptionTitle(e), Detail: "Requested by " + e.RequestedBy + ", until " + e.ExpiresOn.Format(time.DateOnly) + ".",
			Age: policy.Age(e.RequestedAt, now), Urgent: !now.Before(e.ExpiresOn), Href: exceptionHref(e), Action: "Decide"})
	}
	return sec, err
}

// exceptionsExpiring are the exceptions in force that expire within the
// reminder window: renew them, or let the policy apply again.
func (s *Service) exceptionsExpiring(ctx context.Context, editor bool, now time.Time) (Section, error) {
	sec := Section{Key: "exceptions_expiring", Heading: "Policy exceptions expiring"}
	horizon := now.Truncate(24*time.Hour).AddDate(0, 0, s.src.Exceptions.ReminderDays()+1)
	list, err := s.src.Exceptions.List(ctx, exception.Filter{State: exception.Approved, ExpiresBefore: &horizon})
	action := "View"
	if editor {
		action = "Renew or let lapse"
	}
	for i := range list {
		e := &list[i]
		sec.Items = append(sec.Items, Item{Title: exceptionTitle(e), Detail: "Expires on " + e.ExpiresOn.Format(time.DateOnly) + ".",
			Age: dueIn(e.ExpiresOn, now), Urgent: !now.Before(e.ExpiresOn), Href: exceptionHref(e), Action: action})
	}
	return sec, err
}

func (s *Service) acknowledgements(ctx context.Context, _ time.Time) (Section, error) {
	sec := Section{Key: "acknowledgements", Heading: "Overdue acknowledgements"}
	o, err := s.src.People.Overview(ctx)
	if err != nil {
		return sec, err
	}
	for _, pc := range o.OverdueByPolicy {
		sec.Items = append(sec.Items, Item{Title: pc.Title, Detail: fmt.Sprintf("%d employee(s) have not acknowledged version %d.", pc.Overdue, pc.Major),
			Age: "overdue", Urgent: true, Href: "/app/people?state=overdue", Action: "See who"})
	}
	return sec, nil
}

// dueIn says when at is, from now: "due in 5 days", "due today",
// "overdue by 2 days".
func dueIn(at, now time.Time) string {
	if at.Before(now) {
		return "overdue by " + policy.Age(at, now)
	}
	age := policy.Age(now, at)
	if age == "today" {
		return "due today"
	}
	return "due in " + age
}
