package notify

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
)

// NormalizeAddress is the form in which email addresses are stored and
// compared: trimmed and lower-cased. It is the one normaliser; every area
// stores and looks up addresses through it so that they compare equal.
func NormalizeAddress(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// AddressProblem is what a form says of an address ValidAddress refuses.
const AddressProblem = "must be an email address such as name@example.com"

// ValidAddress accepts a bare address such as ana@example.com (no display
// name, no angle brackets) whose domain is a name with a dot: mail to
// legal@acme or to an address literal would not reach anyone outside.
func ValidAddress(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	return validDomain(s[strings.LastIndexByte(s, '@')+1:])
}

// validDomain accepts a host name of two labels or more, each of letters,
// digits and inner hyphens, the last one not all digits.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return strings.TrimFunc(labels[len(labels)-1], unicode.IsDigit) != ""
}

// MessageDomain is the domain of the Message-IDs of emails whose links
// point at baseURL.
func MessageDomain(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "charter.invalid"
}
