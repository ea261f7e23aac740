// Package org keeps the organization profile: the company, its legal
// entities, its DPO and privacy contacts, hosting regions and certifications.
package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"gopkg.in/yaml.v3"
	"gorm.io/gorm"
)

// Organization is the company Charter keeps records for.
type Organization struct {
	ID             int64
	Name           string
	Website        string
	PrivacyEmail   string
	SecurityEmail  string
	DPOName        string `gorm:"column:dpo_name"`
	DPOTitle       string `gorm:"column:dpo_title"`
	DPOEmail       string `gorm:"column:dpo_email"`
	DPOPublic      bool   `gorm:"column:dpo_public"`
	HostingRegions string // one region per line
	// TransferMechanisms says how data leaves the EEA/UK, one per line.
	TransferMechanisms string
	// StatusPageURL is where non-security incidents are reported.
	StatusPageURL    string
	EURepresentative string `gorm:"column:eu_representative"`
	UKRepresentative string `gorm:"column:uk_representative"`
	// CCPAStatement says the company's role under the CCPA (a service
	// provider); CCPAAddendumURL links the addendum that contracts it.
	CCPAStatement   string `gorm:"column:ccpa_statement"`
	CCPAAddendumURL string `gorm:"column:ccpa_addendum_url"`
	// DataOwnership and NeverSold are the page's statements that customers
	// own their data and that it is never sold.
	DataOwnership string
	NeverSold     string
	// SecurityReport says whether and when the security report is
	// available ("publicly available, last updated April 2023").
	SecurityReport string
	// BountyReward is what a valid vulnerability report earns.
	BountyReward string
	// Approach and BestPractices are Markdown sections of the page.
	Approach      string
	BestPractices string
	// LogoSHA256 names the uploaded logo in the file store; LogoType is
	// its content type (image/png or image/jpeg).
	LogoSHA256     string `gorm:"column:logo_sha256"`
	LogoType       string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	GDPRRoles      []GDPRRole      `gorm:"foreignKey:OrganizationID"`
	LegalEntities  []LegalEntity   `gorm:"foreignKey:OrganizationID"`
	Certifications []Certification `gorm:"foreignKey:OrganizationID"`
}

// GDPRRole is the company's role under the GDPR for one product or
// deployment mode: processor for the cloud product, none for self-hosting.
type GDPRRole struct {
	ID             int64  `yaml:"-"`
	OrganizationID int64  `yaml:"-"`
	Mode           string `yaml:"mode"`
	Role           string `yaml:"role"`
	Statement      string `yaml:"statement"`
}

// TableName is gdpr_roles.
func (GDPRRole) TableName() string { return "gdpr_roles" }

// AuditPeriodAt returns the audit period under way at now: the period of
// the certification whose first and last days hold now's day (the one
// that started last, if several do). ok is false when none does.
func (o *Organization) AuditPeriodAt(now time.Time) (first, last time.Time, ok bool) {
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, c := range o.Certifications {
		if c.PeriodStart == nil || c.PeriodEnd == nil || day.Before(c.PeriodStart.UTC()) || day.After(c.PeriodEnd.UTC()) {
			continue
		}
		if !ok || c.PeriodStart.After(first) {
			first, last, ok = c.PeriodStart.UTC(), c.PeriodEnd.UTC(), true
		}
	}
	return first, last, ok
}

// Regions returns the hosting regions offered.
func (o *Organization) Regions() []string {
	if o.HostingRegions == "" {
		return nil
	}
	return strings.Split(o.HostingRegions, "\n")
}

// Mechanisms returns the transfer mechanisms relied on.
func (o *Organization) Mechanisms() []string {
	if o.TransferMechanisms == "" {
		return nil
	}
	return strings.Split(o.TransferMechanisms, "\n")
}

// LegalEntity is a company of the group.
type LegalEntity struct {
	ID             int64  `yaml:"-"`
	OrganizationID int64  `yaml:"-"`
	Name           string `yaml:"name"`
	// Role says what the entity is to the group ("UK entity").
	Role                  string `yaml:"role"`
	Country               string `yaml:"country"`
	RegistrationNumber    string `yaml:"registration_number"`
	AuthorityRegistration string `yaml:"authority_registration"`
}

// Certification is an attestation such as a SOC 2 report.
type Certification struct {
	ID             int64      `yaml:"-"`
	OrganizationID int64      `yaml:"-"`
	Framework      string     `yaml:"framework"`
	Type           string     `yaml:"type"`
	Auditor        string     `yaml:"auditor"`
	PeriodStart    *time.Time `yaml:"period_start"`
	PeriodEnd      *time.Time `yaml:"period_end"`
	ReportDate     *time.Time `yaml:"report_date"`
	// DocumentSlug names the trust document holding the report; its
	// access level (public or on request) is the one place that says how
	// the report is had. The report files and the public flag that
	// certifications once carried themselves (migration 00008) are no
	// longer read.
	DocumentSlug string `yaml:"document"`
}

