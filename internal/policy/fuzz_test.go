package policy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
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

// FuzzListSort: any sort parameter lists every policy, or is refused with
// an error naming the sort field; it never reaches SQL.
func FuzzListSort(f *testing.F) {
	for _, s := range append(policy.SortColumns(), "", "title; DROP TABLE policies", "TITLE", "title ") {
		f.Add(s, false)
	}
	st := storetest.SQLite(f)
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		f.Fatal(err)
	}
	svc := policy.NewService(st.DB, time.Now)
	if _, err := svc.Seed(context.Background(), audit.System("fuzz"), templates); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sort string, desc bool) {
		list, err := svc.List(context.Background(), policy.ListOptions{Sort: sort, Desc: desc})
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Fields["sort"] == "" {
				t.Fatalf("sort %q: %v", sort, err)
			}
			return
		}
		if len(list) != len(templates) {
			t.Fatalf("sort %q listed %d of %d policies", sort, len(list), len(templates))
		}
	})
}
