package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// DPA directions: with a customer we are the processor; with a vendor,
// they process for us.
const (
	Customer = "customer"
	Vendor   = "vendor"
)

// DPA statuses, in the order an agreement moves through them.
const (
	Requested  = "requested"
	Sent       = "sent"
	Signed     = "signed"
	Terminated = "terminated"
)

// OpenStatus selects, in a DPA list, the agreements requested or sent
// and not yet signed: those the overview counts as open.
const OpenStatus = "open"

// DPAStatuses lists the statuses in order.
var DPAStatuses = []string{Requested, Sent, Signed, Terminated}

// nextStatuses says where each status may go: forward only, and a
// terminated agreement stays terminated.
var nextStatuses = map[string][]string{
	Requested: {Sent, Signed, Terminated},
	Sent:      {Signed, Terminated},
	Signed:    {Terminated},
}

// Transfer mechanisms for data leaving the EEA, the UK or Switzerland.
var TransferMechanisms = []struct{ Code, Label string }{
	{"eu_scc", "EU Standard Contractual Clauses"},
	{"uk_addendum", "UK Addendum to the EU SCCs"},
	{"uk_idta", "UK International Data Transfer Agreement"},
	{"swiss_addendum", "Swiss addendum to the EU SCCs"},
	{"eu_us_dpf", "EU-US Data Privacy Framework"},
	{"none", "None (no restricted transfer)"},
}

// MechanismLabel returns the label of a transfer mechanism code.
func MechanismLabel(code string) string {
	for _, m := range TransferMechanisms {
		if m.Code == code {
			return m.Label
		}
	}
	return code
}

func knownMechanism(code string) bool { return MechanismLabel(code) != code }

// DefaultNoticeDays is the notice period of a DPA that names none.
const DefaultNoticeDays = 30

// DPA is one data processing agreement.
type DPA struct {
	ID                        int64      `json:"id"`
	Direction                 string     `json:"direction"`
	Counterparty              string     `json:"counterparty"`
	ContactEmail              string     `json:"contact_email"`
	Domain                    string     `json:"domain"`
	Status                    string     `json:"status"`
	TemplateVersion           string     `json:"template_version"`
	SignedOn                  *time.Time `json:"signed_on"`
	EffectiveOn               *time.Time `json:"effective_on"`
	TerminatedOn              *time.Time `json:"terminated_on"`
	OurSignatory              string     `json:"our_signatory"`
	TheirSignatory            string     `json:"their_signatory"`
	DataRegion                string     `json:"data_region"`
	TransferMechanisms        string     `json:"-"`
	SCCModules                string     `json:"-" gorm:"column:scc_modules"`
	SubprocessorAuthorization string     `json:"subprocessor_authorization"`
	NoticeDays                int        `json:"notice_days"`
	FileSHA256                string     `json:"file_sha256" gorm:"column:file_sha256"`
	FileName                  string     `json:"file_name"`
	FileSize                  int64      `json:"file_size"`
	Source                    string     `json:"source"`
	Notes                     string     `json:"notes"`
	CreatedAt                 time.Time  `json:"created_at"`
	UpdatedAt                 time.Time  `json:"updated_at"`
}

// TableName is the DPA register's table.
func (DPA) TableName() string { return "dpas" }

// Mechanisms returns the transfer mechanism codes.
func (d *DPA) Mechanisms() []string { return splitList(d.TransferMechanisms) }

// Modules returns the SCC modules (1 to 4).
func (d *DPA) Modules() []string { return splitList(d.SCCModules) }

// Next returns the statuses this agreement may move to.
func (d *DPA) Next() []string { return nextStatuses[d.Status] }

// MarshalJSON adds the lists kept as text.
func (d DPA) MarshalJSON() ([]byte, error) {
	type plain DPA
	return json.Marshal(struct {
		plain
		TransferMechanisms []string `json:"transfer_mechanisms"`
		SCCModules         []string `json:"scc_modules"`
	}{plain(d), nonNil(d.Mechanisms()), nonNil(d.Modules())})
}

// StatusChange is one step of an agreement's history.
type StatusChange struct {
	ID         int64
	DPAID      int64 `gorm:"column:dpa_id"`
	FromStatus string
	ToStatus   string
	At         time.Time
	ByLabel    string
	Note       string
}

