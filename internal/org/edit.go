package org

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// ProfileInput is the profile as typed in the settings form or sent as
// JSON. Lists replace what is stored: an entity or certification with an
// ID is updated, one without is added, and a stored one left out is
// deleted.
type ProfileInput struct {
	Name               string             `json:"name"`
	Website            string             `json:"website"`
	StatusPageURL      string             `json:"status_page_url"`
	PrivacyEmail       string             `json:"privacy_email"`
	SecurityEmail      string             `json:"security_email"`
	DPOName            string             `json:"dpo_name"`
	DPOTitle           string             `json:"dpo_title"`
	DPOEmail           string             `json:"dpo_email"`
	DPOPublic          bool               `json:"dpo_public"`
	EURepresentative   string             `json:"eu_representative"`
	UKRepresentative   string             `json:"uk_representative"`
	HostingRegions     []string           `json:"hosting_regions"`
	TransferMechanisms []string           `json:"transfer_mechanisms"`
	LegalEntities      []EntityInput      `json:"legal_entities"`
	Certifications     []CertificationRow `json:"certifications"`
}

// EntityInput is one legal entity.
type EntityInput struct {
	ID                    int64  `json:"id"`
	Name                  string `json:"name"`
	Country               string `json:"country"`
	RegistrationNumber    string `json:"registration_number"`
	AuthorityRegistration string `json:"authority_registration"`
}

// CertificationRow is one certification; dates as YYYY-MM-DD.
type CertificationRow struct {
	ID          int64  `json:"id"`
	Framework   string `json:"framework"`
	Type        string `json:"type"`
	Auditor     string `json:"auditor"`
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	ReportDate  string `json:"report_date"`
	Public      bool   `json:"public"`
}

// InputOf returns the input describing o, for the settings form.
func InputOf(o *Organization) ProfileInput {
	in := ProfileInput{Name: o.Name, Website: o.Website, StatusPageURL: o.StatusPageURL, PrivacyEmail: o.PrivacyEmail, SecurityEmail: o.SecurityEmail,
		DPOName: o.DPOName, DPOTitle: o.DPOTitle, DPOEmail: o.DPOEmail, DPOPublic: o.DPOPublic,
		EURepresentative: o.EURepresentative, UKRepresentative: o.UKRepresentative,
		HostingRegions: o.Regions(), TransferMechanisms: o.Mechanisms()}
	for _, e := range o.LegalEntities {
		in.LegalEntities = append(in.LegalEntities, EntityInput{ID: e.ID, Name: e.Name, Country: e.Country,
			RegistrationNumber: e.RegistrationNumber, AuthorityRegistration: e.AuthorityRegistration})
	}
	for _, c := range o.Certifications {
		in.Certifications = append(in.Certifications, CertificationRow{ID: c.ID, Framework: c.Framework, Type: c.Type,
			Auditor: c.Auditor, PeriodStart: day(c.PeriodStart), PeriodEnd: day(c.PeriodEnd), ReportDate: day(c.ReportDate), Public: c.Public})
	}
	return in
}

func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

func checkEmail(errs map[string]string, field, v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return ""
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || len(v) > 254 {
		errs[field] = "must be an email address"
	}
	return v
}

func checkText(errs map[string]string, field, v string, required bool, max int) string {
	v = strings.TrimSpace(v)
	if v == "" && required {
		errs[field] = "is required"
	} else if len(v) > max {
		errs[field] = fmt.Sprintf("must be at most %d characters", max)
	}
	return v
}

func checkDate(errs map[string]string, field, v string) *time.Time {
	if v = strings.TrimSpace(v); v == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		errs[field] = "must be a date as YYYY-MM-DD"
		return nil
	}
	return &t
}

