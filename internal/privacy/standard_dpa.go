package privacy

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// The standard DPA lives in the privacy package, beside the register it
// feeds: a signature becomes a register entry in the same transaction, and
// both share the work-address rule, the file store and the profile.

// DefaultStandardDPA is the text the standard DPA starts from: a GDPR
// Art. 28 processor agreement for a SaaS company. Its {{placeholders}} are
// filled from the organization profile when it is seeded.
//
//go:embed standard_dpa.md
var DefaultStandardDPA string

// The states of a standard DPA version, as for policies: a published
// version is superseded when a newer one is published.
const (
	DPADraft      = "draft"
	DPAApproved   = "approved"
	DPAPublished  = "published"
	DPASuperseded = "superseded"
)

// StandardDPAVersion is one version of the standard DPA's text.
type StandardDPAVersion struct {
	ID            int64
	Number        int
	Status        string
	ChangeSummary string
	Body          string
	SHA256        string `gorm:"column:sha256"`
	AuthorID      *int64
	Author        string
	EditedByID    *int64
	ApprovedByID  *int64
	ApprovedBy    string
	ApprovedAt    *time.Time
	PublishedByID *int64
	PublishedBy   string
	PublishedAt   *time.Time
	SupersededAt  *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TableName is the versions table.
func (StandardDPAVersion) TableName() string { return "standard_dpa_versions" }

// Open reports whether the version is still being prepared.
func (v *StandardDPAVersion) Open() bool { return v.Status == DPADraft || v.Status == DPAApproved }

// Errors of the standard DPA's versions.
var (
	ErrStandardDPANotFound   = apperr.New(apperr.NotFound, "no such version of the standard DPA")
	ErrNoPublishedDPA        = apperr.New(apperr.NotFound, "no version of the standard DPA is published yet")
	ErrStandardDPAOpen       = apperr.New(apperr.Conflict, "a version of the standard DPA is already in preparation; edit, approve or publish it first")
	ErrStandardDPAImmutable  = apperr.New(apperr.Conflict, "a published version of the standard DPA cannot be changed; create a new version instead")
	ErrStandardDPANotDraft   = apperr.New(apperr.Conflict, "only a draft can be approved")
	ErrStandardDPANotApprove = apperr.New(apperr.Conflict, "only an approved version can be published; approve it first")
	ErrStandardDPASelf       = apperr.New(apperr.Forbidden, "you cannot approve a version you drafted or edited; another user must approve it")
	ErrStandardDPASystem     = apperr.New(apperr.Forbidden, "approval needs a signed-in user")
)

// StandardDPADraft is the text of a new or edited version.
type StandardDPADraft struct {
	Body          string `validate:"required,min=200,max=200000"`
	ChangeSummary string `validate:"required,max=1000"`
}

// normalizeDPABody gives every text one line ending, so that its hash does
// not depend on the browser or editor that sent it.
func normalizeDPABody(b string) string {
	b = strings.ReplaceAll(b, "\r\n", "\n")
	return strings.TrimRight(b, "\n\t ") + "\n"
}

// HashDPAText is the SHA-256 of a version's text, as stored on publication.
func HashDPAText(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

func (s *Service) checkDraft(d *StandardDPADraft) error {
	d.Body, d.ChangeSummary = normalizeDPABody(d.Body), strings.TrimSpace(d.ChangeSummary)
	errs := s.check.Struct(StandardDPADraft{Body: strings.TrimSpace(d.Body), ChangeSummary: d.ChangeSummary})
	if errs.Has("change_summary") && d.ChangeSummary == "" {
		errs["change_summary"] = "is required: say what changed and why"
	}
	if errs.Has("body") {
		errs["body"] = "must be the agreement's full text, 200 to 200,000 characters of Markdown"
	}
	return errs.Err()
}

func userID(by audit.Actor) *int64 {
	if by.UserID == 0 {
		return nil
	}
	id := by.UserID
	return &id
}

// dpaVersionState is what the audit trail records of a version.
type dpaVersionState struct {
	Version       int    `json:"version"`
	Status        string `json:"status"`
	ChangeSummary string `json:"change_summary"`
	BodySHA256    string `json:"body_sha256"`
}

func stateOfDPA(v *StandardDPAVersion) dpaVersionState {
	return dpaVersionState{Version: v.Number, Status: v.Status, ChangeSummary: v.ChangeSummary, BodySHA256: HashDPAText(v.Body)}
}

// StandardDPAVersions returns every version, newest first.
func (s *Service) StandardDPAVersions(ctx context.Context) ([]StandardDPAVersion, error) {
	var out []StandardDPAVersion
	return out, s.db.WithContext(ctx).Order("number DESC").Find(&out).Error
}

// StandardDPA returns one version by number. Errors: ErrStandardDPANotFound.
func (s *Service) StandardDPA(ctx context.Context, number int) (*StandardDPAVersion, error) {
	return dpaVersionByNumber(s.db.WithContext(ctx), number)
}

func dpaVersionByNumber(tx *gorm.DB, number int) (*StandardDPAVersion, error) {
	var v StandardDPAVersion
	err := tx.Where("number = ?", number).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrStandardDPANotFound
	}
	return &v, err
}

// CurrentStandardDPA returns the published version. Errors:
// ErrNoPublishedDPA.
func (s *Service) CurrentStandardDPA(ctx context.Context) (*StandardDPAVersion, error) {
	return currentStandardDPA(s.db.WithContext(ctx))
}

func currentStandardDPA(tx *gorm.DB) (*StandardDPAVersion, error) {
	var v StandardDPAVersion
	err := tx.Where("status = ?", DPAPublished).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoPublishedDPA
	}
	return &v, err
}

