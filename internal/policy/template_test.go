package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/policies"
)

// The twenty policies named on the company's Security & Privacy page.
var seedTitles = []string{
	"Acceptable Use Policy", "Asset Management Policy", "Backup Policy", "Business Continuity Plan",
	"Code of Conduct", "Data Classification Policy", "Data Deletion Policy", "Data Protection Policy",
	"Disaster Recovery Plan", "Encryption Policy", "Incident Response Plan", "Information Security Policy",
	"Password Policy", "Physical Security Policy", "Responsible Disclosure Policy", "Risk Assessment Policy",
	"Software Development Lifecycle Policy", "System Access Control Policy", "Vendor Management Policy",
	"Vulnerability Management Policy",
}

func TestTemplatesAreTheTwentySeedPolicies(t *testing.T) {
	ts, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]policy.Template{}
	for _, tpl := range ts {
		titles[tpl.Title] = tpl
	}
	if len(ts) != len(seedTitles) {
		t.Fatalf("%d templates, want %d", len(ts), len(seedTitles))
	}
	sections := []string{"## Purpose", "## Scope", "## Policy statements", "## Roles and responsibilities", "## Exceptions", "## Enforcement", "## Review"}
	for _, title := range seedTitles {
		tpl, ok := titles[title]
		if !ok {
			t.Errorf("no template for %q", title)
			continue
		}
		if n := len(strings.Fields(tpl.Body)); n < 400 {
			t.Errorf("%s: %d words, want at least 400", tpl.Slug, n)
		}
		for _, s := range sections {
			if !strings.Contains(tpl.Body, s) {
				t.Errorf("%s: missing section %q", tpl.Slug, s)
			}
		}
		for _, placeholder := range []string{"TODO", "TBD", "lorem", "[Company", "XXX"} {
			if strings.Contains(tpl.Body, placeholder) {
				t.Errorf("%s: contains placeholder %q", tpl.Slug, placeholder)
			}
		}
	}
}

func TestParseTemplateErrorsNameTheProblem(t *testing.T) {
	good := "---\nslug: x-y\ntitle: X\nowner_role: CTO\nreview_interval_months: 12\ntsc: [CC1.1]\n---\nBody\n"
	cases := []struct {
		name, src, want string
	}{
		{"no front matter", "Body", "missing front matter"},
		{"unclosed", "---\nslug: x\n", "not closed"},
		{"bad slug", strings.Replace(good, "x-y", "X Y", 1), "slug"},
		{"no title", strings.Replace(good, "title: X", "title: ''", 1), "title"},
		{"interval", strings.Replace(good, "12", "0", 1), "review_interval_months"},
		{"tsc", strings.Replace(good, "CC1.1", "SOC2", 1), "tsc"},
		{"unknown key", strings.Replace(good, "title: X", "title: X\ncolour: red", 1), "colour"},
		{"empty body", strings.Replace(good, "Body\n", "", 1), "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := policy.ParseTemplate("f.md", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want mention of %q", err, c.want)
			}
		})
	}
	if _, err := policy.ParseTemplate("f.md", []byte(strings.ReplaceAll(good, "\n", "\r\n"))); err != nil {
		t.Fatalf("CRLF file: %v", err)
	}
}

func TestDiffLines(t *testing.T) {
	cases := []struct {
		name, a, b string
		want       string // ops as a string: s same, a add, r remove
	}{
		{"equal", "a\nb\n", "a\nb\n", "ss"},
		{"append", "a\n", "a\nb\n", "sa"},
		{"remove middle", "a\nb\nc\n", "a\nc\n", "srs"},
		{"replace", "a\nb\nc\n", "a\nx\nc\n", "sras"},
		{"from empty", "", "a\n", "a"},
		{"to empty", "a\n", "", "r"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got strings.Builder
			for _, l := range policy.DiffLines(c.a, c.b) {
				got.WriteByte(map[policy.DiffOp]byte{policy.DiffSame: 's', policy.DiffAdd: 'a', policy.DiffRemove: 'r'}[l.Op])
			}
			if got.String() != c.want {
				t.Fatalf("ops %q, want %q", got.String(), c.want)
			}
		})
	}
}

func TestChangesOnly(t *testing.T) {
	lines := func(n int, from int) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	cases := []struct {
		name, a, b string
		want       string // ops: s same, a add, r remove, gN a gap of N lines
	}{
		{"no change is one gap", lines(10, 1), lines(10, 1), "g10"},
		{"a replaced line keeps three lines each side", lines(20, 1), lines(9, 1) + "new\n" + lines(10, 11), "g6sssrasssg7"},
		{"change at the start", lines(10, 1), "new\n" + lines(10, 1), "asssg7"},
		{"change at the end", lines(10, 1), lines(9, 1), "g6sssr"},
		{"close changes share their context", lines(10, 1), "x\n" + lines(3, 2) + "y\n" + lines(5, 6), "rasssrasssg2"},
		{"from empty", "", "a\nb\n", "aa"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got strings.Builder
			for _, l := range policy.ChangesOnly(policy.DiffLines(c.a, c.b), policy.DiffContextLines) {
				if l.Op == policy.DiffGap {
					fmt.Fprintf(&got, "g%d", l.Skipped)
					continue
				}
				got.WriteByte(map[policy.DiffOp]byte{policy.DiffSame: 's', policy.DiffAdd: 'a', policy.DiffRemove: 'r'}[l.Op])
			}
			if got.String() != c.want {
				t.Fatalf("ops %q, want %q", got.String(), c.want)
			}
		})
	}
}

func TestParseNumber(t *testing.T) {
	for s, ok := range map[string]bool{"1.0": true, "12.3": true, "1": false, "1.x": false, "01.0": false, "-1.0": false, "1.0.0": false, "": false} {
		if _, _, got := policy.ParseNumber(s); got != ok {
			t.Errorf("ParseNumber(%q) ok = %v, want %v", s, got, ok)
		}
	}
}
