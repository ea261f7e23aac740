package notify

import (
	"net/mail"
	"net/url"
	"strings"
)

// NormalizeAddress is the form in which email addresses are stored and
// compared: trimmed and lower-cased. It is the one normaliser; every area
// stores and looks up addresses through it so that they compare equal.
func NormalizeAddress(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidAddress accepts a bare address such as ana@example.com (no display
// name, no angle brackets).
func ValidAddress(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// MessageDomain is the domain of the Message-IDs of emails whose links
// point at baseURL.
func MessageDomain(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "charter.invalid"
}
