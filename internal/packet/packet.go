// Package packet is how customers get the company's policies and its
// on-request trust documents: a request (with a clickwrap NDA and a
// confirmed work email), the team's decision, and the packet itself — a
// frozen set of published policy versions and document versions behind a
// share link, as watermarked PDFs whose SHA-256 sums are listed in a
// manifest signed with the company's Ed25519 key.
package packet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/publicform"
	"gorm.io/gorm"
)

// Settings are what packets need from the configuration.
type Settings struct {
	// BaseURL prefixes the links in emails.
	BaseURL string
	// AutoApproveDPACustomers approves a confirmed request at once when
	// its email's domain is that of a customer with a signed DPA.
	AutoApproveDPACustomers bool
	// AutoApproveDomains are further domains approved at once.
	AutoApproveDomains []string
	// TeamAddresses returns who hears of new requests.
	TeamAddresses func(ctx context.Context) ([]string, error)
	// Mail renders the emails; NewService parses its own when nil (the
	// composition root passes the one it shares).
	Mail *notify.Templates
	// WorkEmail refuses requests from free-mail addresses; NewService uses
	// the built-in free-mail list when nil (the composition root passes the
	// one built from the configured domains).
	WorkEmail WorkEmailCheck
}

// WorkEmailCheck refuses an address that is not a work address, with an
// Invalid error naming field; publicform.WorkEmail is the one in use.
type WorkEmailCheck interface {
	Check(field, email string) error
}

// Limits of a packet (SECURITY.md: links live at most 90 days).
const (
	DefaultExpiryDays = 30
	MaxExpiryDays     = 90
	ConfirmationTTL   = 7 * 24 * time.Hour
)

// Share-link purposes.
const (
	LinkPurpose             = "packet"
	ConfirmationLinkPurpose = "packet_request_confirmation"
)

// Service keeps requests and packets.
type Service struct {
	db   *gorm.DB
	now  func() time.Time
	orgs *org.Service
	// docs says which trust documents may be requested and stamps them;
	// files keeps the stamped copies, made once at approval.
	docs     *document.Service
	files    *files.Store
	key      ed25519.PrivateKey
	settings Settings
	// rendered keeps recently built PDFs by manifest hash and file name:
	// a packet's files never change, so a repeated download costs no
	// rendering.
	rendered *fileCache
	commits  *committer
	// accepted remembers NDA acceptances seen, by email and NDA version.
	accepted *keySet
	nda      *ndaCache
	check    *check.Validator
	// answers is the questionnaire answer library (SetAnswers).
	answers AnswerSource
}

// ndaCache keeps the NDA in force for a moment.
type ndaCache struct {
	mu      sync.Mutex
	version *NDAVersion
	read    time.Time
}

// NewService returns a Service; key signs manifests, docs and fileStore
// provide the trust documents a packet can hold.
func NewService(db *gorm.DB, now func() time.Time, orgs *org.Service, docs *document.Service, fileStore *files.Store, key ed25519.PrivateKey, settings Settings) *Service {
	if settings.Mail == nil {
		settings.Mail = notify.MustTemplates()
	}
	if settings.WorkEmail == nil {
		settings.WorkEmail = publicform.NewWorkEmail(nil)
	}
	s := &Service{db: db, now: now, orgs: orgs, docs: docs, files: fileStore, key: key, settings: settings, rendered: newFileCache(64), check: check.New()}
	s.commits = &committer{s: s}
	s.accepted = &keySet{keys: map[string]bool{}}
	s.nda = &ndaCache{}
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Service) link(path string) string { return strings.TrimRight(s.settings.BaseURL, "/") + path }

func (s *Service) mailDomain() string { return notify.MessageDomain(s.settings.BaseURL) }

// PublicKey is the key that verifies manifests.
func (s *Service) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

func (s *Service) company(ctx context.Context) (string, error) {
	o, err := s.orgs.Current(ctx)
	if err != nil || o.ID == 0 {
		return "The company", err
	}
	return o.Name, nil
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// newPublicID returns a packet ID such as PKT-7Q2M-4XKD: short enough to
// read out, random enough not to be guessed (40 bits).
func newPublicID() (string, error) {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ" // no 0/O, 1/I
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	out := []byte("PKT-XXXX-XXXX")
	j := 0
	for i := range out {
		if out[i] == 'X' {
			out[i] = alphabet[int(b[j])%len(alphabet)]
			j++
		}
	}
	return string(out), nil
}

// fileCache is a small least-recently-added cache of rendered files.
type fileCache struct {
	mu    sync.Mutex
	max   int
	order []string
	files map[string][]byte
}

func newFileCache(max int) *fileCache { return &fileCache{max: max, files: map[string][]byte{}} }

func (c *fileCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.files[key]
	return b, ok
}

func (c *fileCache) put(key string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.files[key]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.files, c.order[0])
		c.order = c.order[1:]
	}
	c.order = append(c.order, key)
	c.files[key] = b
}

func notFound(what string) error { return apperr.New(apperr.NotFound, "no such "+what) }

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// keySet is a set of strings safe for concurrent use.
type keySet struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (k *keySet) has(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[key]
}

func (k *keySet) add(key string) {
	k.mu.Lock()
	k.keys[key] = true
	k.mu.Unlock()
}
