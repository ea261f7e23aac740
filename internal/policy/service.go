package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/calendar"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Service holds the rules of the policy registry.
type Service struct {
	db        *gorm.DB
	now       func() time.Time
	check     *check.Validator
	approvals Approvals
	newMajor  []func(tx *gorm.DB, published []Version) error
}

// OnNewMajor adds what runs in the publishing transaction, after the
// versions are saved, when new major versions come into force (a new
// policy's 1.0 included), given those versions: the people register keeps
// what each employee owes in step with them, other registers flag what
// cites the old text. A minor version changes what nobody owes.
func (s *Service) OnNewMajor(fn func(tx *gorm.DB, published []Version) error) {
	s.newMajor = append(s.newMajor, fn)
}

// majorPublished runs the OnNewMajor hooks in the order they were added.
func (s *Service) majorPublished(tx *gorm.DB, published []Version) error {
	for _, fn := range s.newMajor {
		if err := fn(tx, published); err != nil {
			return err
		}
	}
	return nil
}

// NewService returns a Service on db with the given clock.
func NewService(db *gorm.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now, check: check.New()}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// HashText returns the SHA-256 of a version's text, as stored on publication.
func HashText(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// normalizeBody gives every text one line ending, so that the hash does not
// depend on the browser or editor that sent it.
func normalizeBody(b string) string {
	b = strings.ReplaceAll(b, "\r\n", "\n")
	b = strings.TrimRight(b, "\n\t ")
	return b + "\n"
}

func actorID(by audit.Actor) *int64 {
	if by.UserID == 0 {
		return nil
	}
	id := by.UserID
	return &id
}

// versionState is what the audit trail records of a version.
type versionState struct {
	Policy        string `json:"policy"`
	Version       string `json:"version"`
	Status        Status `json:"status"`
	Material      bool   `json:"material"`
	ChangeSummary string `json:"change_summary"`
	BodySHA256    string `json:"body_sha256"`
}

func stateOf(p *Policy, v *Version) versionState {
	return versionState{Policy: p.Slug, Version: v.Number(), Status: v.Status, Material: v.Material,
		ChangeSummary: v.ChangeSummary, BodySHA256: HashText(v.Body)}
}

func (s *Service) policyBySlug(tx *gorm.DB, slug string) (*Policy, error) {
	var p Policy
	err := tx.Where("slug = ?", slug).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &p, err
}

func (s *Service) versionOf(tx *gorm.DB, p *Policy, number string) (*Version, error) {
	major, minor, ok := ParseNumber(number)
	if !ok {
		return nil, ErrVersionNotFound
	}
	var v Version
	err := tx.Where("policy_id = ? AND major = ? AND minor = ?", p.ID, major, minor).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrVersionNotFound
	}
	return &v, err
}

// Seed creates each template's policy that does not exist yet, with its
// text published as version 1.0. Existing policies are left as they are,
// so seeding twice changes nothing. It returns how many were created.
func (s *Service) Seed(ctx context.Context, by audit.Actor, templates []Template) (int, error) {
	var seeded []Version
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var existing []string
		if err := tx.Model(&Policy{}).Pluck("slug", &existing).Error; err != nil {
			return err
		}
		have := map[string]bool{}
		for _, slug := range existing {
			have[slug] = true
		}
		now := s.clock()
		for _, t := range templates {
			if have[t.Slug] {
				continue
			}
			next := calendar.AddMonths(now, t.ReviewIntervalMonths)
			p := Policy{Slug: t.Slug, Title: t.Title, OwnerRole: t.OwnerRole, ReviewIntervalMonths: t.ReviewIntervalMonths,
				TSCRefs: strings.Join(t.TSC, ","), NextReviewAt: &next, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			body := normalizeBody(t.Body)
			v := Version{PolicyID: p.ID, Major: 1, Minor: 0, Status: StatusPublished, Material: true,
				ChangeSummary: "Initial version from the Charter policy template.", Body: body, SHA256: HashText(body),
				Author: by.Label, ApprovedBy: by.Label, ApprovedAt: &now, PublishedBy: by.Label, PublishedAt: &now,
				CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&v).Error; err != nil {
				return err
			}
			if err := audit.Append(tx, by, audit.Entry{At: now, Action: "policy.seeded", ObjectType: "policy",
				ObjectID: p.Slug, After: stateOf(&p, &v)}); err != nil {
				return err
			}
			seeded = append(seeded, v)
		}
		if len(seeded) == 0 {
			return nil
		}
		return s.majorPublished(tx, seeded)
	})
	return len(seeded), err
}

