package policy

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a policy as shipped in policies/: front matter and body.
type Template struct {
	Slug                 string   `yaml:"slug"`
	Title                string   `yaml:"title"`
	OwnerRole            string   `yaml:"owner_role"`
	ReviewIntervalMonths int      `yaml:"review_interval_months"`
	TSC                  []string `yaml:"tsc"`
	Body                 string   `yaml:"-"`
}

var (
	slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	tscPattern  = regexp.MustCompile(`^(CC[1-9]\.[0-9]+|A1\.[0-9]+|C1\.[0-9]+|PI1\.[0-9]+|P[1-8]\.[0-9]+)$`)
)

// ParseTemplate reads a Markdown file with YAML front matter between "---"
// lines. Errors name the file and the field.
func ParseTemplate(name string, data []byte) (Template, error) {
	var t Template
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	rest, ok := bytes.CutPrefix(data, []byte("---\n"))
	if !ok {
		return t, fmt.Errorf("%s: missing front matter (the file must start with a --- line)", name)
	}
	front, body, ok := bytes.Cut(rest, []byte("\n---\n"))
	if !ok {
		return t, fmt.Errorf("%s: front matter is not closed by a --- line", name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(front))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return t, fmt.Errorf("%s: front matter: %w", name, err)
	}
	t.Body = strings.TrimLeft(string(body), "\n")
	switch {
	case !slugPattern.MatchString(t.Slug):
		return t, fmt.Errorf("%s: slug %q must be lower-case words joined by hyphens", name, t.Slug)
	case strings.TrimSpace(t.Title) == "":
		return t, fmt.Errorf("%s: title is required", name)
	case strings.TrimSpace(t.OwnerRole) == "":
		return t, fmt.Errorf("%s: owner_role is required", name)
	case t.ReviewIntervalMonths < 1 || t.ReviewIntervalMonths > 36:
		return t, fmt.Errorf("%s: review_interval_months must be between 1 and 36", name)
	case len(t.TSC) == 0:
		return t, fmt.Errorf("%s: tsc must list at least one Trust Services Criterion", name)
	case strings.TrimSpace(t.Body) == "":
		return t, fmt.Errorf("%s: the policy text is empty", name)
	}
	for _, c := range t.TSC {
		if !tscPattern.MatchString(c) {
			return t, fmt.Errorf("%s: tsc entry %q is not a Trust Services Criterion such as CC6.1", name, c)
		}
	}
	return t, nil
}

// LoadTemplates parses every .md file at the top of fsys, ordered by slug.
func LoadTemplates(fsys fs.FS) ([]Template, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Template
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".md" || e.Name() == "README.md" {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		t, err := ParseTemplate(e.Name(), data)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[t.Slug]; dup {
			return nil, fmt.Errorf("%s: slug %q is also used by %s", e.Name(), t.Slug, prev)
		}
		seen[t.Slug] = e.Name()
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out, nil
}
