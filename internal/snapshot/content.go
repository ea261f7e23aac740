package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/questionnaire"
	"gorm.io/gorm"
)

// ContentSchema names the layout of Content; docs/snapshots.md describes
// it. A new layout gets a new name, so that an old snapshot's bytes keep
// their meaning.
const ContentSchema = "charter-promises-v1"

// Content is what the public pages promise, as one canonical JSON
// document: the same registers always give the same bytes, so an
// unchanged promise gives an unchanged SHA-256. It holds no time of its
// own: the snapshot's taken_at says when it was in force.
type Content struct {
	Schema          string         `json:"schema"`
	Organization    Organization   `json:"organization"`
	Policies        []Policy       `json:"policies"`
	Subprocessors   []Subprocessor `json:"subprocessors"`
	UpcomingChanges []Change       `json:"upcoming_changes"`
	StandardDPA     *StandardDPA   `json:"standard_dpa"`
	Documents       []Document     `json:"documents"`
	Advisories      []Advisory     `json:"advisories"`
	Answers         []Answer       `json:"answers"`
}

// Organization is the profile as /trust shows it (the DPO only when the
// profile makes the DPO public).
type Organization struct {
	Name               string          `json:"name"`
	Website            string          `json:"website"`
	PrivacyEmail       string          `json:"privacy_email"`
	SecurityEmail      string          `json:"security_email"`
	DPO                *DPO            `json:"dpo"`
	HostingRegions     []string        `json:"hosting_regions"`
	TransferMechanisms []string        `json:"transfer_mechanisms"`
	StatusPageURL      string          `json:"status_page_url"`
	EURepresentative   string          `json:"eu_representative"`
	UKRepresentative   string          `json:"uk_representative"`
	CCPAStatement      string          `json:"ccpa_statement"`
	CCPAAddendumURL    string          `json:"ccpa_addendum_url"`
	DataOwnership      string          `json:"data_ownership"`
	NeverSold          string          `json:"never_sold"`
	SecurityReport     string          `json:"security_report"`
	BountyReward       string          `json:"bounty_reward"`
	Approach           string          `json:"approach"`
	BestPractices      string          `json:"best_practices"`
	GDPRRoles          []GDPRRole      `json:"gdpr_roles"`
	LegalEntities      []LegalEntity   `json:"legal_entities"`
	Certifications     []Certification `json:"certifications"`
}

// DPO is the data protection officer named on /trust.
type DPO struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Email string `json:"email"`
}

// GDPRRole is the company's role under the GDPR for one mode.
type GDPRRole struct {
	Mode      string `json:"mode"`
	Role      string `json:"role"`
	Statement string `json:"statement"`
}

// LegalEntity is a company of the group.
type LegalEntity struct {
	Name                  string `json:"name"`
	Role                  string `json:"role"`
	Country               string `json:"country"`
	RegistrationNumber    string `json:"registration_number"`
	AuthorityRegistration string `json:"authority_registration"`
}

// Certification is an attestation with its period and report date.
type Certification struct {
	Framework   string `json:"framework"`
	Type        string `json:"type"`
	Auditor     string `json:"auditor"`
	PeriodStart string `json:"period_start,omitempty"`
	PeriodEnd   string `json:"period_end,omitempty"`
	ReportDate  string `json:"report_date,omitempty"`
	Document    string `json:"document,omitempty"`
}

// Policy is a policy's published version, as /trust lists it.
type Policy struct {
	Slug        string `json:"slug"`
	Title       string `json:"title"`
	Version     string `json:"version"`
	SHA256      string `json:"sha256"`
	PublishedAt string `json:"published_at"`
}

// Subprocessor is one entry of the active sub-processor list.
type Subprocessor struct {
	Name              string   `json:"name"`
	Purpose           string   `json:"purpose"`
	DataCategories    []string `json:"data_categories"`
	Countries         []string `json:"countries"`
	TransferMechanism string   `json:"transfer_mechanism"`
	Website           string   `json:"website,omitempty"`
	ActiveSince       string   `json:"active_since,omitempty"`
}

// Change is an announced change to the list, not yet in force.
type Change struct {
	Change       string `json:"change"`
	Subprocessor string `json:"subprocessor"`
	Replaces     string `json:"replaces,omitempty"`
	Summary      string `json:"summary"`
	AnnouncedAt  string `json:"announced_at"`
	EffectiveOn  string `json:"effective_on"`
}

// StandardDPA is the published version of the standard DPA.
type StandardDPA struct {
	Version     int    `json:"version"`
	SHA256      string `json:"sha256"`
	PublishedAt string `json:"published_at"`
}

