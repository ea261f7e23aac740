package policy_test

import (
	"testing"

	"github.com/charter-registry/charter/internal/policy"
)

// FuzzParseTemplate: front matter of any shape parses or is refused, never
// panics, and an accepted template has a slug, a title and a body.
func FuzzParseTemplate(f *testing.F) {
	f.Add([]byte("---\nslug: backup\ntitle: Backup Policy\nowner_role: CTO\nreview_interval_months: 12\ntsc: [A1.2]\n---\n# Backup\n\nText.\n"))
	f.Add([]byte("---\r\nslug: x\r\n---\r\n"))
	f.Add([]byte("---\nslug: [1, 2\n---\nbody"))
	f.Add([]byte("no front matter"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := policy.ParseTemplate("fuzz.md", data)
		if err != nil {
			return
		}
		if tpl.Slug == "" || tpl.Title == "" || tpl.Body == "" {
			t.Fatalf("accepted an incomplete template: %+v", tpl)
		}
	})
}