// Summary is a policy with its current and in-preparation versions, for
// lists and the overview (no version bodies).
type Summary struct {
	Policy
	Current *Version // the published version; nil if none yet
	Pending *Version // the draft or approved version, if any
	Review  ReviewState
}

// Sort columns accepted by List. Anything else is refused.
var sortColumns = map[string]func(a, b *Summary) int{
	"title":       func(a, b *Summary) int { return strings.Compare(a.Title, b.Title) },
	"owner":       func(a, b *Summary) int { return strings.Compare(a.OwnerRole, b.OwnerRole) },
	"version":     func(a, b *Summary) int { return compareVersions(a.Current, b.Current) },
	"effective":   func(a, b *Summary) int { return compareTimes(publishedAt(a.Current), publishedAt(b.Current)) },
	"next_review": func(a, b *Summary) int { return compareTimes(a.NextReviewAt, b.NextReviewAt) },
	"status":      func(a, b *Summary) int { return strings.Compare(a.StatusLabel(), b.StatusLabel()) },
}

// SortColumns lists the accepted sort keys.
func SortColumns() []string {
	keys := make([]string, 0, len(sortColumns))
	for k := range sortColumns {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func publishedAt(v *Version) *time.Time {
	if v == nil {
		return nil
	}
	return v.PublishedAt
}

func compareVersions(a, b *Version) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	case a.Major != b.Major:
		return a.Major - b.Major
	}
	return a.Minor - b.Minor
}

func compareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

// StatusLabel is the one-word state shown in lists: what needs doing first.
func (s *Summary) StatusLabel() string {
	switch {
	case s.Current == nil:
		return "unpublished"
	case s.Review == ReviewOverdue:
		return "review overdue"
	case s.Pending != nil && s.Pending.Status == StatusApproved:
		return "awaiting publication"
	case s.Pending != nil:
		return "draft in review"
	case s.Review == ReviewDue:
		return "review due"
	}
	return "published"
}

// ListOptions orders and filters a list.
type ListOptions struct {
	Sort string // one of SortColumns(); "" means title
	Desc bool
	// Status keeps the policies with a version in that state: "draft" or
	// "approved" (in preparation), "published" (in force); "" for all.
	Status Status
	// Review keeps the policies whose periodic review is in that state;
	// "" for all.
	Review ReviewState
}

// ListStatuses are the values ListOptions.Status accepts.
var ListStatuses = []Status{StatusDraft, StatusApproved, StatusPublished}

// ReviewStates are the values ListOptions.Review accepts.
var ReviewStates = []ReviewState{ReviewCurrent, ReviewDue, ReviewOverdue}

// keeps reports whether sum passes the filters of opt.
func (opt *ListOptions) keeps(sum *Summary) bool {
	switch opt.Status {
	case StatusDraft, StatusApproved:
		if sum.Pending == nil || sum.Pending.Status != opt.Status {
			return false
		}
	case StatusPublished:
		if sum.Current == nil {
			return false
		}
	}
	return opt.Review == "" || sum.Review == opt.Review
}

// check names a filter that is not accepted.
func (opt *ListOptions) check() error {
	if opt.Status != "" && !slices.Contains(ListStatuses, opt.Status) {
		return apperr.Field("status", "must be one of draft, approved, published")
	}
	if opt.Review != "" && !slices.Contains(ReviewStates, opt.Review) {
		return apperr.Field("review", "must be one of current, due, overdue")
	}
	return nil
}

