package org

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// ProfileInput is the profile as typed in the settings form or sent as
// JSON. Lists replace what is stored: an entity or certification with an
// ID is updated, one without is added, and a stored one left out is
// deleted.
type ProfileInput struct {
	Name             string `validate:"required,max=200"`
	Website          string `validate:"omitempty,http_url"`
	StatusPageURL    string `validate:"omitempty,http_url"`
	PrivacyEmail     string `validate:"omitempty,address"`
	SecurityEmail    string `validate:"omitempty,address"`
	DPOName          string `validate:"max=200"`
	DPOTitle         string `validate:"max=200"`
	DPOEmail         string `validate:"omitempty,address"`
	DPOPublic        bool
	EURepresentative string `validate:"max=500"`
	UKRepresentative string `validate:"max=500"`
	// HostingRegions and TransferMechanisms hold one entry per line, each
	// at most 200 characters.
	HostingRegions     []string
	TransferMechanisms []string
	// The statements of the public page; Approach and BestPractices are
	// Markdown.
	CCPAStatement   string `validate:"max=2000"`
	CCPAAddendumURL string `validate:"omitempty,max=500,http_url"`
	DataOwnership   string `validate:"max=2000"`
	NeverSold       string `validate:"max=2000"`
	SecurityReport  string `validate:"max=500"`
	BountyReward    string `validate:"max=500"`
	Approach        string `validate:"max=20000"`
	BestPractices   string `validate:"max=20000"`
	GDPRRoles       []GDPRRoleInput
	LegalEntities   []EntityInput
	Certifications  []CertificationRow
}

// GDPRRoleInput is the role under the GDPR for one product or deployment
// mode.
type GDPRRoleInput struct {
	ID        int64
	Mode      string `validate:"required,max=100"`
	Role      string `validate:"required,max=200"`
	Statement string `validate:"max=2000"`
}

// EntityInput is one legal entity.
type EntityInput struct {
	ID                    int64
	Name                  string `validate:"required,max=200"`
	Role                  string `validate:"max=100"`
	Country               string `validate:"len=2,alpha,uppercase"`
	RegistrationNumber    string `validate:"max=100"`
	AuthorityRegistration string `validate:"max=300"`
}

// CertificationRow is one certification; dates as YYYY-MM-DD.
type CertificationRow struct {
	ID          int64
	Framework   string `validate:"required,max=100"`
	Type        string `validate:"max=100"`
	Auditor     string `validate:"max=200"`
	PeriodStart string `validate:"omitempty,date"`
	PeriodEnd   string `validate:"omitempty,date"`
	ReportDate  string `validate:"omitempty,date"`
	// Document is the slug of the trust document holding the report.
	Document string `validate:"omitempty,max=100"`
}

// InputOf returns the input describing o, for the settings form.
func InputOf(o *Organization) ProfileInput {
	in := ProfileInput{Name: o.Name, Website: o.Website, StatusPageURL: o.StatusPageURL, PrivacyEmail: o.PrivacyEmail, SecurityEmail: o.SecurityEmail,
		DPOName: o.DPOName, DPOTitle: o.DPOTitle, DPOEmail: o.DPOEmail, DPOPublic: o.DPOPublic,
		EURepresentative: o.EURepresentative, UKRepresentative: o.UKRepresentative,
		HostingRegions: o.Regions(), TransferMechanisms: o.Mechanisms(),
		CCPAStatement: o.CCPAStatement, CCPAAddendumURL: o.CCPAAddendumURL, DataOwnership: o.DataOwnership, NeverSold: o.NeverSold,
		SecurityReport: o.SecurityReport, BountyReward: o.BountyReward, Approach: o.Approach, BestPractices: o.BestPractices}
	for _, r := range o.GDPRRoles {
		in.GDPRRoles = append(in.GDPRRoles, GDPRRoleInput{ID: r.ID, Mode: r.Mode, Role: r.Role, Statement: r.Statement})
	}
	for _, e := range o.LegalEntities {
		in.LegalEntities = append(in.LegalEntities, EntityInput{ID: e.ID, Name: e.Name, Role: e.Role, Country: e.Country,
			RegistrationNumber: e.RegistrationNumber, AuthorityRegistration: e.AuthorityRegistration})
	}
	for _, c := range o.Certifications {
		in.Certifications = append(in.Certifications, CertificationRow{ID: c.ID, Framework: c.Framework, Type: c.Type,
			Auditor: c.Auditor, PeriodStart: day(c.PeriodStart), PeriodEnd: day(c.PeriodEnd), ReportDate: day(c.ReportDate), Document: c.DocumentSlug})
	}
	return in
}

func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// date reads an optional date whose `date` rule has held.
func date(v string) *time.Time {
	if v == "" {
		return nil
	}
	t := check.Date(v)
	return &t
}

