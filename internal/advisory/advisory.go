// Package advisory keeps the security advisories of the seed's template and
// the lean incident register they belong to: an advisory is only issued as
// part of a declared incident. Every edit of an advisory is kept as a
// revision; drafts are never public; subscribers hear when an advisory is
// published or its status changes.
package advisory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Severities, from the seed (Low, Medium, Critical) plus High.
var Severities = []string{"low", "medium", "high", "critical"}

// Advisory statuses, as in the seed.
var Statuses = []string{"reported", "fixed", "resolved"}

// Regions an advisory can affect.
var Regions = []string{"US", "EU", "both"}

// Incident statuses.
var IncidentStatuses = []string{"declared", "mitigated", "resolved"}

// Incident is a declared security incident.
type Incident struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Severity   string     `json:"severity"`
	DeclaredAt time.Time  `json:"declared_at"`
	Status     string     `json:"status"`
	ResolvedAt *time.Time `json:"resolved_at"`
	Owner      string     `json:"owner"`
	Summary    string     `json:"summary"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Advisory is one security advisory.
type Advisory struct {
	ID               int64      `json:"-"`
	PublicID         string     `json:"id"`
	IncidentID       int64      `json:"incident_id"`
	Title            string     `json:"title"`
	AdvisoryDate     time.Time  `json:"date"`
	CVE              *string    `json:"cve" gorm:"column:cve"`
	Severity         string     `json:"severity"`
	Status           string     `json:"status"`
	Description      string     `json:"description"`
	AffectedProducts string     `json:"affected_products"`
	AffectedRegions  string     `json:"affected_regions"`
	Resolution       string     `json:"resolution"`
	FixLinks         string     `json:"-"`
	DiscoveredOn     *time.Time `json:"discovered_on"`
	ReportedOn       *time.Time `json:"reported_on"`
	FixedOn          *time.Time `json:"fixed_on"`
	DisclosedOn      *time.Time `json:"disclosed_on"`
	PublishedAt      *time.Time `json:"published_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// TableName is the advisories table.
func (Advisory) TableName() string { return "advisories" }

// Links returns the links to fixes.
func (a *Advisory) Links() []string { return lines(a.FixLinks) }

// Products returns the affected products.
func (a *Advisory) Products() []string { return lines(a.AffectedProducts) }

// Published reports whether the advisory is public.
func (a *Advisory) Published() bool { return a.PublishedAt != nil }

// Current reports whether it is listed under current advisories.
func (a *Advisory) Current() bool { return a.Status != "resolved" }

// CVEID is the CVE, or "".
func (a *Advisory) CVEID() string {
	if a.CVE == nil {
		return ""
	}
	return *a.CVE
}

// Revision is a saved state of an advisory.
type Revision struct {
	ID         int64
	AdvisoryID int64
	Revision   int
	Snapshot   string
	ChangedAt  time.Time
	ChangedBy  string
}

// TableName is the revisions table.
func (Revision) TableName() string { return "advisory_revisions" }

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Settings are what advisories need from the configuration.
type Settings struct {
	BaseURL string
	// IDPrefix starts every advisory's ID (e.g. "POSTHOG-SA"); when empty
	// it is made from the company's name in the organization profile.
	IDPrefix string
	// Mail renders the emails; NewService parses its own when nil (the
	// composition root passes the one it shares).
	Mail *notify.Templates
}

// IDPrefixFor is the advisory ID prefix of a company: its name's letters
// and digits in upper case and "-SA" ("PostHog" → "POSTHOG-SA"), or
// "CHARTER-SA" when the name has none.
func IDPrefixFor(company string) string {
	p := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			return r
		}
		return -1
	}, company)
	if p == "" {
		p = "CHARTER"
	}
	return p + "-SA"
}

// idPrefix is the configured prefix, or the company's.
func (s *Service) idPrefix(ctx context.Context) (string, error) {
	if s.settings.IDPrefix != "" {
		return s.settings.IDPrefix, nil
	}
	o, err := s.orgs.Current(ctx)
	if err != nil {
		return "", err
	}
	if o.ID == 0 {
		return IDPrefixFor(""), nil
	}
	return IDPrefixFor(o.Name), nil
}

