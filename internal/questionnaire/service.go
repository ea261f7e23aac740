package questionnaire

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Settings are what the library needs from the configuration.
type Settings struct {
	// BaseURL prefixes the evidence links of a filled questionnaire.
	BaseURL string
}

// Service keeps the library.
type Service struct {
	db       *gorm.DB
	now      func() time.Time
	settings Settings
	check    *check.Validator
}

// NewService returns the library on db.
func NewService(db *gorm.DB, now func() time.Time, settings Settings) *Service {
	return &Service{db: db, now: now, settings: settings, check: check.New()}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func objectID(id int64) string { return strconv.FormatInt(id, 10) }

func actorID(by audit.Actor) *int64 {
	if by.UserID == 0 {
		return nil
	}
	id := by.UserID
	return &id
}

// state is what the audit trail records of an answer.
func state(a *Answer) map[string]any {
	links := []string{}
	for _, l := range a.Links {
		s := l.String()
		if l.CheckedVersion != "" {
			s += "@" + l.CheckedVersion
		}
		links = append(links, s)
	}
	return map[string]any{"question": a.Question, "answer": a.Answer, "access": a.Access, "owner_email": a.OwnerEmail,
		"state": a.State, "needs_review": a.NeedsReview, "evidence": links}
}

// resolve turns the evidence named in in into links, each policy checked
// against its version in force. Errors are added to errs under "evidence".
func resolve(tx *gorm.DB, in []EvidenceInput, errs check.Errors) ([]Link, error) {
	links := make([]Link, 0, len(in))
	for i, e := range in {
		if e.Document != "" {
			var n int64
			if err := tx.Model(&document.Document{}).Where("slug = ?", e.Document).Count(&n).Error; err != nil {
				return nil, err
			}
			if n == 0 {
				errs.Add("evidence", fmt.Sprintf("link %d: no trust document %q", i+1, e.Document))
			}
			links = append(links, Link{Position: i, DocumentSlug: e.Document})
			continue
		}
		cur, err := currentVersion(tx, e.Policy)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			errs.Add("evidence", fmt.Sprintf("link %d: no published policy %q", i+1, e.Policy))
			links = append(links, Link{Position: i, PolicySlug: e.Policy, Section: e.Section})
			continue
		}
		id := cur.ID
		links = append(links, Link{Position: i, PolicySlug: e.Policy, Section: e.Section, PolicyVersionID: &id, CheckedVersion: cur.Number()})
	}
	return links, nil
}

// currentVersion is the published version of the policy slug, nil when
// there is none.
func currentVersion(tx *gorm.DB, slug string) (*policy.Version, error) {
	var v policy.Version
	err := tx.Omit("body").Joins("JOIN policies ON policies.id = policy_versions.policy_id").
		Where("policies.slug = ? AND policy_versions.status = ?", slug, policy.StatusPublished).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &v, err
}

func saveLinks(tx *gorm.DB, id int64, links []Link) error {
	if err := tx.Where("answer_id = ?", id).Delete(&Link{}).Error; err != nil {
		return err
	}
	for i := range links {
		links[i].AnswerID, links[i].Position = id, i
	}
	if len(links) == 0 {
		return nil
	}
	return tx.Create(&links).Error
}