// TableName is the history table.
func (StatusChange) TableName() string { return "dpa_status_changes" }

// DPAInput is an agreement as typed in a form or sent as JSON: all text,
// checked by apply. Its field rules are the tags (internal/check); the
// rules between fields are apply's.
type DPAInput struct {
	Direction                 string   `validate:"oneof=customer vendor"`
	Counterparty              string   `validate:"required,max=200"`
	ContactEmail              string   `validate:"omitempty,address"`
	Domain                    string   // the contact's domain when empty
	Status                    string   `validate:"oneof=requested sent signed terminated"` // initial status, on create only; requested when empty
	TemplateVersion           string   `validate:"max=50"`
	SignedOn                  string   `validate:"omitempty,date"`
	EffectiveOn               string   `validate:"omitempty,date"`
	OurSignatory              string   `validate:"max=200"`
	TheirSignatory            string   `validate:"max=200"`
	DataRegion                string   `validate:"max=100"`
	TransferMechanisms        []string // codes; one item may list several, comma-separated
	SCCModules                []string // 1 to 4; likewise
	SubprocessorAuthorization string   `validate:"oneof=general specific"` // general when empty
	NoticeDays                string   // a whole number from 0 to 90; DefaultNoticeDays when empty
	Notes                     string   `validate:"max=4000"`
}

// InputOf returns the input that describes d, for edit forms.
func InputOf(d *DPA) DPAInput {
	in := DPAInput{Direction: d.Direction, Counterparty: d.Counterparty, ContactEmail: d.ContactEmail, Domain: d.Domain,
		Status: d.Status, TemplateVersion: d.TemplateVersion, OurSignatory: d.OurSignatory, TheirSignatory: d.TheirSignatory,
		DataRegion: d.DataRegion, TransferMechanisms: d.Mechanisms(), SCCModules: d.Modules(),
		SubprocessorAuthorization: d.SubprocessorAuthorization, NoticeDays: strconv.Itoa(d.NoticeDays), Notes: d.Notes}
	if d.SignedOn != nil {
		in.SignedOn = d.SignedOn.Format(time.DateOnly)
	}
	if d.EffectiveOn != nil {
		in.EffectiveOn = d.EffectiveOn.Format(time.DateOnly)
	}
	return in
}