// List returns every policy with its current and pending versions.
// Errors: Invalid when the sort column is not allowed.
func (s *Service) List(ctx context.Context, opt ListOptions) ([]Summary, error) {
	if opt.Sort == "" {
		opt.Sort = "title"
	}
	cmp, ok := sortColumns[opt.Sort]
	if !ok {
		return nil, apperr.Field("sort", "must be one of "+strings.Join(SortColumns(), ", "))
	}
	if err := opt.check(); err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	var policies []Policy
	if err := db.Order("title").Find(&policies).Error; err != nil {
		return nil, err
	}
	// Two queries for all versions of interest; bodies are not needed here.
	var versions []Version
	if err := db.Omit("body").Where("status IN ?", []Status{StatusPublished, StatusDraft, StatusApproved}).
		Find(&versions).Error; err != nil {
		return nil, err
	}
	byPolicy := map[int64]*Summary{}
	out := make([]Summary, len(policies))
	now := s.clock()
	for i := range policies {
		out[i] = Summary{Policy: policies[i], Review: policies[i].ReviewStateAt(now)}
		byPolicy[policies[i].ID] = &out[i]
	}
	for i := range versions {
		v := &versions[i]
		sum := byPolicy[v.PolicyID]
		if sum == nil {
			continue
		}
		if v.Status == StatusPublished {
			sum.Current = v
		} else {
			sum.Pending = v
		}
	}
	kept := out[:0]
	for i := range out {
		if opt.keeps(&out[i]) {
			kept = append(kept, out[i])
		}
	}
	out = kept
	sort.SliceStable(out, func(i, j int) bool {
		c := cmp(&out[i], &out[j])
		if opt.Desc {
			return c > 0
		}
		return c < 0
	})
	return out, nil
}

// Detail is a policy with its whole history.
type Detail struct {
	Policy   Policy
	Current  *Version // with body
	Versions []Version
	Reviews  []Review
	Review   ReviewState
}

// Pending returns the version in preparation, if any.
func (d *Detail) Pending() *Version {
	for i := range d.Versions {
		if d.Versions[i].Open() {
			return &d.Versions[i]
		}
	}
	return nil
}

// Before returns the number of the version that precedes number, or ""
// when number is the first version (or not one of the policy's).
func (d *Detail) Before(number string) string {
	for i := range d.Versions {
		if d.Versions[i].Number() == number && i+1 < len(d.Versions) {
			return d.Versions[i+1].Number()
		}
	}
	return ""
}

// Get returns a policy with its current text, its versions (newest first,
// without bodies) and its reviews. Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, slug string) (*Detail, error) {
	db := s.db.WithContext(ctx)
	p, err := s.policyBySlug(db, slug)
	if err != nil {
		return nil, err
	}
	d := &Detail{Policy: *p, Review: p.ReviewStateAt(s.clock())}
	if err := db.Omit("body").Where("policy_id = ?", p.ID).Order("major DESC, minor DESC").Find(&d.Versions).Error; err != nil {
		return nil, err
	}
	var cur Version
	err = db.Where("policy_id = ? AND status = ?", p.ID, StatusPublished).Take(&cur).Error
	if err == nil {
		d.Current = &cur
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	if err := db.Where("policy_id = ?", p.ID).Order("reviewed_at DESC").Find(&d.Reviews).Error; err != nil {
		return nil, err
	}
	return d, nil
}

// Version returns one version with its text. Errors: ErrNotFound,
// ErrVersionNotFound.
func (s *Service) Version(ctx context.Context, slug, number string) (*Policy, *Version, error) {
	db := s.db.WithContext(ctx)
	p, err := s.policyBySlug(db, slug)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.versionOf(db, p, number)
	return p, v, err
}

// Draft is the content of a version being written. Material says
// whether the change is material (a new major version that every employee
// acknowledges again); it must be said, never assumed. Approver, when
// set, is the email of the editor or admin asked to approve it.
type Draft struct {
	Body          string `validate:"required"`
	ChangeSummary string `validate:"required,max=1000"`
	Material      *bool  `validate:"required"`
	Approver      string `validate:"-"`
}

// MaxBodyBytes bounds a policy text.
const MaxBodyBytes = 200_000

// check normalises the draft and names each bad field.
func (d *Draft) check(v *check.Validator) check.Errors {
	d.Body = normalizeBody(d.Body)
	d.ChangeSummary = strings.TrimSpace(d.ChangeSummary)
	errs := v.Struct(Draft{Body: strings.TrimSpace(d.Body), ChangeSummary: d.ChangeSummary, Material: d.Material, Approver: d.Approver})
	if !errs.Has("body") && len(d.Body) > MaxBodyBytes {
		errs.Add("body", "must be at most 200,000 bytes")
	}
	if errs.Has("change_summary") && d.ChangeSummary == "" {
		errs["change_summary"] = "is required: say what changed and why"
	}
	if errs.Has("material") {
		errs["material"] = "must be chosen: major (everyone acknowledges it again) or minor"
	}
	return errs
}