// Document is a trust document shared outside the team (public or on
// request) with its version in force and that version's validity.
type Document struct {
	Slug       string `json:"slug"`
	Title      string `json:"title"`
	Kind       string `json:"kind"`
	Access     string `json:"access"`
	Version    string `json:"version"`
	SHA256     string `json:"sha256"`
	IssuedOn   string `json:"issued_on"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// Answer is a questionnaire answer /trust/answers shows: public,
// approved and not waiting for a review.
type Answer struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Advisory is a published security advisory.
type Advisory struct {
	ID               string   `json:"id"`
	Title            string   `json:"title"`
	Date             string   `json:"date"`
	CVE              string   `json:"cve,omitempty"`
	Severity         string   `json:"severity"`
	Status           string   `json:"status"`
	Description      string   `json:"description"`
	AffectedProducts []string `json:"affected_products"`
	AffectedRegions  string   `json:"affected_regions"`
	Resolution       string   `json:"resolution"`
	PublishedAt      string   `json:"published_at"`
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func optionalDay(t *time.Time) string {
	if t == nil {
		return ""
	}
	return day(*t)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// nonNil keeps empty lists as [] rather than null, so that the JSON says
// "none" the same way every time.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Build reads the public promises in tx: the transaction making a change
// sees the change it is making.
func Build(tx *gorm.DB) (*Content, error) {
	c := &Content{Schema: ContentSchema}
	steps := []func(*gorm.DB, *Content) error{buildOrganization, buildPolicies, buildSubprocessors, buildChanges, buildStandardDPA, buildDocuments, buildAdvisories, buildAnswers}
	for _, step := range steps {
		if err := step(tx, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Canonical is the content's bytes: encoding/json of fixed structs (fields
// in declaration order, no maps), so the same promises give the same bytes.
func (c *Content) Canonical() ([]byte, error) { return json.Marshal(c) }

func buildOrganization(tx *gorm.DB, c *Content) error {
	var o org.Organization
	byID := func(db *gorm.DB) *gorm.DB { return db.Order("id") }
	err := tx.Preload("GDPRRoles", byID).Preload("LegalEntities", byID).Preload("Certifications", byID).Order("id").Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		c.Organization = Organization{HostingRegions: []string{}, TransferMechanisms: []string{}, GDPRRoles: []GDPRRole{},
			LegalEntities: []LegalEntity{}, Certifications: []Certification{}}
		return nil
	} else if err != nil {
		return err
	}
	out := Organization{Name: o.Name, Website: o.Website, PrivacyEmail: o.PrivacyEmail, SecurityEmail: o.SecurityEmail,
		HostingRegions: nonNil(o.Regions()), TransferMechanisms: nonNil(o.Mechanisms()), StatusPageURL: o.StatusPageURL,
		EURepresentative: o.EURepresentative, UKRepresentative: o.UKRepresentative, CCPAStatement: o.CCPAStatement,
		CCPAAddendumURL: o.CCPAAddendumURL, DataOwnership: o.DataOwnership, NeverSold: o.NeverSold, SecurityReport: o.SecurityReport,
		BountyReward: o.BountyReward, Approach: o.Approach, BestPractices: o.BestPractices,
		GDPRRoles: []GDPRRole{}, LegalEntities: []LegalEntity{}, Certifications: []Certification{}}
	if o.DPOPublic {
		out.DPO = &DPO{Name: o.DPOName, Title: o.DPOTitle, Email: o.DPOEmail}
	}
	for _, r := range o.GDPRRoles {
		out.GDPRRoles = append(out.GDPRRoles, GDPRRole{Mode: r.Mode, Role: r.Role, Statement: r.Statement})
	}
	for _, e := range o.LegalEntities {
		out.LegalEntities = append(out.LegalEntities, LegalEntity{Name: e.Name, Role: e.Role, Country: e.Country,
			RegistrationNumber: e.RegistrationNumber, AuthorityRegistration: e.AuthorityRegistration})
	}
	for _, ce := range o.Certifications {
		out.Certifications = append(out.Certifications, Certification{Framework: ce.Framework, Type: ce.Type, Auditor: ce.Auditor,
			PeriodStart: optionalDay(ce.PeriodStart), PeriodEnd: optionalDay(ce.PeriodEnd), ReportDate: optionalDay(ce.ReportDate), Document: ce.DocumentSlug})
	}
	c.Organization = out
	return nil
}

func buildPolicies(tx *gorm.DB, c *Content) error {
	var published []struct {
		Slug, Title  string
		Major, Minor int
		SHA256       string `gorm:"column:sha256"`
		PublishedAt  *time.Time
	}
	err := tx.Model(&policy.Version{}).Select("policies.slug, policies.title, policy_versions.major, policy_versions.minor, policy_versions.sha256, policy_versions.published_at").
		Joins("JOIN policies ON policies.id = policy_versions.policy_id").Where("policy_versions.status = ?", policy.StatusPublished).
		Order("policies.title, policies.id").Scan(&published).Error
	if err != nil {
		return err
	}
	c.Policies = []Policy{}
	for _, p := range published {
		out := Policy{Slug: p.Slug, Title: p.Title, Version: fmt.Sprintf("%d.%d", p.Major, p.Minor), SHA256: p.SHA256}
		if p.PublishedAt != nil {
			out.PublishedAt = stamp(*p.PublishedAt)
		}
		c.Policies = append(c.Policies, out)
	}
	return nil
}

func buildSubprocessors(tx *gorm.DB, c *Content) error {
	var subs []privacy.Subprocessor
	if err := tx.Where("status = ?", privacy.Active).Order("LOWER(name), id").Find(&subs).Error; err != nil {
		return err
	}
	c.Subprocessors = []Subprocessor{}
	for _, p := range subs {
		c.Subprocessors = append(c.Subprocessors, Subprocessor{Name: p.Name, Purpose: p.Purpose, DataCategories: p.Categories(),
			Countries: p.CountryCodes(), TransferMechanism: p.TransferMechanism, Website: p.Website, ActiveSince: optionalDay(p.ActiveSince)})
	}
	return nil
}

func buildChanges(tx *gorm.DB, c *Content) error {
	var notices []privacy.Notice
	if err := tx.Where("state = ?", privacy.Scheduled).Order("effective_on, id").Find(&notices).Error; err != nil {
		return err
	}
	names := map[int64]string{}
	var ids []int64
	for _, n := range notices {
		ids = append(ids, n.SubprocessorID)
		if n.ReplacesID != nil {
			ids = append(ids, *n.ReplacesID)
		}
	}
	if len(ids) > 0 {
		var subs []privacy.Subprocessor
		if err := tx.Select("id", "name").Where("id IN ?", ids).Find(&subs).Error; err != nil {
			return err
		}
		for _, p := range subs {
			names[p.ID] = p.Name
		}
	}
	c.UpcomingChanges = []Change{}
	for _, n := range notices {
		ch := Change{Change: n.Change, Subprocessor: names[n.SubprocessorID], Summary: n.Summary,
			AnnouncedAt: stamp(n.AnnouncedAt), EffectiveOn: day(n.EffectiveOn)}
		if n.ReplacesID != nil {
			ch.Replaces = names[*n.ReplacesID]
		}
		c.UpcomingChanges = append(c.UpcomingChanges, ch)
	}
	return nil
}

func buildStandardDPA(tx *gorm.DB, c *Content) error {
	var v privacy.StandardDPAVersion
	err := tx.Select("number", "sha256", "published_at").Where("status = ?", privacy.DPAPublished).Order("number DESC").Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	c.StandardDPA = &StandardDPA{Version: v.Number, SHA256: v.SHA256}
	if v.PublishedAt != nil {
		c.StandardDPA.PublishedAt = stamp(*v.PublishedAt)
	}
	return nil
}

func buildDocuments(tx *gorm.DB, c *Content) error {
	var docs []document.Document
	if err := tx.Where("access <> ? AND current_version_id IS NOT NULL", document.Internal).Order("title, id").Find(&docs).Error; err != nil {
		return err
	}
	c.Documents = []Document{}
	if len(docs) == 0 {
		return nil
	}
	ids := make([]int64, len(docs))
	for i, d := range docs {
		ids[i] = *d.CurrentVersionID
	}
	var vs []document.Version
	if err := tx.Where("id IN ?", ids).Find(&vs).Error; err != nil {
		return err
	}
	byID := map[int64]document.Version{}
	for _, v := range vs {
		byID[v.ID] = v
	}
	for _, d := range docs {
		v := byID[*d.CurrentVersionID]
		c.Documents = append(c.Documents, Document{Slug: d.Slug, Title: d.Title, Kind: string(d.Kind), Access: string(d.Access),
			Version: v.Version, SHA256: v.SHA256, IssuedOn: day(v.IssuedOn), ValidUntil: optionalDay(v.ValidUntil)})
	}
	return nil
}

func buildAdvisories(tx *gorm.DB, c *Content) error {
	var advs []advisory.Advisory
	if err := tx.Where("published_at IS NOT NULL").Order("advisory_date DESC, id DESC").Find(&advs).Error; err != nil {
		return err
	}
	c.Advisories = []Advisory{}
	for _, a := range advs {
		c.Advisories = append(c.Advisories, Advisory{ID: a.PublicID, Title: a.Title, Date: day(a.AdvisoryDate), CVE: a.CVEID(),
			Severity: a.Severity, Status: a.Status, Description: a.Description, AffectedProducts: nonNil(a.Products()),
			AffectedRegions: a.AffectedRegions, Resolution: a.Resolution, PublishedAt: stamp(*a.PublishedAt)})
	}
	return nil
}

func buildAnswers(tx *gorm.DB, c *Content) error {
	var answers []questionnaire.Answer
	if err := tx.Where("access = ? AND state = ? AND needs_review = ?", questionnaire.Public, questionnaire.Approved, false).
		Order("question, id").Find(&answers).Error; err != nil {
		return err
	}
	c.Answers = []Answer{}
	for _, a := range answers {
		c.Answers = append(c.Answers, Answer{Question: a.Question, Answer: a.Answer})
	}
	return nil
}