// apply checks in and copies it onto d. Every problem is reported at once,
// by field.
func (in DPAInput) apply(v *check.Validator, d *DPA, creating bool) error {
	in.Direction, in.Counterparty = strings.TrimSpace(in.Direction), strings.TrimSpace(in.Counterparty)
	in.ContactEmail, in.Domain = notify.NormalizeAddress(in.ContactEmail), strings.ToLower(strings.TrimSpace(in.Domain))
	if in.Status = strings.TrimSpace(in.Status); in.Status == "" {
		in.Status = Requested
	}
	in.TemplateVersion, in.SignedOn, in.EffectiveOn = strings.TrimSpace(in.TemplateVersion), strings.TrimSpace(in.SignedOn), strings.TrimSpace(in.EffectiveOn)
	in.OurSignatory, in.TheirSignatory = strings.TrimSpace(in.OurSignatory), strings.TrimSpace(in.TheirSignatory)
	in.DataRegion, in.NoticeDays, in.Notes = strings.TrimSpace(in.DataRegion), strings.TrimSpace(in.NoticeDays), strings.TrimSpace(in.Notes)
	if in.SubprocessorAuthorization = strings.TrimSpace(in.SubprocessorAuthorization); in.SubprocessorAuthorization == "" {
		in.SubprocessorAuthorization = "general"
	}
	errs := v.Struct(in)
	if errs.Has("direction") {
		errs["direction"] = "must be customer (we process for them) or vendor (they process for us)"
	}
	if errs.Has("subprocessor_authorization") {
		errs["subprocessor_authorization"] = "must be general (with notice of changes) or specific"
	}
	if in.ContactEmail == "" && in.Direction == Customer {
		errs.Add("contact_email", "is required for a customer: change notices go to this address")
	}
	if in.Domain == "" && in.ContactEmail != "" && !errs.Has("contact_email") {
		in.Domain = EmailDomain(in.ContactEmail)
	}
	if in.Domain != "" && !domainPattern.MatchString(in.Domain) {
		errs.Add("domain", "must be a domain name such as example.com")
	}
	d.Direction, d.Counterparty, d.ContactEmail, d.Domain = in.Direction, in.Counterparty, in.ContactEmail, in.Domain
	if creating {
		d.Status = in.Status
	}
	d.TemplateVersion = in.TemplateVersion
	d.SignedOn = optionalDate(errs, "signed_on", in.SignedOn)
	d.EffectiveOn = optionalDate(errs, "effective_on", in.EffectiveOn)
	if d.SignedOn != nil && d.EffectiveOn != nil && d.EffectiveOn.Before(*d.SignedOn) {
		errs.Add("effective_on", "cannot be before the signature date")
	}
	if in.Status == Signed && d.SignedOn == nil {
		errs.Add("signed_on", "is required for a signed agreement")
	}
	d.OurSignatory, d.TheirSignatory, d.DataRegion = in.OurSignatory, in.TheirSignatory, in.DataRegion
	var mechs []string
	for _, m := range in.TransferMechanisms {
		for _, code := range splitList(m) {
			if !knownMechanism(code) {
				errs["transfer_mechanisms"] = fmt.Sprintf("%q is not a transfer mechanism; use %s", code, mechanismCodes())
			} else if !slices.Contains(mechs, code) {
				mechs = append(mechs, code)
			}
		}
	}
	if slices.Contains(mechs, "none") && len(mechs) > 1 {
		errs["transfer_mechanisms"] = "none cannot be combined with another mechanism"
	}
	d.TransferMechanisms = strings.Join(mechs, ",")
	var modules []string
	for _, m := range in.SCCModules {
		for _, n := range splitList(m) {
			if n < "1" || n > "4" || len(n) != 1 {
				errs["scc_modules"] = "modules are 1 to 4"
			} else if !slices.Contains(modules, n) {
				modules = append(modules, n)
			}
		}
	}
	slices.Sort(modules)
	switch {
	case len(modules) > 0 && !slices.Contains(mechs, "eu_scc"):
		errs["scc_modules"] = "apply only with the EU SCCs"
	case len(modules) == 0 && slices.Contains(mechs, "eu_scc"):
		errs["scc_modules"] = "name the SCC module(s) used, 1 to 4 (module 2 is controller to processor)"
	}
	d.SCCModules = strings.Join(modules, ",")
	d.SubprocessorAuthorization = in.SubprocessorAuthorization
	d.NoticeDays = DefaultNoticeDays
	if in.NoticeDays != "" {
		n, err := strconv.Atoi(in.NoticeDays)
		if err != nil || n < 0 || n > 90 {
			errs.Add("notice_days", "must be a whole number of days from 0 to 90")
		}
		d.NoticeDays = n
	}
	d.Notes = in.Notes
	return errs.Err()
}

func mechanismCodes() string {
	codes := make([]string, len(TransferMechanisms))
	for i, m := range TransferMechanisms {
		codes[i] = m.Code
	}
	return strings.Join(codes, ", ")
}

// ErrDPANotFound is returned for an unknown agreement.
var ErrDPANotFound = apperr.New(apperr.NotFound, "no such DPA")

// CreateDPA records an agreement.
func (s *Service) CreateDPA(ctx context.Context, by audit.Actor, in DPAInput) (*DPA, error) {
	var d DPA
	if err := in.apply(s.check, &d, true); err != nil {
		return nil, err
	}
	d.Source = "team"
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.insertDPA(tx, by, &d, "")
	})
	return &d, err
}