// Service keeps incidents and advisories.
type Service struct {
	db       *gorm.DB
	now      func() time.Time
	orgs     *org.Service
	privacy  *privacy.Service
	settings Settings
	check    *check.Validator
}

// NewService returns a Service; subscribers are reached through privacy.
func NewService(db *gorm.DB, now func() time.Time, orgs *org.Service, priv *privacy.Service, settings Settings) *Service {
	if settings.Mail == nil {
		settings.Mail = notify.MustTemplates()
	}
	return &Service{db: db, now: now, orgs: orgs, privacy: priv, settings: settings, check: check.New()}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ErrNoIncident refuses an advisory outside an incident (the seed's rule).
var ErrNoIncident = apperr.Field("incident_id", "declare an incident first: an advisory is only issued as part of a declared incident")

// IncidentInput declares or updates an incident.
type IncidentInput struct {
	Title    string `validate:"required,max=200"`
	Severity string `validate:"oneof=low medium high critical"`
	Status   string `validate:"oneof=declared mitigated resolved"` // declared when empty
	Owner    string `validate:"max=200"`
	Summary  string `validate:"max=4000"`
}

// parse checks in and returns the incident it describes.
func (in IncidentInput) parse(v *check.Validator) (Incident, check.Errors) {
	in = IncidentInput{Title: strings.TrimSpace(in.Title), Severity: strings.ToLower(strings.TrimSpace(in.Severity)),
		Status: strings.ToLower(strings.TrimSpace(in.Status)), Owner: strings.TrimSpace(in.Owner), Summary: strings.TrimSpace(in.Summary)}
	if in.Status == "" {
		in.Status = "declared"
	}
	return Incident{Title: in.Title, Severity: in.Severity, Status: in.Status, Owner: in.Owner, Summary: in.Summary}, v.Struct(in)
}

// DeclareIncident records a new incident.
func (s *Service) DeclareIncident(ctx context.Context, by audit.Actor, in IncidentInput) (*Incident, error) {
	i, errs := in.parse(s.check)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.declare(tx, by, &i) })
	return &i, err
}

func (s *Service) declare(tx *gorm.DB, by audit.Actor, i *Incident) error {
	now := s.clock()
	i.DeclaredAt, i.CreatedAt, i.UpdatedAt = now, now, now
	if i.Status == "resolved" {
		i.ResolvedAt = &now
	}
	if err := tx.Create(i).Error; err != nil {
		return err
	}
	return audit.Append(tx, by, audit.Entry{At: now, Action: "incident.declared", ObjectType: "incident", ObjectID: strconv.FormatInt(i.ID, 10), After: i})
}

// UpdateIncident changes an incident's details or status.
func (s *Service) UpdateIncident(ctx context.Context, by audit.Actor, id int64, in IncidentInput) (*Incident, error) {
	next, errs := in.parse(s.check)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var i Incident
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Take(&i, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.New(apperr.NotFound, "no such incident")
		} else if err != nil {
			return err
		}
		before := i
		now := s.clock()
		i.Title, i.Severity, i.Status, i.Owner, i.Summary, i.UpdatedAt = next.Title, next.Severity, next.Status, next.Owner, next.Summary, now
		if i.Status == "resolved" && i.ResolvedAt == nil {
			i.ResolvedAt = &now
		} else if i.Status != "resolved" {
			i.ResolvedAt = nil
		}
		if err := tx.Save(&i).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "incident.updated", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10), Before: before, After: i})
	})
	return &i, err
}

// Incidents returns incidents, newest first.
func (s *Service) Incidents(ctx context.Context) ([]Incident, error) {
	var out []Incident
	return out, s.db.WithContext(ctx).Order("declared_at DESC, id DESC").Find(&out).Error
}