// profileFile is the layout of seed/organization.yaml.
type profileFile struct {
	Name          string `yaml:"name"`
	Website       string `yaml:"website"`
	SecurityEmail string `yaml:"security_email"`
	PrivacyEmail  string `yaml:"privacy_email"`
	DPO           struct {
		Name   string `yaml:"name"`
		Title  string `yaml:"title"`
		Email  string `yaml:"email"`
		Public bool   `yaml:"public"`
	} `yaml:"dpo"`
	HostingRegions     []string        `yaml:"hosting_regions"`
	TransferMechanisms []string        `yaml:"transfer_mechanisms"`
	StatusPage         string          `yaml:"status_page"`
	EURepresentative   string          `yaml:"eu_representative"`
	UKRepresentative   string          `yaml:"uk_representative"`
	LegalEntities      []LegalEntity   `yaml:"legal_entities"`
	Certifications     []Certification `yaml:"certifications"`
	GDPRRoles          []GDPRRole      `yaml:"gdpr_roles"`
	CCPA               struct {
		Statement   string `yaml:"statement"`
		AddendumURL string `yaml:"addendum_url"`
	} `yaml:"ccpa"`
	DataOwnership  string `yaml:"data_ownership"`
	NeverSold      string `yaml:"never_sold"`
	SecurityReport string `yaml:"security_report"`
	BountyReward   string `yaml:"bounty_reward"`
	Approach       string `yaml:"approach"`
	BestPractices  string `yaml:"best_practices"`
}

// ParseProfile reads an organization profile file.
func ParseProfile(data []byte) (*Organization, error) {
	var f profileFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("organization profile: %w", err)
	}
	if strings.TrimSpace(f.Name) == "" {
		return nil, errors.New("organization profile: name is required")
	}
	return &Organization{Name: f.Name, Website: f.Website, SecurityEmail: f.SecurityEmail, PrivacyEmail: f.PrivacyEmail,
		DPOName: f.DPO.Name, DPOTitle: f.DPO.Title, DPOEmail: f.DPO.Email, DPOPublic: f.DPO.Public,
		HostingRegions: strings.Join(f.HostingRegions, "\n"), TransferMechanisms: strings.Join(f.TransferMechanisms, "\n"),
		StatusPageURL: f.StatusPage, EURepresentative: f.EURepresentative, UKRepresentative: f.UKRepresentative, LegalEntities: f.LegalEntities,
		Certifications: f.Certifications, GDPRRoles: f.GDPRRoles, CCPAStatement: strings.TrimSpace(f.CCPA.Statement), CCPAAddendumURL: f.CCPA.AddendumURL,
		DataOwnership: strings.TrimSpace(f.DataOwnership), NeverSold: strings.TrimSpace(f.NeverSold), SecurityReport: strings.TrimSpace(f.SecurityReport),
		BountyReward: strings.TrimSpace(f.BountyReward), Approach: strings.TrimSpace(f.Approach), BestPractices: strings.TrimSpace(f.BestPractices)}, nil
}

// Service reads and seeds the profile.
type Service struct {
	db    *gorm.DB
	now   func() time.Time
	check *check.Validator
}

// NewService returns a Service on db with the given clock.
func NewService(db *gorm.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now, check: check.New()}
}

// Get returns the profile. Errors: ErrNoProfile when none has been loaded.
func (s *Service) Get(ctx context.Context) (*Organization, error) {
	var o Organization
	err := preloadRows(s.db.WithContext(ctx)).Order("id").Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoProfile
	}
	return &o, err
}

// Current returns the profile, or an empty one (ID 0) when none has been
// loaded yet, for pages and emails that show what there is.
func (s *Service) Current(ctx context.Context) (*Organization, error) {
	o, err := s.Get(ctx)
	if errors.Is(err, ErrNoProfile) {
		return &Organization{}, nil
	}
	return o, err
}

// preloadRows loads the entities and certifications in the order they
// were added, so that forms and pages list them stably.
func preloadRows(db *gorm.DB) *gorm.DB {
	byID := func(db *gorm.DB) *gorm.DB { return db.Order("id") }
	return db.Preload("GDPRRoles", byID).Preload("LegalEntities", byID).Preload("Certifications", byID)
}

// Seed stores the profile when there is none yet; an existing profile,
// possibly edited since, is left alone. It reports whether it wrote.
func (s *Service) Seed(ctx context.Context, by audit.Actor, o *Organization) (bool, error) {
	created := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Organization{}).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		o.CreatedAt, o.UpdatedAt = now, now
		if err := tx.Create(o).Error; err != nil {
			return err
		}
		created = true
		return audit.Append(tx, by, audit.Entry{At: now, Action: "organization.seeded", ObjectType: "organization",
			ObjectID: fmt.Sprint(o.ID), After: o})
	})
	return created, err
}
