// Package document is the trust documents register: every document the
// company shares besides its policies (SOC 2 report, penetration-test
// summary, insurance and ISO certificates, filled questionnaires, bridge
// letters, the standard DPA), each with an access level and every version
// uploaded. A public document downloads from /trust; an on-request one
// goes out only in a packet, stamped with its recipient on every page; an
// internal one appears nowhere public. A version whose validity has ended
// leaves /trust by itself, and its owner is reminded before.
package document

import (
	"regexp"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
)

// Access is who may have a document.
type Access string

// The access levels.
const (
	Public    Access = "public"     // downloadable from /trust
	OnRequest Access = "on_request" // in a packet, after an NDA and approval
	Internal  Access = "internal"   // nowhere public
)

// Label names the access level as pages show it.
func (a Access) Label() string {
	switch a {
	case Public:
		return "public"
	case OnRequest:
		return "on request"
	case Internal:
		return "internal"
	}
	return string(a)
}

// Kind is what a document is; it orders and labels the list on /trust.
type Kind string

// The kinds of document.
const (
	SOC2Report     Kind = "soc2_report"
	ISOCertificate Kind = "iso_certificate"
	PentestSummary Kind = "pentest_summary"
	Insurance      Kind = "insurance_certificate"
	Questionnaire  Kind = "questionnaire"
	BridgeLetter   Kind = "bridge_letter"
	DPA            Kind = "dpa"
	Other          Kind = "other"
)

// KindLabels names each kind, in the order /trust lists them.
func KindLabels() []KindLabel {
	return []KindLabel{
		{SOC2Report, "SOC 2 report"}, {ISOCertificate, "ISO certificate"}, {PentestSummary, "Penetration-test summary"},
		{Insurance, "Insurance certificate"}, {Questionnaire, "Security questionnaire"}, {BridgeLetter, "Bridge letter"},
		{DPA, "Data processing agreement"}, {Other, "Other"},
	}
}

// KindLabel is a kind and its name.
type KindLabel struct {
	Kind  Kind
	Label string
}

// Label is the kind's name, as lists show it.
func (k Kind) Label() string {
	for _, l := range KindLabels() {
		if l.Kind == k {
			return l.Label
		}
	}
	return string(k)
}

// Document is one entry of the register; its versions hold the files.
type Document struct {
	ID          int64
	Slug        string
	Title       string
	Kind        Kind
	Access      Access
	Description string
	OwnerEmail  string
	// AutoApprove lets the packet flow's automatic approval (a customer
	// with a signed DPA, an allow-listed domain) cover this document; when
	// false a request that includes it waits for a person.
	AutoApprove      bool
	CurrentVersionID *int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// Current is the version in force (nil before the first upload).
	Current *Version `gorm:"-"`
}

// TableName is the register's table.
func (Document) TableName() string { return "trust_documents" }

// Version is one uploaded file of a document. Versions never change: a
// packet that served one can always say which bytes it was.
type Version struct {
	ID         int64
	DocumentID int64
	Version    string
	IssuedOn   time.Time
	// ValidUntil is the last day the version is in force (nil: no end).
	ValidUntil    *time.Time
	SHA256        string `gorm:"column:sha256"`
	FileName      string
	Size          int64
	Pages         int
	UploadedAt    time.Time
	UploadedBy    string
	ReminderStage string
}

// TableName is the versions' table.
func (Version) TableName() string { return "trust_document_versions" }

// LapsedOn reports whether the version's validity ended before day.
func (v *Version) LapsedOn(day time.Time) bool {
	return v != nil && v.ValidUntil != nil && v.ValidUntil.Before(day)
}

// Available reports whether the document can be had outside the team on
// day: not internal, with a version in force.
func (d *Document) Available(day time.Time) bool {
	return d.Access != Internal && d.Current != nil && !d.Current.LapsedOn(day)
}

// Input is a document's description as typed in a form or a JSON body.
type Input struct {
	Title       string `validate:"required,max=200"`
	Slug        string `validate:"omitempty,max=80"`
	Kind        string `validate:"oneof=soc2_report iso_certificate pentest_summary insurance_certificate questionnaire bridge_letter dpa other"`
	Access      string `validate:"oneof=public on_request internal"`
	Description string `validate:"max=2000"`
	OwnerEmail  string `validate:"required,address"`
	AutoApprove bool
}

// VersionInput describes an uploaded file.
type VersionInput struct {
	Version    string `validate:"required,max=40"`
	IssuedOn   string `validate:"required,date"`
	ValidUntil string `validate:"omitempty,date"`
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// parse checks in and returns the document it describes.
func (in Input) parse(v *check.Validator) (Document, error) {
	in.Title, in.Slug, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Slug), strings.TrimSpace(in.Description)
	in.Kind, in.Access, in.OwnerEmail = strings.TrimSpace(in.Kind), strings.TrimSpace(in.Access), notify.NormalizeAddress(in.OwnerEmail)
	if in.Slug == "" {
		in.Slug = Slugify(in.Title)
	}
	errs := v.Struct(in)
	if !errs.Has("slug") && !slugPattern.MatchString(in.Slug) {
		errs.Add("slug", "must be lower-case letters, digits and single hyphens, such as soc2-type-2-report")
	}
	if err := errs.Err(); err != nil {
		return Document{}, err
	}
	return Document{Slug: in.Slug, Title: in.Title, Kind: Kind(in.Kind), Access: Access(in.Access), Description: in.Description,
		OwnerEmail: in.OwnerEmail, AutoApprove: in.AutoApprove}, nil
}

// parse checks in and returns the version it describes (without file).
func (in VersionInput) parse(v *check.Validator) (Version, error) {
	in = VersionInput{Version: strings.TrimSpace(in.Version), IssuedOn: strings.TrimSpace(in.IssuedOn), ValidUntil: strings.TrimSpace(in.ValidUntil)}
	errs := v.Struct(in)
	ver := Version{Version: in.Version, IssuedOn: check.Date(in.IssuedOn)}
	if in.ValidUntil != "" && !errs.Has("valid_until") {
		until := check.Date(in.ValidUntil)
		if !errs.Has("issued_on") && until.Before(ver.IssuedOn) {
			errs.Add("valid_until", "must not be before the issue date")
		}
		ver.ValidUntil = &until
	}
	return ver, errs.Err()
}

// Slugify makes a slug from a title: "SOC 2 Type II report" →
// "soc-2-type-ii-report".
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	s := b.String()
	if len(s) > 80 {
		s = strings.TrimRight(s[:80], "-")
	}
	return s
}

// Errors of the register.
var (
	ErrNotFound    = apperr.New(apperr.NotFound, "no such document")
	ErrSlugTaken   = apperr.New(apperr.Conflict, "another document already has this slug")
	ErrVersionUsed = apperr.New(apperr.Conflict, "this document already has a version with this name")
)