// Input is an advisory as typed in the form or sent as JSON.
type Input struct {
	IncidentID       int64
	Title            string `validate:"required,max=200"`
	Date             string `validate:"required,date"`
	CVE              string // CVE-YYYY-NNNN…, or empty
	Severity         string `validate:"oneof=low medium high critical"`
	Status           string `validate:"oneof=reported fixed resolved"`
	Description      string `validate:"required,max=20000"`
	AffectedProducts string `validate:"max=2000"`         // one per line
	AffectedRegions  string `validate:"oneof=US EU both"` // both when empty
	Resolution       string `validate:"max=20000"`
	FixLinks         string // one URL per line
	DiscoveredOn     string `validate:"omitempty,date"`
	ReportedOn       string `validate:"omitempty,date"`
	FixedOn          string `validate:"omitempty,date"`
	DisclosedOn      string `validate:"omitempty,date"`
	// DeclareIncident, when IncidentID is 0, declares the incident in the
	// same step; its fields are checked apart, named incident_*.
	DeclareIncident *IncidentInput `validate:"-"`
}

// InputOf returns the input describing a, for the edit form.
func InputOf(a *Advisory) Input {
	in := Input{IncidentID: a.IncidentID, Title: a.Title, Date: a.AdvisoryDate.Format(time.DateOnly), CVE: a.CVEID(), Severity: a.Severity,
		Status: a.Status, Description: a.Description, AffectedProducts: a.AffectedProducts, AffectedRegions: a.AffectedRegions,
		Resolution: a.Resolution, FixLinks: a.FixLinks}
	for _, d := range []struct {
		dst *string
		t   *time.Time
	}{{&in.DiscoveredOn, a.DiscoveredOn}, {&in.ReportedOn, a.ReportedOn}, {&in.FixedOn, a.FixedOn}, {&in.DisclosedOn, a.DisclosedOn}} {
		if d.t != nil {
			*d.dst = d.t.Format(time.DateOnly)
		}
	}
	return in
}

// cvePattern is a CVE ID: CVE-YYYY-NNNN with four or more digits.
var cvePattern = regexp.MustCompile(`^CVE-(19|20)\d{2}-\d{4,}$`)

// apply checks in and writes it onto a.
func (in Input) apply(v *check.Validator, a *Advisory) check.Errors {
	in = Input{IncidentID: in.IncidentID, Title: strings.TrimSpace(in.Title), Date: strings.TrimSpace(in.Date),
		CVE: strings.ToUpper(strings.TrimSpace(in.CVE)), Severity: strings.ToLower(strings.TrimSpace(in.Severity)),
		Status: strings.ToLower(strings.TrimSpace(in.Status)), Description: strings.TrimSpace(in.Description),
		AffectedProducts: strings.TrimSpace(in.AffectedProducts), AffectedRegions: strings.TrimSpace(in.AffectedRegions),
		Resolution: strings.TrimSpace(in.Resolution), FixLinks: in.FixLinks, DiscoveredOn: strings.TrimSpace(in.DiscoveredOn),
		ReportedOn: strings.TrimSpace(in.ReportedOn), FixedOn: strings.TrimSpace(in.FixedOn), DisclosedOn: strings.TrimSpace(in.DisclosedOn),
		DeclareIncident: in.DeclareIncident}
	if in.AffectedRegions == "" {
		in.AffectedRegions = "both"
	}
	errs := v.Struct(in)
	date := func(name, value string) *time.Time {
		if value == "" || errs.Has(name) {
			return nil
		}
		t := check.Date(value)
		return &t
	}
	a.Title, a.Severity, a.Status, a.Description, a.AffectedRegions, a.Resolution = in.Title, in.Severity, in.Status, in.Description, in.AffectedRegions, in.Resolution
	if d := date("date", in.Date); d != nil {
		a.AdvisoryDate = *d
	}
	a.CVE = nil
	if in.CVE != "" {
		if !cvePattern.MatchString(in.CVE) {
			errs.Add("cve", "must be a CVE ID such as CVE-2024-12345")
		}
		a.CVE = &in.CVE
	}
	a.AffectedProducts = strings.Join(lines(in.AffectedProducts), "\n")
	var links []string
	for _, l := range lines(in.FixLinks) {
		u, err := url.Parse(l)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(l) > 500 {
			errs["fix_links"] = fmt.Sprintf("%q is not a web address starting with https://", l)
		}
		links = append(links, l)
	}
	a.FixLinks = strings.Join(links, "\n")
	a.DiscoveredOn = date("discovered_on", in.DiscoveredOn)
	a.ReportedOn = date("reported_on", in.ReportedOn)
	a.FixedOn = date("fixed_on", in.FixedOn)
	a.DisclosedOn = date("disclosed_on", in.DisclosedOn)
	// The timeline runs forward: none earlier than the one before it.
	steps := []struct {
		name string
		t    *time.Time
	}{{"discovered_on", a.DiscoveredOn}, {"reported_on", a.ReportedOn}, {"fixed_on", a.FixedOn}, {"disclosed_on", a.DisclosedOn}}
	var last *time.Time
	lastName := ""
	for _, st := range steps {
		if st.t == nil {
			continue
		}
		if last != nil && st.t.Before(*last) {
			errs.Add(st.name, "cannot be earlier than "+strings.ReplaceAll(strings.TrimSuffix(lastName, "_on"), "_", " ")+" ("+last.Format(time.DateOnly)+")")
		}
		last, lastName = st.t, st.name
	}
	if a.Status != "reported" && a.FixedOn == nil {
		errs.Add("fixed_on", "is required once the advisory is "+a.Status)
	}
	return errs
}

