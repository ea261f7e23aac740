package server

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/privacy"
)

// humanValues are the stored values whose words alone would not read
// right.
var humanValues = map[string]string{
	"pentest_summary": "Penetration test summary",
	"partly":          "In part",
	"on_request":      "On request",
	"start-verifying": "Start verifying",
}

// humanWords are the words written in capitals, or otherwise, wherever
// they stand in a value.
var humanWords = map[string]string{
	"api": "API", "csv": "CSV", "cve": "CVE", "dpa": "DPA", "dpf": "DPF", "eu": "EU", "gdpr": "GDPR", "idta": "IDTA",
	"iso": "ISO", "mfa": "MFA", "nda": "NDA", "pdf": "PDF", "scc": "SCC", "soc2": "SOC 2", "sso": "SSO", "uk": "UK", "us": "US",
}

// human shows a stored value (a status, a severity, a kind, a role) as
// people read it, with the seed's capitalisation: "in_progress" → "In
// progress", "medium" → "Medium", "soc2_report" → "SOC 2 report". Pages
// pass the values they display through it; API JSON, CSV exports, form
// values and CSS classes keep the raw value. A value that already has a
// space or a capital is text someone wrote, and is shown as it is.
func human(v any) string {
	s := fmt.Sprint(v)
	if label, ok := humanValues[s]; ok {
		return label
	}
	// The areas' own labels: laws and transfer mechanisms.
	if label := dsar.LawLabel(s); label != s {
		return label
	}
	if label := privacy.MechanismLabel(s); label != s {
		return label
	}
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsUpper(r) }) {
		return s
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' })
	for i, w := range words {
		if special, ok := humanWords[w]; ok {
			words[i] = special
		} else if i == 0 {
			r, n := utf8.DecodeRuneInString(w)
			words[i] = string(unicode.ToUpper(r)) + w[n:]
		}
	}
	return strings.Join(words, " ")
}
