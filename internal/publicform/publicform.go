// Package publicform holds what every public form shares beyond CSRF
// (which the server applies): the limits per client network, per
// recipient address and per form, counted in the database; the expiry of
// submissions whose address was never confirmed; and the work-email check
// against a list of free-mail domains.
package publicform

import (
	_ "embed"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/notify"
)

// freeMail is the built-in list of free-mail and disposable domains, one
// per line.
//
//go:embed freemail.txt
var freeMail string

// WorkEmail refuses addresses at free-mail domains.
type WorkEmail struct{ domains map[string]bool }

// NewWorkEmail returns a check against domains, or the built-in list when
// domains is empty.
func NewWorkEmail(domains []string) *WorkEmail {
	if len(domains) == 0 {
		domains = strings.Fields(freeMail)
	}
	w := &WorkEmail{domains: map[string]bool{}}
	for _, d := range domains {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" && !strings.HasPrefix(d, "#") {
			w.domains[d] = true
		}
	}
	return w
}

// Check returns an Invalid error naming field when email is at a
// free-mail domain (or a subdomain of one).
func (w *WorkEmail) Check(field, email string) error {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return apperr.Field(field, notify.AddressProblem)
	}
	domain := strings.ToLower(strings.TrimSpace(email[at+1:]))
	for d := domain; d != ""; {
		if w.domains[d] {
			return apperr.Field(field, "must be your work email address; "+domain+" is a free-mail provider")
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			break
		}
		d = rest
	}
	return nil
}