func lines(errs check.Errors, field string, items []string) string {
	var out []string
	for _, it := range items {
		for _, l := range strings.Split(it, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				if len(l) > 200 {
					errs.Add(field, "each entry must be at most 200 characters")
				}
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// rows checks one row of a list and names its fields like
// legal_entities[1].country.
func rows(v *check.Validator, errs check.Errors, prefix string, row any) {
	for field, problem := range v.Struct(row) {
		errs.Add(prefix+field, problem)
	}
}

// apply checks in and writes it onto o (entities and certifications as
// new slices). Field names of rows are like legal_entities[1].country.
func (in ProfileInput) apply(v *check.Validator, o *Organization) error {
	in.Name, in.Website, in.StatusPageURL = strings.TrimSpace(in.Name), strings.TrimSpace(in.Website), strings.TrimSpace(in.StatusPageURL)
	in.PrivacyEmail, in.SecurityEmail = notify.NormalizeAddress(in.PrivacyEmail), notify.NormalizeAddress(in.SecurityEmail)
	in.DPOName, in.DPOTitle, in.DPOEmail = strings.TrimSpace(in.DPOName), strings.TrimSpace(in.DPOTitle), notify.NormalizeAddress(in.DPOEmail)
	in.EURepresentative, in.UKRepresentative = strings.TrimSpace(in.EURepresentative), strings.TrimSpace(in.UKRepresentative)
	in.CCPAStatement, in.CCPAAddendumURL = strings.TrimSpace(in.CCPAStatement), strings.TrimSpace(in.CCPAAddendumURL)
	in.DataOwnership, in.NeverSold = strings.TrimSpace(in.DataOwnership), strings.TrimSpace(in.NeverSold)
	in.SecurityReport, in.BountyReward = strings.TrimSpace(in.SecurityReport), strings.TrimSpace(in.BountyReward)
	in.Approach, in.BestPractices = strings.TrimSpace(in.Approach), strings.TrimSpace(in.BestPractices)
	errs := v.Struct(in)
	if in.DPOPublic && in.DPOName == "" {
		errs.Add("dpo_name", "is required when the DPO is shown publicly")
	}
	o.Name, o.Website, o.StatusPageURL = in.Name, in.Website, in.StatusPageURL
	o.PrivacyEmail, o.SecurityEmail = in.PrivacyEmail, in.SecurityEmail
	o.DPOName, o.DPOTitle, o.DPOEmail, o.DPOPublic = in.DPOName, in.DPOTitle, in.DPOEmail, in.DPOPublic
	o.EURepresentative, o.UKRepresentative = in.EURepresentative, in.UKRepresentative
	o.HostingRegions = lines(errs, "hosting_regions", in.HostingRegions)
	o.TransferMechanisms = lines(errs, "transfer_mechanisms", in.TransferMechanisms)
	o.CCPAStatement, o.CCPAAddendumURL, o.DataOwnership, o.NeverSold = in.CCPAStatement, in.CCPAAddendumURL, in.DataOwnership, in.NeverSold
	o.SecurityReport, o.BountyReward, o.Approach, o.BestPractices = in.SecurityReport, in.BountyReward, in.Approach, in.BestPractices
	o.GDPRRoles, o.LegalEntities, o.Certifications = nil, nil, nil
	for i, r := range in.GDPRRoles {
		r = GDPRRoleInput{ID: r.ID, Mode: strings.TrimSpace(r.Mode), Role: strings.TrimSpace(r.Role), Statement: strings.TrimSpace(r.Statement)}
		rows(v, errs, fmt.Sprintf("gdpr_roles[%d].", i), r)
		o.GDPRRoles = append(o.GDPRRoles, GDPRRole{ID: r.ID, OrganizationID: o.ID, Mode: r.Mode, Role: r.Role, Statement: r.Statement})
	}
	for i, e := range in.LegalEntities {
		e = EntityInput{ID: e.ID, Name: strings.TrimSpace(e.Name), Role: strings.TrimSpace(e.Role), Country: strings.ToUpper(strings.TrimSpace(e.Country)),
			RegistrationNumber: strings.TrimSpace(e.RegistrationNumber), AuthorityRegistration: strings.TrimSpace(e.AuthorityRegistration)}
		f := fmt.Sprintf("legal_entities[%d].", i)
		rows(v, errs, f, e)
		if errs.Has(f + "country") {
			errs[f+"country"] = "must be a two-letter country code such as GB"
		}
		o.LegalEntities = append(o.LegalEntities, LegalEntity{ID: e.ID, OrganizationID: o.ID, Name: e.Name, Role: e.Role, Country: e.Country,
			RegistrationNumber: e.RegistrationNumber, AuthorityRegistration: e.AuthorityRegistration})
	}
	for i, c := range in.Certifications {
		c = CertificationRow{ID: c.ID, Framework: strings.TrimSpace(c.Framework), Type: strings.TrimSpace(c.Type), Auditor: strings.TrimSpace(c.Auditor),
			PeriodStart: strings.TrimSpace(c.PeriodStart), PeriodEnd: strings.TrimSpace(c.PeriodEnd), ReportDate: strings.TrimSpace(c.ReportDate),
			Document: strings.TrimSpace(c.Document)}
		f := fmt.Sprintf("certifications[%d].", i)
		rows(v, errs, f, c)
		cert := Certification{ID: c.ID, OrganizationID: o.ID, Framework: c.Framework, Type: c.Type, Auditor: c.Auditor, DocumentSlug: c.Document}
		if !errs.Has(f + "period_start") {
			cert.PeriodStart = date(c.PeriodStart)
		}
		if !errs.Has(f + "period_end") {
			cert.PeriodEnd = date(c.PeriodEnd)
		}
		if !errs.Has(f + "report_date") {
			cert.ReportDate = date(c.ReportDate)
		}
		if cert.PeriodStart != nil && cert.PeriodEnd != nil && cert.PeriodEnd.Before(*cert.PeriodStart) {
			errs.Add(f+"period_end", "cannot be before the period start")
		}
		o.Certifications = append(o.Certifications, cert)
	}
	return errs.Err()
}

// ErrNoProfile is returned when no profile has been loaded yet.
var ErrNoProfile = apperr.New(apperr.NotFound, "no organization profile yet: run charter seed")

// Update replaces the profile with in. Errors: ErrNoProfile; Invalid
// naming each field refused (a certification's document must be in the
// trust documents register).
func (s *Service) Update(ctx context.Context, by audit.Actor, in ProfileInput) (*Organization, error) {
	var o Organization
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := preloadRows(store.ForUpdate(tx)).Order("id").Take(&o).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoProfile
		} else if err != nil {
			return err
		}
		before := o
		if err := in.apply(s.check, &o); err != nil {
			return err
		}
		if err := s.documentsExist(tx, o.Certifications); err != nil {
			return err
		}
		if err := keepOnly(tx, &GDPRRole{}, o.ID, roleIDs(o.GDPRRoles), roleIDs(before.GDPRRoles), "gdpr_roles"); err != nil {
			return err
		}
		if err := keepOnly(tx, &LegalEntity{}, o.ID, entityIDs(o.LegalEntities), entityIDs(before.LegalEntities), "legal_entities"); err != nil {
			return err
		}
		if err := keepOnly(tx, &Certification{}, o.ID, certIDs(o.Certifications), certIDs(before.Certifications), "certifications"); err != nil {
			return err
		}
		o.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		roles, entities, certs := o.GDPRRoles, o.LegalEntities, o.Certifications
		o.GDPRRoles, o.LegalEntities, o.Certifications = nil, nil, nil
		if err := tx.Save(&o).Error; err != nil {
			return err
		}
		for i := range roles {
			if err := tx.Save(&roles[i]).Error; err != nil {
				return duplicate(err, "gdpr_roles", "two GDPR roles name the same product or mode")
			}
		}
		for i := range entities {
			if err := tx.Save(&entities[i]).Error; err != nil {
				return duplicate(err, "legal_entities", "two legal entities have the same name")
			}
		}
		for i := range certs {
			if err := tx.Save(&certs[i]).Error; err != nil {
				return duplicate(err, "certifications", "two certifications have the same framework and type")
			}
		}
		o.GDPRRoles, o.LegalEntities, o.Certifications = roles, entities, certs
		return audit.Append(tx, by, audit.Entry{At: o.UpdatedAt, Action: "organization.updated", ObjectType: "organization",
			ObjectID: fmt.Sprint(o.ID), Before: before, After: o})
	})
	return &o, err
}