// standardDPATurn serialises the changes of the versions on PostgreSQL:
// numbering reads the last number and writes the next.
const standardDPATurn = "standard-dpa-versions"

// DraftStandardDPA starts a new version from d. Errors: ErrStandardDPAOpen,
// Invalid.
func (s *Service) DraftStandardDPA(ctx context.Context, by audit.Actor, d StandardDPADraft) (*StandardDPAVersion, error) {
	if err := s.checkDraft(&d); err != nil {
		return nil, err
	}
	var v StandardDPAVersion
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.TakeTurn(tx, standardDPATurn); err != nil {
			return err
		}
		var open int64
		if err := tx.Model(&StandardDPAVersion{}).Where("status IN ?", []string{DPADraft, DPAApproved}).Count(&open).Error; err != nil {
			return err
		}
		if open > 0 {
			return ErrStandardDPAOpen
		}
		var last int
		if err := tx.Model(&StandardDPAVersion{}).Select("COALESCE(MAX(number), 0)").Scan(&last).Error; err != nil {
			return err
		}
		now := s.clock()
		v = StandardDPAVersion{Number: last + 1, Status: DPADraft, ChangeSummary: d.ChangeSummary, Body: d.Body,
			AuthorID: userID(by), Author: by.Label, EditedByID: userID(by), CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&v).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrStandardDPAOpen
			}
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "standard_dpa.drafted", ObjectType: "standard_dpa",
			ObjectID: strconv.Itoa(v.Number), After: stateOfDPA(&v)})
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// EditStandardDPA changes the text of a version in preparation. Editing
// an approved version returns it to draft: the approval covered other
// words. Errors: ErrStandardDPANotFound, ErrStandardDPAImmutable, Invalid.
func (s *Service) EditStandardDPA(ctx context.Context, by audit.Actor, number int, d StandardDPADraft) (*StandardDPAVersion, error) {
	if err := s.checkDraft(&d); err != nil {
		return nil, err
	}
	return s.dpaTransition(ctx, by, number, "standard_dpa.edited", func(tx *gorm.DB, v *StandardDPAVersion, now time.Time) error {
		if !v.Open() {
			return ErrStandardDPAImmutable
		}
		v.Body, v.ChangeSummary = d.Body, d.ChangeSummary
		v.Status, v.ApprovedByID, v.ApprovedBy, v.ApprovedAt = DPADraft, nil, "", nil
		v.EditedByID = userID(by)
		return nil
	})
}

// ApproveStandardDPA approves a draft. The approver must be a signed-in
// user other than its author and its last editor (segregation of duties).
// Errors: ErrStandardDPANotFound, ErrStandardDPAImmutable,
// ErrStandardDPANotDraft, ErrStandardDPASystem, ErrStandardDPASelf.
func (s *Service) ApproveStandardDPA(ctx context.Context, by audit.Actor, number int) (*StandardDPAVersion, error) {
	return s.dpaTransition(ctx, by, number, "standard_dpa.approved", func(tx *gorm.DB, v *StandardDPAVersion, now time.Time) error {
		switch {
		case !v.Open():
			return ErrStandardDPAImmutable
		case v.Status != DPADraft:
			return ErrStandardDPANotDraft
		case by.UserID == 0:
			return ErrStandardDPASystem
		case sameUserID(v.AuthorID, by.UserID) || sameUserID(v.EditedByID, by.UserID):
			return ErrStandardDPASelf
		}
		v.Status, v.ApprovedByID, v.ApprovedBy, v.ApprovedAt = DPAApproved, userID(by), by.Label, &now
		return nil
	})
}