func lines(errs map[string]string, field string, items []string) string {
	var out []string
	for _, it := range items {
		for _, l := range strings.Split(it, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				if len(l) > 200 {
					errs[field] = "each entry must be at most 200 characters"
				}
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// apply checks in and writes it onto o (entities and certifications as
// new slices). Field names of rows are like legal_entities[1].country.
func (in ProfileInput) apply(o *Organization) error {
	errs := map[string]string{}
	o.Name = checkText(errs, "name", in.Name, true, 200)
	o.Website = strings.TrimSpace(in.Website)
	if o.Website != "" {
		if u, err := url.Parse(o.Website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs["website"] = "must be a web address starting with https://"
		}
	}
	o.StatusPageURL = strings.TrimSpace(in.StatusPageURL)
	if o.StatusPageURL != "" {
		if u, err := url.Parse(o.StatusPageURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs["status_page_url"] = "must be a web address starting with https://"
		}
	}
	o.PrivacyEmail = checkEmail(errs, "privacy_email", in.PrivacyEmail)
	o.SecurityEmail = checkEmail(errs, "security_email", in.SecurityEmail)
	o.DPOName = checkText(errs, "dpo_name", in.DPOName, false, 200)
	o.DPOTitle = checkText(errs, "dpo_title", in.DPOTitle, false, 200)
	o.DPOEmail = checkEmail(errs, "dpo_email", in.DPOEmail)
	o.DPOPublic = in.DPOPublic
	if o.DPOPublic && o.DPOName == "" {
		errs["dpo_name"] = "is required when the DPO is shown publicly"
	}
	o.EURepresentative = checkText(errs, "eu_representative", in.EURepresentative, false, 500)
	o.UKRepresentative = checkText(errs, "uk_representative", in.UKRepresentative, false, 500)
	o.HostingRegions = lines(errs, "hosting_regions", in.HostingRegions)
	o.TransferMechanisms = lines(errs, "transfer_mechanisms", in.TransferMechanisms)
	o.LegalEntities = nil
	for i, e := range in.LegalEntities {
		f := fmt.Sprintf("legal_entities[%d].", i)
		le := LegalEntity{ID: e.ID, OrganizationID: o.ID, Name: checkText(errs, f+"name", e.Name, true, 200),
			Country:               strings.ToUpper(strings.TrimSpace(e.Country)),
			RegistrationNumber:    checkText(errs, f+"registration_number", e.RegistrationNumber, false, 100),
			AuthorityRegistration: checkText(errs, f+"authority_registration", e.AuthorityRegistration, false, 300)}
		if !countryCode.MatchString(le.Country) {
			errs[f+"country"] = "must be a two-letter country code such as GB"
		}
		o.LegalEntities = append(o.LegalEntities, le)
	}
	o.Certifications = nil
	for i, c := range in.Certifications {
		f := fmt.Sprintf("certifications[%d].", i)
		cert := Certification{ID: c.ID, OrganizationID: o.ID, Framework: checkText(errs, f+"framework", c.Framework, true, 100),
			Type: checkText(errs, f+"type", c.Type, false, 100), Auditor: checkText(errs, f+"auditor", c.Auditor, false, 200),
			PeriodStart: checkDate(errs, f+"period_start", c.PeriodStart), PeriodEnd: checkDate(errs, f+"period_end", c.PeriodEnd),
			ReportDate: checkDate(errs, f+"report_date", c.ReportDate), Public: c.Public}
		if cert.PeriodStart != nil && cert.PeriodEnd != nil && cert.PeriodEnd.Before(*cert.PeriodStart) {
			errs[f+"period_end"] = "cannot be before the period start"
		}
		o.Certifications = append(o.Certifications, cert)
	}
	if len(errs) > 0 {
		return apperr.Fields(errs)
	}
	return nil
}

// ErrNoProfile is returned when no profile has been loaded yet.
var ErrNoProfile = apperr.New(apperr.NotFound, "no organization profile yet: run charter seed")

// Update replaces the profile with in, keeping report files of the
// certifications that stay.
func (s *Service) Update(ctx context.Context, by audit.Actor, in ProfileInput) (*Organization, error) {
	var o Organization
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := preloadRows(store.ForUpdate(tx)).Order("id").Take(&o).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoProfile
		} else if err != nil {
			return err
		}
		before := o
		if err := in.apply(&o); err != nil {
			return err
		}
		if err := keepOnly(tx, &LegalEntity{}, o.ID, entityIDs(o.LegalEntities), entityIDs(before.LegalEntities), "legal_entities"); err != nil {
			return err
		}
		if err := keepOnly(tx, &Certification{}, o.ID, certIDs(o.Certifications), certIDs(before.Certifications), "certifications"); err != nil {
			return err
		}
		for i := range o.Certifications {
			for _, old := range before.Certifications {
				if old.ID == o.Certifications[i].ID {
					o.Certifications[i].ReportSHA256, o.Certifications[i].ReportName = old.ReportSHA256, old.ReportName
				}
			}
		}
		o.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		entities, certs := o.LegalEntities, o.Certifications
		o.LegalEntities, o.Certifications = nil, nil
		if err := tx.Save(&o).Error; err != nil {
			return err
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
		o.LegalEntities, o.Certifications = entities, certs
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

// CertificationReport is the kind of a certification report file.
var CertificationReport = files.Kind{Name: "certification report", MaxBytes: 20 << 20, Types: map[string][]string{"application/pdf": {".pdf"}}}

// AttachReport stores a certification's report (PDF).
func (s *Service) AttachReport(ctx context.Context, by audit.Actor, fs *files.Store, certID int64, name string, r io.Reader) (*Certification, error) {
	var c Certification
	if err := s.db.WithContext(ctx).Take(&c, certID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such certification")
	} else if err != nil {
		return nil, err
	}
	f, err := fs.Put(CertificationReport, name, r)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now().UTC()
		if err := tx.Model(&c).Updates(map[string]any{"report_sha256": f.SHA256, "report_name": f.Name}).Error; err != nil {
			return err
		}
		c.ReportSHA256, c.ReportName = f.SHA256, f.Name
		return audit.Append(tx, by, audit.Entry{At: now, Action: "certification.report_attached", ObjectType: "certification",
			ObjectID: fmt.Sprint(c.ID), After: map[string]any{"sha256": f.SHA256, "name": f.Name, "size": f.Size}})
	})
	return &c, err
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