func duplicate(err error, field, msg string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return apperr.Field(field, msg)
	}
	return err
}

func roleIDs(rs []GDPRRole) []int64 {
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func entityIDs(es []LegalEntity) []int64 {
	var ids []int64
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func certIDs(cs []Certification) []int64 {
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

// keepOnly deletes the organization's rows (of model's table) whose IDs
// are not in keep, and refuses an ID that is not among the stored ones.
func keepOnly(tx *gorm.DB, model any, orgID int64, keep, stored []int64, field string) error {
	var ids []int64
	for _, id := range keep {
		if id == 0 {
			continue
		}
		if !slices.Contains(stored, id) {
			return apperr.Field(field, fmt.Sprintf("row %d does not belong to this profile", id))
		}
		ids = append(ids, id)
	}
	q := tx.Where("organization_id = ?", orgID)
	if len(ids) > 0 {
		q = q.Where("id NOT IN ?", ids)
	}
	return q.Delete(model).Error
}

// Certification returns one certification.
func (s *Service) Certification(ctx context.Context, id int64) (*Certification, error) {
	var c Certification
	err := s.db.WithContext(ctx).Take(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such certification")
	}
	return &c, err
}

// documentsExist checks that each certification's report document is in
// the trust documents register.
func (s *Service) documentsExist(tx *gorm.DB, certs []Certification) error {
	errs := check.Errors{}
	for i, c := range certs {
		if c.DocumentSlug == "" {
			continue
		}
		var n int64
		if err := tx.Model(&document.Document{}).Where("slug = ?", c.DocumentSlug).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			errs.Add(fmt.Sprintf("certifications[%d].document", i), "is not a document of the trust documents register")
		}
	}
	return errs.Err()
}