func (s *Service) insertDPA(tx *gorm.DB, by audit.Actor, d *DPA, note string) error {
	now := s.clock()
	d.CreatedAt, d.UpdatedAt = now, now
	if d.Status == Terminated && d.TerminatedOn == nil {
		t := s.today()
		d.TerminatedOn = &t
	}
	if err := tx.Create(d).Error; err != nil {
		return err
	}
	if err := tx.Create(&StatusChange{DPAID: d.ID, ToStatus: d.Status, At: now, ByLabel: by.Label, Note: note}).Error; err != nil {
		return err
	}
	if d.Status == Signed {
		if err := s.signedWebhook(tx, now, d); err != nil {
			return err
		}
	}
	return audit.Append(tx, by, audit.Entry{At: now, Action: "dpa.created", ObjectType: "dpa", ObjectID: strconv.FormatInt(d.ID, 10), After: d})
}

// UpdateDPA changes an agreement's details (not its status).
func (s *Service) UpdateDPA(ctx context.Context, by audit.Actor, id int64, in DPAInput) (*DPA, error) {
	var d DPA
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockDPA(tx, id, &d); err != nil {
			return err
		}
		before := d
		in.Status = d.Status
		if err := in.apply(s.check, &d, false); err != nil {
			return err
		}
		d.UpdatedAt = s.clock()
		if err := tx.Save(&d).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: d.UpdatedAt, Action: "dpa.updated", ObjectType: "dpa", ObjectID: strconv.FormatInt(id, 10), Before: before, After: d})
	})
	return &d, err
}

func (s *Service) lockDPA(tx *gorm.DB, id int64, d *DPA) error {
	err := store.ForUpdate(tx).Take(d, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrDPANotFound
	}
	return err
}

// StatusInput moves an agreement on.
type StatusInput struct {
	Status string // one of the agreement's next statuses
	// Date is the signature date (signed) or the end date (terminated);
	// today when empty.
	Date string `validate:"omitempty,date"`
	Note string `validate:"max=1000"`
}

// SetDPAStatus moves an agreement to its next status and keeps the step
// in its history.
func (s *Service) SetDPAStatus(ctx context.Context, by audit.Actor, id int64, in StatusInput) (*DPA, error) {
	in = StatusInput{Status: strings.TrimSpace(in.Status), Date: strings.TrimSpace(in.Date), Note: strings.TrimSpace(in.Note)}
	errs := s.check.Struct(in)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	date, note := optionalDate(errs, "date", in.Date), in.Note
	var d DPA
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockDPA(tx, id, &d); err != nil {
			return err
		}
		before := d
		to := in.Status
		if !slices.Contains(d.Next(), to) {
			if len(d.Next()) == 0 {
				return apperr.Field("status", "a terminated agreement cannot change status")
			}
			return apperr.Field("status", fmt.Sprintf("a %s agreement can move to %s", d.Status, strings.Join(d.Next(), " or ")))
		}
		day := s.today()
		if date != nil {
			if date.After(day) {
				return apperr.Field("date", "cannot be in the future")
			}
			day = *date
		}
		switch to {
		case Signed:
			if date == nil && d.SignedOn != nil {
				day = *d.SignedOn
			}
			d.SignedOn = &day
			if d.EffectiveOn == nil {
				d.EffectiveOn = &day
			}
		case Terminated:
			if d.SignedOn != nil && day.Before(*d.SignedOn) {
				return apperr.Field("date", "cannot be before the signature date")
			}
			d.TerminatedOn = &day
		}
		now := s.clock()
		from := d.Status
		d.Status, d.UpdatedAt = to, now
		if err := tx.Save(&d).Error; err != nil {
			return err
		}
		if err := tx.Create(&StatusChange{DPAID: d.ID, FromStatus: from, ToStatus: to, At: now, ByLabel: by.Label, Note: note}).Error; err != nil {
			return err
		}
		if to == Signed && from != Signed {
			if err := s.signedWebhook(tx, now, &d); err != nil {
				return err
			}
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "dpa.status_changed", ObjectType: "dpa", ObjectID: strconv.FormatInt(id, 10), Before: before, After: d})
	})
	return &d, err
}

// SignedDPA is the kind of a signed agreement's file.
var SignedDPA = files.Kind{Name: "signed DPA", MaxBytes: 20 << 20, Types: map[string][]string{"application/pdf": {".pdf"}}}