// samePublished returns the number of the published version of the
// policy slug when its text is body, else "" (also for no such policy:
// the transaction that follows answers for that).
func (s *Service) samePublished(ctx context.Context, slug, body string) (string, error) {
	var cur Version
	err := s.db.WithContext(ctx).Select("policy_versions.major", "policy_versions.minor").
		Joins("JOIN policies ON policies.id = policy_versions.policy_id").
		Where("policies.slug = ? AND policy_versions.status = ? AND policy_versions.body = ?", slug, StatusPublished, body).
		Take(&cur).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	return cur.Number(), err
}

// nextNumber returns the number a draft gets after the highest published
// (or superseded) version: the next major for a material change, else the
// next minor.
func nextNumber(tx *gorm.DB, policyID int64, material bool) (int, int, error) {
	var last Version
	err := tx.Select("major", "minor").Where("policy_id = ? AND status IN ?", policyID, []Status{StatusPublished, StatusSuperseded}).
		Order("major DESC, minor DESC").Limit(1).Take(&last).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 1, 0, nil
	} else if err != nil {
		return 0, 0, err
	}
	if material {
		return last.Major + 1, 0, nil
	}
	return last.Major, last.Minor + 1, nil
}

// CreateDraft starts a new version of a policy and submits it for
// approval: its named approver, or else every other editor and admin, is
// emailed. Errors: ErrNotFound, ErrOpenVersion, Invalid (also for a text
// unchanged from the published version).
func (s *Service) CreateDraft(ctx context.Context, by audit.Actor, slug string, d Draft) (*Version, error) {
	// Every problem is named at once: the fields, the approver, and a
	// text that is the published one.
	errs := d.check(s.check)
	approvers, err := s.Approvers(ctx)
	if err != nil {
		return nil, err
	}
	approver, problem := namedApprover(approvers, d.Approver, actorID(by), by.UserID)
	if problem != "" {
		errs.Add("approver", problem)
	}
	if !errs.Has("body") {
		same, err := s.samePublished(ctx, slug, d.Body)
		if err != nil {
			return nil, err
		}
		if same != "" {
			errs.Add("body", "is the same as the published version "+same+": change the text before saving a new version")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var v Version
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.policyBySlug(store.ForUpdate(tx), slug)
		if err != nil {
			return err
		}
		var open int64
		if err := tx.Model(&Version{}).Where("policy_id = ? AND status IN ?", p.ID, []Status{StatusDraft, StatusApproved}).Count(&open).Error; err != nil {
			return err
		}
		if open > 0 {
			return ErrOpenVersion
		}
		major, minor, err := nextNumber(tx, p.ID, *d.Material)
		if err != nil {
			return err
		}
		now := s.clock()
		v = Version{PolicyID: p.ID, Major: major, Minor: minor, Status: StatusDraft, Material: *d.Material,
			ChangeSummary: d.ChangeSummary, Body: d.Body, AuthorID: actorID(by), Author: by.Label,
			EditedByID: actorID(by), CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&v).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrOpenVersion
			}
			return err
		}
		if err := audit.Append(tx, by, audit.Entry{At: now, Action: "policy.version.drafted", ObjectType: "policy_version",
			ObjectID: p.Slug + "@" + v.Number(), After: stateOf(p, &v)}); err != nil {
			return err
		}
		return s.submit(tx, by, p, &v, approvers, approver, now)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// UpdateDraft changes the text of a version in preparation and submits
// it for approval again. Editing an approved version returns it to draft:
// the approval covered other words. Errors: ErrNotFound,
// ErrVersionNotFound, ErrImmutable, Invalid (also when nothing changed).
func (s *Service) UpdateDraft(ctx context.Context, by audit.Actor, slug, number string, d Draft) (*Version, error) {
	approvers, err := s.Approvers(ctx)
	if err != nil {
		return nil, err
	}
	var v *Version
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.policyBySlug(tx, slug)
		if err != nil {
			return err
		}
		if v, err = s.versionOf(store.ForUpdate(tx), p, number); err != nil {
			return err
		}
		if !v.Open() {
			return ErrImmutable
		}
		errs := d.check(s.check)
		approver, problem := namedApprover(approvers, d.Approver, v.AuthorID, by.UserID)
		if problem != "" {
			errs.Add("approver", problem)
		}
		if len(errs) == 0 && d.Body == v.Body && d.ChangeSummary == v.ChangeSummary && *d.Material == v.Material && notify.NormalizeAddress(d.Approver) == v.Approver {
			errs.Add("body", "is unchanged, as are the summary, the kind of change and the approver: there is nothing to save")
		}
		if err := errs.Err(); err != nil {
			return err
		}
		before := stateOf(p, v)
		major, minor, err := nextNumber(tx, p.ID, *d.Material)
		if err != nil {
			return err
		}
		now := s.clock()
		v.Major, v.Minor, v.Material, v.ChangeSummary, v.Body = major, minor, *d.Material, d.ChangeSummary, d.Body
		v.Status, v.ApprovedByID, v.ApprovedBy, v.ApprovedAt = StatusDraft, nil, "", nil
		v.EditedByID, v.UpdatedAt = actorID(by), now
		if err := tx.Save(v).Error; err != nil {
			return err
		}
		if err := audit.Append(tx, by, audit.Entry{At: now, Action: "policy.version.edited", ObjectType: "policy_version",
			ObjectID: p.Slug + "@" + v.Number(), Before: before, After: stateOf(p, v)}); err != nil {
			return err
		}
		return s.submit(tx, by, p, v, approvers, approver, now)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Approve approves a draft. The approver must be a signed-in user other
// than the version's author and its last editor (segregation of duties),
// and the named approver or an admin when the draft names one (see
// Version.CanApprove). Errors: ErrNotFound, ErrVersionNotFound,
// ErrNotDraft, ErrSelfApproval, ErrNotNamedApprover.
func (s *Service) Approve(ctx context.Context, by audit.Actor, slug, number string) (*Version, error) {
	approvers, err := s.Approvers(ctx)
	if err != nil {
		return nil, err
	}
	return s.transition(ctx, by, slug, number, "policy.version.approved", func(tx *gorm.DB, p *Policy, v *Version, now time.Time) error {
		switch {
		case v.Status == StatusPublished || v.Status == StatusSuperseded:
			return ErrImmutable
		case v.Status != StatusDraft:
			return ErrNotDraft
		case by.UserID == 0:
			return ErrSystemNotAllowed
		case sameUser(v.AuthorID, by.UserID) || sameUser(v.EditedByID, by.UserID):
			return ErrSelfApproval
		case !v.CanApprove(by.UserID, isAdmin(approvers, by.UserID)):
			return ErrNotNamedApprover
		}
		v.Status, v.ApprovedByID, v.ApprovedBy, v.ApprovedAt = StatusApproved, actorID(by), by.Label, &now
		return nil
	})
}

func sameUser(id *int64, user int64) bool { return id != nil && *id == user }

// Publish publishes an approved version: its text is hashed and frozen, the
// previous published version is superseded, and the next review is due one
// review interval from now. Errors: ErrNotFound, ErrVersionNotFound,
// ErrNotApproved, ErrImmutable.
func (s *Service) Publish(ctx context.Context, by audit.Actor, slug, number string) (*Version, error) {
	return s.transition(ctx, by, slug, number, "policy.version.published", func(tx *gorm.DB, p *Policy, v *Version, now time.Time) error {
		switch v.Status {
		case StatusPublished, StatusSuperseded:
			return ErrImmutable
		case StatusDraft:
			return ErrNotApproved
		}
		if err := tx.Model(&Version{}).Where("policy_id = ? AND status = ?", p.ID, StatusPublished).
			Updates(map[string]any{"status": StatusSuperseded, "superseded_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		v.Status, v.SHA256 = StatusPublished, HashText(v.Body)
		v.PublishedByID, v.PublishedBy, v.PublishedAt = actorID(by), by.Label, &now
		next := calendar.AddMonths(now, p.ReviewIntervalMonths)
		return tx.Model(p).Updates(map[string]any{"next_review_at": next, "updated_at": now}).Error
	}, func(tx *gorm.DB, v *Version) error {
		if v.Minor != 0 {
			return nil
		}
		return s.majorPublished(tx, []Version{*v})
	})
}

// transition loads a version, lets change alter it, saves it, runs saved
// (if any) and appends the audit event, all in one transaction.
func (s *Service) transition(ctx context.Context, by audit.Actor, slug, number, action string,
	change func(tx *gorm.DB, p *Policy, v *Version, now time.Time) error, saved ...func(tx *gorm.DB, v *Version) error) (*Version, error) {
	var v *Version
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.policyBySlug(tx, slug)
		if err != nil {
			return err
		}
		if v, err = s.versionOf(store.ForUpdate(tx), p, number); err != nil {
			return err
		}
		before := stateOf(p, v)
		now := s.clock()
		if err := change(tx, p, v, now); err != nil {
			return err
		}
		v.UpdatedAt = now
		if err := tx.Save(v).Error; err != nil {
			return err
		}
		for _, fn := range saved {
			if err := fn(tx, v); err != nil {
				return err
			}
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: action, ObjectType: "policy_version",
			ObjectID: p.Slug + "@" + v.Number(), Before: before, After: stateOf(p, v)})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// reviewNote is what a reviewer says of a review.
type reviewNote struct {
	Note string `validate:"required,max=2000"`
}

// RecordReview records "reviewed, no change" for the current version and
// moves the next review date one interval on. Errors: ErrNotFound,
// ErrNoPublished, Invalid.
func (s *Service) RecordReview(ctx context.Context, by audit.Actor, slug, note string) (*Review, error) {
	note = strings.TrimSpace(note)
	errs := s.check.Struct(reviewNote{Note: note})
	if errs.Has("note") && note == "" {
		errs["note"] = "is required: say what was reviewed and by whom"
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var r Review
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := s.policyBySlug(tx, slug)
		if err != nil {
			return err
		}
		var cur Version
		err = tx.Omit("body").Where("policy_id = ? AND status = ?", p.ID, StatusPublished).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoPublished
		} else if err != nil {
			return err
		}
		now := s.clock()
		r = Review{PolicyID: p.ID, VersionID: cur.ID, ReviewedByID: actorID(by), ReviewedBy: by.Label,
			ReviewedAt: now, Note: note, NextReviewAt: calendar.AddMonths(now, p.ReviewIntervalMonths)}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		before := map[string]any{"next_review_at": p.NextReviewAt}
		if err := tx.Model(p).Updates(map[string]any{"next_review_at": r.NextReviewAt, "last_reviewed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "policy.reviewed", ObjectType: "policy", ObjectID: p.Slug,
			Before: before, After: map[string]any{"version": cur.Number(), "note": note, "next_review_at": r.NextReviewAt}})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Comparison is a diff between two versions of one policy.
type Comparison struct {
	Policy   Policy
	From, To Version
	Lines    []DiffLine
}

// Compare diffs two versions line by line. Errors: ErrNotFound,
// ErrVersionNotFound.
func (s *Service) Compare(ctx context.Context, slug, from, to string) (*Comparison, error) {
	db := s.db.WithContext(ctx)
	p, err := s.policyBySlug(db, slug)
	if err != nil {
		return nil, err
	}
	a, err := s.versionOf(db, p, from)
	if err != nil {
		return nil, err
	}
	b, err := s.versionOf(db, p, to)
	if err != nil {
		return nil, err
	}
	return &Comparison{Policy: *p, From: *a, To: *b, Lines: DiffLines(a.Body, b.Body)}, nil
}

// Overview is the registry at a glance.
type Overview struct {
	Total             int
	Published         int
	ReviewDue         []Summary
	ReviewOverdue     []Summary
	AwaitingApproval  []Summary
	AwaitingPublished []Summary
	ByStatus          map[string]int
}

// Overview summarises the registry for the dashboard's first page.
func (s *Service) Overview(ctx context.Context) (*Overview, error) {
	list, err := s.List(ctx, ListOptions{Sort: "next_review"})
	if err != nil {
		return nil, err
	}
	o := &Overview{Total: len(list), ByStatus: map[string]int{}}
	for _, sum := range list {
		o.ByStatus[sum.StatusLabel()]++
		if sum.Current != nil {
			o.Published++
		}
		switch sum.Review {
		case ReviewOverdue:
			o.ReviewOverdue = append(o.ReviewOverdue, sum)
		case ReviewDue:
			o.ReviewDue = append(o.ReviewDue, sum)
		}
		if sum.Pending != nil && sum.Pending.Status == StatusDraft {
			o.AwaitingApproval = append(o.AwaitingApproval, sum)
		}
		if sum.Pending != nil && sum.Pending.Status == StatusApproved {
			o.AwaitingPublished = append(o.AwaitingPublished, sum)
		}
	}
	return o, nil
}