// Create adds a draft answer. Errors: Invalid naming each bad field.
func (s *Service) Create(ctx context.Context, by audit.Actor, in Input) (*Answer, error) {
	var a Answer
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		created, err := s.create(tx, by, in)
		if created != nil {
			a = *created
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (s *Service) create(tx *gorm.DB, by audit.Actor, in Input) (*Answer, error) {
	errs := in.normalize(s.check)
	links, err := resolve(tx, in.Evidence, errs)
	if err != nil {
		return nil, err
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	now := s.clock()
	a := Answer{Question: in.Question, Answer: in.Answer, Access: Access(in.Access), OwnerEmail: in.OwnerEmail, State: Draft,
		AuthorID: actorID(by), Author: by.Label, CreatedAt: now, UpdatedAt: now}
	if err := tx.Omit("Links").Create(&a).Error; err != nil {
		return nil, err
	}
	if err := saveLinks(tx, a.ID, links); err != nil {
		return nil, err
	}
	a.Links = links
	return &a, audit.Append(tx, by, audit.Entry{At: now, Action: "answer.created", ObjectType: "answer", ObjectID: objectID(a.ID), After: state(&a)})
}

// Update changes an answer; a changed answer is a draft again, to be
// approved anew, and its policies are checked against the versions in
// force. Errors: Invalid, ErrNotFound.
func (s *Service) Update(ctx context.Context, by audit.Actor, id int64, in Input) (*Answer, error) {
	var a Answer
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		errs := in.normalize(s.check)
		links, err := resolve(tx, in.Evidence, errs)
		if err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		cur, err := byID(store.ForUpdate(tx), id)
		if err != nil {
			return err
		}
		before := state(cur)
		a = *cur
		a.Question, a.Answer, a.Access, a.OwnerEmail, a.Links = in.Question, in.Answer, Access(in.Access), in.OwnerEmail, links
		if fmt.Sprint(before) == fmt.Sprint(state(&a)) {
			a.Links = cur.Links
			return nil
		}
		a.State, a.ApprovedByID, a.ApprovedBy, a.ApprovedAt, a.NeedsReview, a.ReviewReason = Draft, nil, "", nil, false, ""
		a.AuthorID, a.Author, a.UpdatedAt = actorID(by), by.Label, s.clock()
		if err := tx.Model(&Answer{ID: a.ID}).Select("question", "answer", "access", "owner_email", "state", "approved_by_id", "approved_by",
			"approved_at", "needs_review", "review_reason", "author_id", "author", "updated_at").Updates(&a).Error; err != nil {
			return err
		}
		if err := saveLinks(tx, a.ID, links); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: a.UpdatedAt, Action: "answer.updated", ObjectType: "answer", ObjectID: objectID(a.ID),
			Before: before, After: state(&a)})
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Approve approves a draft written by someone else; its policies are
// checked against the versions in force. Errors: ErrNotFound,
// ErrNotDraft, ErrSelfApproval.
func (s *Service) Approve(ctx context.Context, by audit.Actor, id int64) (*Answer, error) {
	return s.settle(ctx, by, id, "answer.approved", func(a *Answer) error {
		if a.State != Draft {
			return ErrNotDraft
		}
		if a.AuthorID != nil && *a.AuthorID == by.UserID {
			return ErrSelfApproval
		}
		now := s.clock()
		a.State, a.ApprovedByID, a.ApprovedBy, a.ApprovedAt = Approved, actorID(by), by.Label, &now
		return nil
	})
}

// Review records that a flagged answer is still true of the new policy
// versions ("reviewed, still true"): the flag is cleared and its policies
// are checked against the versions in force. Errors: ErrNotFound,
// ErrNoReview.
func (s *Service) Review(ctx context.Context, by audit.Actor, id int64) (*Answer, error) {
	return s.settle(ctx, by, id, "answer.reviewed", func(a *Answer) error {
		if !a.NeedsReview {
			return ErrNoReview
		}
		return nil
	})
}

// settle applies change to the answer, clears its review flag and moves
// its policy links to the versions in force, in one transaction.
func (s *Service) settle(ctx context.Context, by audit.Actor, id int64, action string, change func(*Answer) error) (*Answer, error) {
	var a Answer
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := byID(store.ForUpdate(tx), id)
		if err != nil {
			return err
		}
		before := state(cur)
		a = *cur
		if err := change(&a); err != nil {
			return err
		}
		a.NeedsReview, a.ReviewReason, a.UpdatedAt = false, "", s.clock()
		for i := range a.Links {
			l := &a.Links[i]
			if l.PolicySlug == "" {
				continue
			}
			v, err := currentVersion(tx, l.PolicySlug)
			if err != nil {
				return err
			}
			if v != nil {
				id := v.ID
				l.PolicyVersionID, l.CheckedVersion = &id, v.Number()
				if err := tx.Model(&Link{}).Where("answer_id = ? AND position = ?", a.ID, l.Position).
					Updates(map[string]any{"policy_version_id": id, "checked_version": l.CheckedVersion}).Error; err != nil {
					return err
				}
			}
		}
		if err := tx.Model(&Answer{ID: a.ID}).Select("state", "approved_by_id", "approved_by", "approved_at", "needs_review", "review_reason",
			"updated_at").Updates(&a).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: a.UpdatedAt, Action: action, ObjectType: "answer", ObjectID: objectID(a.ID),
			Before: before, After: state(&a)})
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// FlagForNewMajor is the policy register's OnNewMajor hook: every answer
// citing a policy that got a new major version is flagged for review, in
// the publishing transaction, with an audit event each.
func (s *Service) FlagForNewMajor(tx *gorm.DB, published []policy.Version) error {
	if len(published) == 0 {
		return nil
	}
	ids := make([]int64, len(published))
	byPolicy := map[int64]policy.Version{}
	for i := range published {
		ids[i], byPolicy[published[i].PolicyID] = published[i].PolicyID, published[i]
	}
	var pols []policy.Policy
	if err := tx.Where("id IN ?", ids).Find(&pols).Error; err != nil {
		return err
	}
	reasons := map[string]string{}
	for _, p := range pols {
		v := byPolicy[p.ID]
		reasons[p.Slug] = fmt.Sprintf("%s is now at version %s", p.Title, v.Number())
	}
	var links []Link
	if err := tx.Where("policy_slug IN ?", slices.Sorted(maps.Keys(reasons))).Order("answer_id, position").Find(&links).Error; err != nil {
		return err
	}
	why := map[int64][]string{}
	for _, l := range links {
		if !slices.Contains(why[l.AnswerID], reasons[l.PolicySlug]) {
			why[l.AnswerID] = append(why[l.AnswerID], reasons[l.PolicySlug])
		}
	}
	now := s.clock()
	var records []audit.Record
	for _, id := range slices.Sorted(maps.Keys(why)) {
		reason := "A cited policy changed: " + strings.Join(why[id], "; ") + "."
		if err := tx.Model(&Answer{}).Where("id = ?", id).Updates(map[string]any{"needs_review": true, "review_reason": reason, "updated_at": now}).Error; err != nil {
			return err
		}
		records = append(records, audit.Record{By: audit.System("system:policy-published"), Entry: audit.Entry{At: now, Action: "answer.flagged",
			ObjectType: "answer", ObjectID: objectID(id), After: map[string]any{"needs_review": true, "review_reason": reason}}})
	}
	if len(records) == 0 {
		return nil
	}
	return audit.AppendAll(tx, records)
}

func byID(tx *gorm.DB, id int64) (*Answer, error) {
	var a Answer
	err := tx.Take(&a, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	if err := tx.Session(&gorm.Session{NewDB: true}).Where("answer_id = ?", id).Order("position").Find(&a.Links).Error; err != nil {
		return nil, err
	}
	return &a, nil
}

// Get returns an answer with its evidence, each link's title filled.
// Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Answer, error) {
	db := s.db.WithContext(ctx)
	a, err := byID(db, id)
	if err != nil {
		return nil, err
	}
	answers := []Answer{*a}
	if err := titles(db, answers); err != nil {
		return nil, err
	}
	return &answers[0], nil
}

// Filter narrows the list.
type Filter struct {
	// Query matches words in the question or the answer, any case; % and
	// _ are taken literally.
	Query string
	// Access keeps one access level; empty keeps all.
	Access string
	// Review keeps only answers flagged for review.
	Review bool
	// Usable keeps only approved answers not flagged for review.
	Usable bool
	// State keeps one state; empty keeps both.
	State State
}

// MaxQueryLength bounds a search.
const MaxQueryLength = 200

// List returns the answers that pass f, by question.
func (s *Service) List(ctx context.Context, f Filter) ([]Answer, error) {
	q := s.db.WithContext(ctx).Model(&Answer{})
	for _, word := range strings.Fields(f.Query) {
		if len(word) > MaxQueryLength {
			return nil, apperr.Field("q", fmt.Sprintf("words are at most %d characters", MaxQueryLength))
		}
		// PostgreSQL's LIKE is case-sensitive: both sides are lowered.
		like := "%" + store.EscapeLike(strings.ToLower(word)) + "%"
		q = q.Where(`(LOWER(question) LIKE ? ESCAPE '\' OR LOWER(answer) LIKE ? ESCAPE '\')`, like, like)
	}
	switch Access(f.Access) {
	case "":
	case Public, OnRequest, Internal:
		q = q.Where("access = ?", f.Access)
	default:
		return nil, apperr.Field("access", "must be public, on_request or internal")
	}
	if f.Review {
		q = q.Where("needs_review = ?", true)
	}
	if f.Usable {
		q = q.Where("state = ? AND needs_review = ?", Approved, false)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	var answers []Answer
	if err := q.Order("question, id").Find(&answers).Error; err != nil {
		return nil, err
	}
	if err := withLinks(s.db.WithContext(ctx), answers); err != nil {
		return nil, err
	}
	return answers, titles(s.db.WithContext(ctx), answers)
}

// withLinks loads each answer's evidence.
func withLinks(db *gorm.DB, answers []Answer) error {
	if len(answers) == 0 {
		return nil
	}
	index := map[int64]*Answer{}
	ids := make([]int64, len(answers))
	for i := range answers {
		ids[i], index[answers[i].ID] = answers[i].ID, &answers[i]
	}
	var links []Link
	for chunk := range slices.Chunk(ids, 500) {
		var part []Link
		if err := db.Where("answer_id IN ?", chunk).Order("answer_id, position").Find(&part).Error; err != nil {
			return err
		}
		links = append(links, part...)
	}
	for _, l := range links {
		index[l.AnswerID].Links = append(index[l.AnswerID].Links, l)
	}
	return nil
}

// titles fills each link's policy or document title.
func titles(db *gorm.DB, answers []Answer) error {
	var pols []policy.Policy
	if err := db.Select("slug", "title").Find(&pols).Error; err != nil {
		return err
	}
	var docs []document.Document
	if err := db.Select("slug", "title").Find(&docs).Error; err != nil {
		return err
	}
	names := map[string]string{}
	for _, p := range pols {
		names["policy/"+p.Slug] = p.Title
	}
	for _, d := range docs {
		names["document/"+d.Slug] = d.Title
	}
	for i := range answers {
		for j := range answers[i].Links {
			l := &answers[i].Links[j]
			if l.DocumentSlug != "" {
				l.Title = names["document/"+l.DocumentSlug]
			} else {
				l.Title = names["policy/"+l.PolicySlug]
			}
		}
	}
	return nil
}

// Shareable returns the answers named by ids if each may go into a
// packet (approved, not flagged for review, public or on request), in the
// order given. Errors: Invalid naming field for any other.
func (s *Service) Shareable(ctx context.Context, field string, ids []int64) ([]Answer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var found []Answer
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&found).Error; err != nil {
		return nil, err
	}
	out := make([]Answer, 0, len(ids))
	var refused []string
	for _, id := range ids {
		i := slices.IndexFunc(found, func(a Answer) bool { return a.ID == id })
		if i < 0 || !found[i].Usable() || !found[i].Access.Shareable() {
			refused = append(refused, objectID(id))
			continue
		}
		if !slices.ContainsFunc(out, func(a Answer) bool { return a.ID == id }) {
			out = append(out, found[i])
		}
	}
	if len(refused) > 0 {
		return nil, apperr.Field(field, "cannot go into a packet (only approved public or on-request answers not waiting for review): "+strings.Join(refused, ", "))
	}
	return out, nil
}

// Offerable returns every answer that may go into a packet, by question:
// what the packet approval form offers.
func (s *Service) Offerable(ctx context.Context) ([]Answer, error) {
	var out []Answer
	err := s.db.WithContext(ctx).Where("state = ? AND needs_review = ? AND access IN ?", Approved, false, []Access{Public, OnRequest}).
		Order("question, id").Find(&out).Error
	return out, err
}

// ForPacket is the packet register's AnswerSource: Shareable, as the
// packet freezes it.
func (s *Service) ForPacket(ctx context.Context, field string, ids []int64) ([]packet.SharedAnswer, error) {
	answers, err := s.Shareable(ctx, field, ids)
	if err != nil {
		return nil, err
	}
	out := make([]packet.SharedAnswer, len(answers))
	for i, a := range answers {
		out[i] = packet.SharedAnswer{ID: a.ID, Question: a.Question, Answer: a.Answer, Access: string(a.Access)}
	}
	return out, nil
}