// ErrNotFound is returned for an unknown advisory.
var ErrNotFound = apperr.New(apperr.NotFound, "no such advisory")

// Create records a draft advisory, declaring its incident first when asked.
func (s *Service) Create(ctx context.Context, by audit.Actor, in Input) (*Advisory, error) {
	prefix, err := s.idPrefix(ctx)
	if err != nil {
		return nil, err
	}
	var a Advisory
	errs := in.apply(s.check, &a)
	var declare *Incident
	switch {
	case in.IncidentID == 0 && in.DeclareIncident == nil:
		errs.Add("incident_id", ErrNoIncident.Fields["incident_id"])
	case in.IncidentID == 0:
		i, ierrs := in.DeclareIncident.parse(s.check)
		for k, v := range ierrs {
			errs.Add("incident_"+k, v)
		}
		declare = &i
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if declare != nil {
			if err := s.declare(tx, by, declare); err != nil {
				return err
			}
			in.IncidentID = declare.ID
		} else if err := tx.Take(&Incident{}, in.IncidentID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoIncident
		} else if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&Advisory{}).Where("public_id LIKE ?", prefix+"-"+a.AdvisoryDate.Format("2006")+"-%").Count(&n).Error; err != nil {
			return err
		}
		now := s.clock()
		a.PublicID = fmt.Sprintf("%s-%s-%04d", prefix, a.AdvisoryDate.Format("2006"), n+1)
		a.IncidentID, a.CreatedAt, a.UpdatedAt = in.IncidentID, now, now
		if err := tx.Create(&a).Error; err != nil {
			return uniqueCVE(err)
		}
		if err := s.revise(tx, by, &a); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "advisory.created", ObjectType: "advisory", ObjectID: a.PublicID, After: a})
	})
	return &a, err
}

func uniqueCVE(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return apperr.Field("cve", "another advisory already has this CVE")
	}
	return err
}

// revise stores the advisory's current state as a new revision.
func (s *Service) revise(tx *gorm.DB, by audit.Actor, a *Advisory) error {
	snap, err := json.Marshal(a)
	if err != nil {
		return err
	}
	var n int
	if err := tx.Model(&Revision{}).Where("advisory_id = ?", a.ID).Select("COALESCE(MAX(revision), 0)").Scan(&n).Error; err != nil {
		return err
	}
	return tx.Create(&Revision{AdvisoryID: a.ID, Revision: n + 1, Snapshot: string(snap), ChangedAt: s.clock(), ChangedBy: by.Label}).Error
}

// Update edits an advisory, keeping the previous state as a revision, and
// tells subscribers when a published advisory's status changes.
func (s *Service) Update(ctx context.Context, by audit.Actor, publicID string, in Input) (*Advisory, error) {
	var a Advisory
	company, err := s.company(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Where("public_id = ?", publicID).Take(&a).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		before := a
		if err := in.apply(s.check, &a).Err(); err != nil {
			return err
		}
		if in.IncidentID != 0 && in.IncidentID != a.IncidentID {
			if err := tx.Take(&Incident{}, in.IncidentID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNoIncident
			} else if err != nil {
				return err
			}
			a.IncidentID = in.IncidentID
		}
		now := s.clock()
		a.UpdatedAt = now
		if err := tx.Save(&a).Error; err != nil {
			return uniqueCVE(err)
		}
		if err := s.revise(tx, by, &a); err != nil {
			return err
		}
		if a.Published() && before.Status != a.Status {
			if err := s.announce(tx, company, &a, true); err != nil {
				return err
			}
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "advisory.updated", ObjectType: "advisory", ObjectID: a.PublicID, Before: before, After: a})
	})
	return &a, err
}