func sameUserID(id *int64, user int64) bool { return id != nil && *id == user }

// PublishStandardDPA publishes an approved version: its text is hashed
// and frozen, and the version in force is superseded. Customers sign the
// published version from then on. Errors: ErrStandardDPANotFound,
// ErrStandardDPAImmutable, ErrStandardDPANotApprove.
func (s *Service) PublishStandardDPA(ctx context.Context, by audit.Actor, number int) (*StandardDPAVersion, error) {
	return s.dpaTransition(ctx, by, number, "standard_dpa.published", func(tx *gorm.DB, v *StandardDPAVersion, now time.Time) error {
		switch v.Status {
		case DPAPublished, DPASuperseded:
			return ErrStandardDPAImmutable
		case DPADraft:
			return ErrStandardDPANotApprove
		}
		if err := tx.Model(&StandardDPAVersion{}).Where("status = ?", DPAPublished).
			Updates(map[string]any{"status": DPASuperseded, "superseded_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		v.Status, v.SHA256 = DPAPublished, HashDPAText(v.Body)
		v.PublishedByID, v.PublishedBy, v.PublishedAt = userID(by), by.Label, &now
		return nil
	})
}

// dpaTransition loads a version, lets change alter it, saves it and
// appends the audit event, all in one transaction.
func (s *Service) dpaTransition(ctx context.Context, by audit.Actor, number int, action string,
	change func(tx *gorm.DB, v *StandardDPAVersion, now time.Time) error) (*StandardDPAVersion, error) {
	var v *StandardDPAVersion
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.TakeTurn(tx, standardDPATurn); err != nil {
			return err
		}
		var err error
		if v, err = dpaVersionByNumber(store.ForUpdate(tx), number); err != nil {
			return err
		}
		before := stateOfDPA(v)
		now := s.clock()
		if err := change(tx, v, now); err != nil {
			return err
		}
		v.UpdatedAt = now
		if err := tx.Save(v).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: action, ObjectType: "standard_dpa",
			ObjectID: strconv.Itoa(v.Number), Before: before, After: stateOfDPA(v)})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// FillStandardDPA fills the default text's placeholders from the profile.
func FillStandardDPA(body string, o *org.Organization) string {
	company, website, privacyEmail, regions := "the Company", "", "", "the regions listed on the Security & Privacy page"
	if o != nil && o.ID != 0 {
		company, website, privacyEmail = o.Name, o.Website, o.PrivacyEmail
		if r := o.Regions(); len(r) > 0 {
			regions = strings.Join(r, ", ")
		}
	}
	if website == "" {
		website = "its website"
	}
	if privacyEmail == "" {
		privacyEmail = "the privacy contact named on its Security & Privacy page"
	}
	return strings.NewReplacer("{{company}}", company, "{{website}}", website, "{{privacy_email}}", privacyEmail,
		"{{regions}}", regions).Replace(body)
}

// SeedStandardDPA publishes the default text, filled from the profile, as
// version 1 when there is no version yet. It reports whether it did.
func (s *Service) SeedStandardDPA(ctx context.Context, by audit.Actor) (bool, error) {
	o, err := s.orgs.Current(ctx)
	if err != nil {
		return false, err
	}
	seeded := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.TakeTurn(tx, standardDPATurn); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&StandardDPAVersion{}).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		now := s.clock()
		body := normalizeDPABody(FillStandardDPA(DefaultStandardDPA, o))
		v := StandardDPAVersion{Number: 1, Status: DPAPublished, ChangeSummary: "Initial version from Charter's standard DPA template.",
			Body: body, SHA256: HashDPAText(body), Author: by.Label, ApprovedBy: by.Label, ApprovedAt: &now,
			PublishedBy: by.Label, PublishedAt: &now, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&v).Error; err != nil {
			return err
		}
		seeded = true
		return audit.Append(tx, by, audit.Entry{At: now, Action: "standard_dpa.seeded", ObjectType: "standard_dpa",
			ObjectID: strconv.Itoa(v.Number), After: stateOfDPA(&v)})
	})
	return seeded, err
}