// AttachFile stores the signed PDF of an agreement. A file that is not a
// PDF or is too large is refused before anything is stored.
func (s *Service) AttachFile(ctx context.Context, by audit.Actor, id int64, name string, r io.Reader) (*DPA, error) {
	var exists int64
	if err := s.db.WithContext(ctx).Model(&DPA{}).Where("id = ?", id).Count(&exists).Error; err != nil {
		return nil, err
	} else if exists == 0 {
		return nil, ErrDPANotFound
	}
	f, err := s.files.Put(SignedDPA, name, r)
	if err != nil {
		return nil, err
	}
	var d DPA
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockDPA(tx, id, &d); err != nil {
			return err
		}
		before := d
		now := s.clock()
		d.FileSHA256, d.FileName, d.FileSize, d.UpdatedAt = f.SHA256, f.Name, f.Size, now
		if err := tx.Save(&d).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "dpa.file_attached", ObjectType: "dpa", ObjectID: strconv.FormatInt(id, 10),
			Before: map[string]any{"sha256": before.FileSHA256, "name": before.FileName},
			After:  map[string]any{"sha256": f.SHA256, "name": f.Name, "size": f.Size}})
	})
	return &d, err
}

// DPAFile opens an agreement's signed file.
func (s *Service) DPAFile(ctx context.Context, id int64) (*DPA, io.ReadCloser, error) {
	d, err := s.DPA(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if d.FileSHA256 == "" {
		return nil, nil, apperr.New(apperr.NotFound, "no signed file has been uploaded for this DPA")
	}
	f, err := s.files.Open(d.FileSHA256)
	return d, f, err
}

// DPA returns one agreement.
func (s *Service) DPA(ctx context.Context, id int64) (*DPA, error) {
	var d DPA
	err := s.db.WithContext(ctx).Take(&d, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrDPANotFound
	}
	return &d, err
}

// DPAHistory returns an agreement's status changes, oldest first.
func (s *Service) DPAHistory(ctx context.Context, id int64) ([]StatusChange, error) {
	var out []StatusChange
	return out, s.db.WithContext(ctx).Where("dpa_id = ?", id).Order("id").Find(&out).Error
}

// DPAFilter selects agreements.
type DPAFilter struct {
	Direction string `validate:"omitempty,oneof=customer vendor"`
	// Status is one status, or OpenStatus for requested or sent.
	Status string `validate:"omitempty,oneof=open requested sent signed terminated"`
	Q      string `validate:"max=200"` // part of the counterparty, domain or contact email
}

// DPAPage is a slice of the matching agreements.
type DPAPage struct {
	DPAs  []DPA
	Total int64 // agreements matching the filter
}

// ListDPAs returns up to limit agreements matching f from offset, most
// recently changed first.
func (s *Service) ListDPAs(ctx context.Context, f DPAFilter, offset, limit int) (*DPAPage, error) {
	if err := s.check.Struct(f).Err(); err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Model(&DPA{})
	if f.Direction != "" {
		q = q.Where("direction = ?", f.Direction)
	}
	switch f.Status {
	case "":
	case OpenStatus:
		q = q.Where("status IN ?", []string{Requested, Sent})
	default:
		q = q.Where("status = ?", f.Status)
	}
	if term := strings.ToLower(strings.TrimSpace(f.Q)); term != "" {
		like := "%" + store.EscapeLike(term) + "%"
		q = q.Where("(LOWER(counterparty) LIKE ? ESCAPE '\\' OR domain LIKE ? ESCAPE '\\' OR contact_email LIKE ? ESCAPE '\\')", like, like, like)
	}
	p := &DPAPage{}
	if err := q.Count(&p.Total).Error; err != nil {
		return nil, err
	}
	err := q.Order("updated_at DESC, id DESC").Offset(offset).Limit(limit).Find(&p.DPAs).Error
	return p, err
}

// CustomerDPA returns the agreement with the customer that email (or
// company) belongs to, for those who decide the customer's requests: a
// customer DPA whose domain is the address's domain or a parent of it, or
// whose counterparty is company (case aside). Of several, the furthest
// along wins (signed, sent, requested, then terminated), then the latest
// changed. nil when there is none.
func (s *Service) CustomerDPA(ctx context.Context, email, company string) (*DPA, error) {
	var domains []string
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		for d := strings.ToLower(strings.TrimSpace(email[at+1:])); strings.Contains(d, "."); {
			domains = append(domains, d)
			_, d, _ = strings.Cut(d, ".")
		}
	}
	company = strings.ToLower(strings.TrimSpace(company))
	if len(domains) == 0 && company == "" {
		return nil, nil
	}
	q := s.db.WithContext(ctx).Where("direction = ?", Customer)
	switch {
	case len(domains) > 0 && company != "":
		q = q.Where("(domain IN ? OR LOWER(counterparty) = ?)", domains, company)
	case len(domains) > 0:
		q = q.Where("domain IN ?", domains)
	default:
		q = q.Where("LOWER(counterparty) = ?", company)
	}
	var found []DPA
	if err := q.Order("updated_at DESC, id DESC").Find(&found).Error; err != nil {
		return nil, err
	}
	rank := map[string]int{Signed: 0, Sent: 1, Requested: 2, Terminated: 3}
	var best *DPA
	for i := range found {
		if best == nil || rank[found[i].Status] < rank[best.Status] {
			best = &found[i]
		}
	}
	return best, nil
}