// ErrAlreadyPublished is returned when publishing a published advisory.
var ErrAlreadyPublished = apperr.New(apperr.Conflict, "this advisory is already published")

// PublishPlan is what publishing a draft advisory would do.
type PublishPlan struct {
	Advisory    Advisory
	Subscribers int // the confirmed subscribers who would be emailed
}

// PlanPublish says, without changing or sending anything, whom publishing
// the draft would email. Errors: ErrNotFound, ErrAlreadyPublished.
func (s *Service) PlanPublish(ctx context.Context, publicID string) (*PublishPlan, error) {
	db := s.db.WithContext(ctx)
	var p PublishPlan
	if err := db.Where("public_id = ?", publicID).Take(&p.Advisory).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	if p.Advisory.Published() {
		return nil, ErrAlreadyPublished
	}
	n, err := s.privacy.CountSubscribers(db)
	if err != nil {
		return nil, err
	}
	p.Subscribers = n
	return &p, nil
}

// Publish makes a draft public and tells subscribers. Errors:
// ErrNotFound, ErrAlreadyPublished.
func (s *Service) Publish(ctx context.Context, by audit.Actor, publicID string) (*Advisory, error) {
	var a Advisory
	company, err := s.company(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Where("public_id = ?", publicID).Take(&a).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if a.Published() {
			return ErrAlreadyPublished
		}
		now := s.clock()
		a.PublishedAt, a.UpdatedAt = &now, now
		if err := tx.Save(&a).Error; err != nil {
			return err
		}
		if err := s.revise(tx, by, &a); err != nil {
			return err
		}
		if err := s.announce(tx, company, &a, false); err != nil {
			return err
		}
		if err := s.publishedWebhook(tx, now, &a); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "advisory.published", ObjectType: "advisory", ObjectID: a.PublicID, After: a})
	})
	return &a, err
}

func (s *Service) company(ctx context.Context) (string, error) {
	o, err := s.orgs.Current(ctx)
	if err != nil || o.ID == 0 {
		return "The company", err
	}
	return o.Name, nil
}

// announce emails subscribers about a published advisory, or about the
// change of its status.
func (s *Service) announce(tx *gorm.DB, company string, a *Advisory, statusChanged bool) error {
	mail := notify.Advisory{Company: company, PublicID: a.PublicID, Title: a.Title, Severity: a.Severity, Status: a.Status,
		StatusChanged: statusChanged, Link: strings.TrimRight(s.settings.BaseURL, "/") + "/trust/advisories/" + a.PublicID}
	if a.CVE != nil {
		mail.CVE = *a.CVE
	}
	_, err := s.privacy.MailSubscribers(tx, func(unsubscribe string) notify.Unsubscribable {
		m := mail
		m.Unsubscribe = unsubscribe
		return m
	})
	return err
}

// Filter selects advisories.
type Filter struct {
	PublishedOnly bool
}

// List returns advisories, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Advisory, error) {
	q := s.db.WithContext(ctx).Order("advisory_date DESC, id DESC")
	if f.PublishedOnly {
		q = q.Where("published_at IS NOT NULL")
	}
	var out []Advisory
	return out, q.Find(&out).Error
}

// Get returns one advisory; publishedOnly hides drafts.
func (s *Service) Get(ctx context.Context, publicID string, publishedOnly bool) (*Advisory, error) {
	q := s.db.WithContext(ctx).Where("public_id = ?", publicID)
	if publishedOnly {
		q = q.Where("published_at IS NOT NULL")
	}
	var a Advisory
	if err := q.Take(&a).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return &a, nil
}

// Revisions returns an advisory's saved states, newest first.
func (s *Service) Revisions(ctx context.Context, id int64) ([]Revision, error) {
	var out []Revision
	return out, s.db.WithContext(ctx).Where("advisory_id = ?", id).Order("revision DESC").Find(&out).Error
}
