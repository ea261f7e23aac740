// Package privacy keeps the privacy registers: data processing agreements
// (both directions), the standard DPA with the signatures customers give it
// online, the sub-processor list with its change notices and the
// customers' objections, and the subscribers to those notices. Every change
// writes its audit event, and any email it causes, in its own transaction.
package privacy

import (
	"context"
	"crypto/ed25519"
	"regexp"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/publicform"
	"gorm.io/gorm"
)

// Settings are what the registers need from the configuration.
type Settings struct {
	// BaseURL prefixes the links in emails.
	BaseURL string
	// TeamAddresses returns who hears of public DPA requests (the
	// operations team).
	TeamAddresses func(ctx context.Context) ([]string, error)
	// Mail renders the emails; NewService parses its own when nil (the
	// composition root passes the one it shares).
	Mail *notify.Templates
	// WorkEmail refuses subscriptions and DPA requests from free-mail
	// addresses; NewService uses the built-in free-mail list when nil (the
	// composition root passes the one built from the configured domains).
	WorkEmail WorkEmailCheck
	// SigningKey countersigns the standard DPA: it signs the SHA-256 of
	// each countersigned PDF (the key that signs packet manifests).
	SigningKey ed25519.PrivateKey
	// RecordPromises records, in the transaction announcing a
	// sub-processor change, the snapshot of the public promises that the
	// notice emails cite (internal/snapshot); nil records none.
	RecordPromises func(tx *gorm.DB) (PromiseSnapshot, error)
}

// PromiseSnapshot is a dated, signed snapshot of the public promises as
// an email cites it: the page of its day, its own address and its SHA-256.
type PromiseSnapshot struct {
	URL    string
	Exact  string
	SHA256 string
}

// WorkEmailCheck refuses an address that is not a work address, with an
// Invalid error naming field; publicform.WorkEmail is the one in use.
type WorkEmailCheck interface {
	Check(field, email string) error
}

// Service keeps the privacy registers.
type Service struct {
	db       *gorm.DB
	now      func() time.Time
	files    *files.Store
	orgs     *org.Service
	settings Settings
	check    *check.Validator
}

// NewService returns a Service on db with the given clock, file store and
// settings.
func NewService(db *gorm.DB, now func() time.Time, fs *files.Store, orgs *org.Service, settings Settings) *Service {
	if settings.Mail == nil {
		settings.Mail = notify.MustTemplates()
	}
	if settings.WorkEmail == nil {
		settings.WorkEmail = publicform.NewWorkEmail(nil)
	}
	return &Service{db: db, now: now, files: fs, orgs: orgs, settings: settings, check: check.New()}
}

// company is the name that signs emails, from the organization profile.
func (s *Service) company(ctx context.Context) (string, error) {
	o, err := s.orgs.Current(ctx)
	if err != nil || o.ID == 0 {
		return "The company", err
	}
	return o.Name, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// today is the current UTC date at midnight.
func (s *Service) today() time.Time {
	y, m, d := s.now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *Service) link(path string) string { return strings.TrimRight(s.settings.BaseURL, "/") + path }

// mailDomain is the domain of Message-IDs, from the base URL.
func (s *Service) mailDomain() string { return notify.MessageDomain(s.settings.BaseURL) }

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// EmailDomain returns the domain of an address, lower-cased.
func EmailDomain(email string) string {
	return strings.ToLower(email[strings.LastIndexByte(email, '@')+1:])
}

// optionalDate is the date in v, a field whose `omitempty,date` rule has
// run: nil when v is empty or the rule did not hold.
func optionalDate(errs check.Errors, field, v string) *time.Time {
	if v == "" || errs.Has(field) {
		return nil
	}
	t := check.Date(v)
	return &t
}

// splitList splits a comma- or newline-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
