package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Sub-processor statuses.
const (
	Proposed = "proposed"
	Active   = "active"
	Removed  = "removed"
)

// Subprocessor is a vendor that processes customer data for us.
type Subprocessor struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	Purpose           string     `json:"purpose"`
	DataCategories    string     `json:"-"`
	Countries         string     `json:"-"`
	TransferMechanism string     `json:"transfer_mechanism"`
	Website           string     `json:"website"`
	VendorDPAID       *int64     `json:"vendor_dpa_id" gorm:"column:vendor_dpa_id"`
	Status            string     `json:"status"`
	ActiveSince       *time.Time `json:"active_since"`
	RemovedOn         *time.Time `json:"removed_on"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Categories returns the categories of personal data processed.
func (p *Subprocessor) Categories() []string { return nonNil(splitList(p.DataCategories)) }

// CountryCodes returns where the data is processed (ISO 3166 codes).
func (p *Subprocessor) CountryCodes() []string { return nonNil(splitList(p.Countries)) }

// MarshalJSON adds the lists kept as text.
func (p Subprocessor) MarshalJSON() ([]byte, error) {
	type plain Subprocessor
	return json.Marshal(struct {
		plain
		DataCategories []string `json:"data_categories"`
		Countries      []string `json:"countries"`
	}{plain(p), p.Categories(), p.CountryCodes()})
}

// SubprocessorInput is a sub-processor as typed in a form or sent as JSON.
// Its field rules are the tags (internal/check); the lists and the vendor
// DPA are checked by apply.
type SubprocessorInput struct {
	Name              string `validate:"required,max=200"`
	Purpose           string `validate:"required,max=500"`
	DataCategories    string `validate:"max=1000"` // comma-separated, at most 30
	Countries         string // ISO 3166 codes, comma-separated; at least one
	TransferMechanism string `validate:"oneof=eu_scc uk_addendum uk_idta swiss_addendum eu_us_dpf none"` // a code of TransferMechanisms; none when empty
	Website           string `validate:"omitempty,max=500,http_url"`
	VendorDPAID       string `field:"vendor_dpa_id"` // the ID of an agreement with a vendor
	// InUse records a vendor already processing data before Charter kept
	// the list: it starts active, with no notice. Otherwise a new
	// sub-processor is proposed and becomes active through a notice.
	InUse bool
	// ActiveSince (YYYY-MM-DD) is when an active sub-processor started
	// processing data: a long-standing vendor's real date rather than the
	// day it was entered. Empty keeps the date it has (today for a vendor
	// recorded as in use). A proposed sub-processor gets its date from the
	// notice that makes it active.
	ActiveSince string `validate:"omitempty,date"`
}

// SubprocessorInputOf returns the input describing p, for edit forms.
func SubprocessorInputOf(p *Subprocessor) SubprocessorInput {
	in := SubprocessorInput{Name: p.Name, Purpose: p.Purpose, DataCategories: strings.Join(p.Categories(), ", "),
		Countries: strings.Join(p.CountryCodes(), ", "), TransferMechanism: p.TransferMechanism, Website: p.Website}
	if p.ActiveSince != nil {
		in.ActiveSince = p.ActiveSince.Format(time.DateOnly)
	}
	if p.VendorDPAID != nil {
		in.VendorDPAID = strconv.FormatInt(*p.VendorDPAID, 10)
	}
	return in
}

// apply checks in and writes it onto p; active says whether p is (or
// starts) active, the only state with an ActiveSince date, and today
// bounds that date.
func (in SubprocessorInput) apply(tx *gorm.DB, v *check.Validator, p *Subprocessor, active bool, today time.Time) error {
	in.Name, in.Purpose, in.Website = strings.TrimSpace(in.Name), strings.TrimSpace(in.Purpose), strings.TrimSpace(in.Website)
	in.ActiveSince = strings.TrimSpace(in.ActiveSince)
	if in.TransferMechanism = strings.TrimSpace(in.TransferMechanism); in.TransferMechanism == "" {
		in.TransferMechanism = "none"
	}
	errs := v.Struct(in)
	cats := splitList(in.DataCategories)
	if errs.Has("data_categories") || len(cats) > 30 {
		errs["data_categories"] = "list at most 30 categories in 1000 characters"
	}
	p.Name, p.Purpose, p.DataCategories = in.Name, in.Purpose, strings.Join(cats, ",")
	var codes []string
	for _, c := range splitList(in.Countries) {
		c = strings.ToUpper(c)
		if !countryPattern.MatchString(c) {
			errs["countries"] = fmt.Sprintf("%q is not a two-letter country code such as US or DE", c)
		}
		codes = append(codes, c)
	}
	if len(codes) == 0 {
		errs.Add("countries", "name at least one country where the data is processed, e.g. US")
	}
	p.Countries = strings.Join(codes, ",")
	p.TransferMechanism, p.Website = in.TransferMechanism, in.Website
	if in.ActiveSince != "" && !errs.Has("active_since") {
		switch since := check.Date(in.ActiveSince); {
		case !active:
			errs.Add("active_since", "is set when the sub-processor becomes active, by its notice")
		case since.After(today):
			errs.Add("active_since", "cannot be in the future")
		default:
			p.ActiveSince = &since
		}
	}
	p.VendorDPAID = nil
	if raw := strings.TrimSpace(in.VendorDPAID); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		var d DPA
		if err != nil || tx.Take(&d, id).Error != nil {
			errs.Add("vendor_dpa_id", "is not a DPA in the register")
		} else if d.Direction != Vendor {
			errs.Add("vendor_dpa_id", "must be an agreement with a vendor, not a customer")
		} else {
			p.VendorDPAID = &id
		}
	}
	return errs.Err()
}

// ErrSubprocessorNotFound is returned for an unknown sub-processor.
var ErrSubprocessorNotFound = apperr.New(apperr.NotFound, "no such sub-processor")

// CreateSubprocessor adds a vendor to the list: proposed, or active when
// it is recorded as already in use.
func (s *Service) CreateSubprocessor(ctx context.Context, by audit.Actor, in SubprocessorInput) (*Subprocessor, error) {
	var p Subprocessor
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		today := s.today()
		if err := in.apply(tx, s.check, &p, in.InUse, today); err != nil {
			return err
		}
		if err := nameFree(tx, p.Name, 0); err != nil {
			return err
		}
		now := s.clock()
		p.Status, p.CreatedAt, p.UpdatedAt = Proposed, now, now
		if in.InUse {
			p.Status = Active
			if p.ActiveSince == nil {
				p.ActiveSince = &today
			}
		}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "subprocessor.created", ObjectType: "subprocessor", ObjectID: strconv.FormatInt(p.ID, 10), After: p})
	})
	return &p, err
}

func nameFree(tx *gorm.DB, name string, except int64) error {
	var n int64
	if err := tx.Model(&Subprocessor{}).Where("LOWER(name) = ? AND id <> ?", strings.ToLower(name), except).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return apperr.Field("name", "another sub-processor already has this name")
	}
	return nil
}

// UpdateSubprocessor corrects a sub-processor's details; its status moves
// only through notices.
func (s *Service) UpdateSubprocessor(ctx context.Context, by audit.Actor, id int64, in SubprocessorInput) (*Subprocessor, error) {
	var p Subprocessor
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockSubprocessor(tx, id, &p); err != nil {
			return err
		}
		before := p
		if err := in.apply(tx, s.check, &p, p.Status == Active, s.today()); err != nil {
			return err
		}
		if err := nameFree(tx, p.Name, id); err != nil {
			return err
		}
		p.UpdatedAt = s.clock()
		if err := tx.Save(&p).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: p.UpdatedAt, Action: "subprocessor.updated", ObjectType: "subprocessor", ObjectID: strconv.FormatInt(id, 10), Before: before, After: p})
	})
	return &p, err
}

func lockSubprocessor(tx *gorm.DB, id int64, p *Subprocessor) error {
	err := store.ForUpdate(tx).Take(p, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrSubprocessorNotFound
	}
	return err
}

// Subprocessor returns one sub-processor.
func (s *Service) Subprocessor(ctx context.Context, id int64) (*Subprocessor, error) {
	var p Subprocessor
	err := s.db.WithContext(ctx).Take(&p, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrSubprocessorNotFound
	}
	return &p, err
}

// subprocessorQuery is the status a list of sub-processors asks for.
type subprocessorQuery struct {
	Status string `validate:"omitempty,oneof=proposed active removed"`
}

// Subprocessors returns the list, by name; status "" means every status.
func (s *Service) Subprocessors(ctx context.Context, status string) ([]Subprocessor, error) {
	if err := s.check.Struct(subprocessorQuery{Status: status}).Err(); err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Order("LOWER(name), id")
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var out []Subprocessor
	return out, q.Find(&out).Error
}