// VendorDPAs returns the agreements with vendors, for linking sub-processors.
func (s *Service) VendorDPAs(ctx context.Context) ([]DPA, error) {
	var out []DPA
	return out, s.db.WithContext(ctx).Where("direction = ?", Vendor).Order("counterparty").Find(&out).Error
}

// DPARequest is what a customer sends through the public form.
type DPARequest struct {
	Company string `validate:"required,max=200"`
	Email   string `validate:"address"`
	Region  string // one of the hosting regions, when the organization lists any
}

// RequestDPA records a customer's request for a DPA and tells the team.
// A second request from the same domain while one is open adds nothing,
// so the form cannot be used to flood the register. Errors: Invalid
// (naming the field; "email" alone when the address is not a work address).
func (s *Service) RequestDPA(ctx context.Context, by audit.Actor, r DPARequest, regions []string) (*DPA, error) {
	email := notify.NormalizeAddress(r.Email)
	// The work-address rule is checked first and reported alone: a visitor
	// at a free-mail address is told that before anything else.
	if err := s.settings.WorkEmail.Check("email", email); err != nil {
		return nil, err
	}
	r = DPARequest{Company: strings.TrimSpace(r.Company), Email: email, Region: strings.TrimSpace(r.Region)}
	errs := s.check.Struct(r)
	if errs.Has("email") {
		errs["email"] = "must be your work email address"
	}
	if len(regions) > 0 && !slices.Contains(regions, r.Region) {
		errs.Add("region", "must be one of the hosting regions listed")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	company, region := r.Company, r.Region
	team, err := s.settings.TeamAddresses(ctx)
	if err != nil {
		return nil, err
	}
	if o, err := s.orgs.Current(ctx); err != nil {
		return nil, err
	} else if o.ID != 0 && o.PrivacyEmail != "" && !slices.Contains(team, o.PrivacyEmail) {
		team = append(team, o.PrivacyEmail)
	}
	var d DPA
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// One open request per domain, also when two arrive at once.
		if err := store.TakeTurn(tx, "dpa-request:"+EmailDomain(email)); err != nil {
			return err
		}
		err := tx.Where("direction = ? AND domain = ? AND status IN ?", Customer, EmailDomain(email), []string{Requested, Sent}).Order("id").Take(&d).Error
		if err == nil {
			return nil
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		d = DPA{Direction: Customer, Counterparty: company, ContactEmail: email, Domain: EmailDomain(email), Status: Requested,
			DataRegion: region, SubprocessorAuthorization: "general", NoticeDays: DefaultNoticeDays, Source: "public form"}
		if err := s.insertDPA(tx, by, &d, "requested through /trust"); err != nil {
			return err
		}
		mail := notify.DPARequest{Company: company, Email: email, Region: region, Link: s.link(fmt.Sprintf("/app/privacy/dpas/%d", d.ID))}
		for _, to := range team {
			if _, err := s.settings.Mail.Enqueue(tx, s.clock(), s.mailDomain(), to, mail); err != nil {
				return err
			}
		}
		return nil
	})
	return &d, err
}
