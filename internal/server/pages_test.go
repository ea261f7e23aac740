package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestDashboardPolicyWorkflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		ed2 := e.browser().login("editor2")

		if r := ed.get("/app/policies/backup/versions/new"); r.status != http.StatusOK || !strings.Contains(r.body, "# Backup Policy") {
			t.Fatalf("editor form: %d", r.status)
		}
		// Preview renders the Markdown without saving.
		r := ed.post("/app/policies/backup/versions", url.Values{"body": {"# Backup\n\n**Hourly** <script>alert(1)</script>"}, "change_summary": {"x"}, "material": {"minor"}, "preview": {"1"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, "<strong>Hourly</strong>") || strings.Contains(r.body, "<script>alert") {
			t.Fatalf("preview: %d", r.status)
		}
		// Missing summary: 422, message beside the field, text kept.
		r = ed.post("/app/policies/backup/versions", url.Values{"body": {"# Backup\n\nHourly snapshots."}, "change_summary": {""}, "material": {"major"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="change_summary-error"`) || !strings.Contains(r.body, "Hourly snapshots.") {
			t.Fatalf("invalid form: %d", r.status)
		}
		r = ed.post("/app/policies/backup/versions", url.Values{"body": {"# Backup\n\nHourly snapshots."}, "change_summary": {"Hourly snapshots"}, "material": {"major"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/policies/backup/versions/2.0" {
			t.Fatalf("save draft: %d %s", r.status, r.header.Get("Location"))
		}
		r = ed.post("/app/policies/backup/versions/2.0/approve", nil)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "another user must approve it") {
			t.Fatalf("self-approval from the dashboard: %d", r.status)
		}
		if r = ed2.post("/app/policies/backup/versions/2.0/approve", nil); r.status != http.StatusSeeOther {
			t.Fatalf("approve: %d", r.status)
		}
		if r = ed.post("/app/policies/backup/versions/2.0/publish", nil); r.status != http.StatusSeeOther {
			t.Fatalf("publish: %d", r.status)
		}
		r = ed.get("/app/policies/backup")
		if !strings.Contains(r.body, "2.0, published") || !strings.Contains(r.body, "Version 2.0 published.") {
			t.Fatalf("policy page after publishing: %s", r.body)
		}
		r = ed.post("/app/policies/backup/versions/2.0/edit", url.Values{"body": {"x"}, "change_summary": {"y"}, "material": {"minor"}})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "cannot be changed") {
			t.Fatalf("editing a published version: %d", r.status)
		}
		r = ed.get("/app/policies/backup/diff?from=1.0&to=2.0")
		if r.status != http.StatusOK || !strings.Contains(r.body, `class="d-add"`) || !strings.Contains(r.body, "Hourly snapshots.") {
			t.Fatalf("diff: %d", r.status)
		}
		if strings.Contains(r.body, `class="d-gap"`) || !strings.Contains(r.body, `href="?from=1.0&amp;to=2.0&amp;view=changes"`) {
			t.Fatal("the whole-text diff hides lines or has no link to the changes only")
		}
		r = ed.get("/app/policies/backup/diff?from=1.0&to=2.0&view=changes")
		if r.status != http.StatusOK || !strings.Contains(r.body, `<strong aria-current="page">changes only</strong>`) || !strings.Contains(r.body, `name="view" value="changes"`) ||
			!strings.Contains(r.body, "Hourly snapshots.") {
			t.Fatalf("changes-only diff: %d", r.status)
		}
	})
}

func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	admin := e.browser().login("admin")
	admin.post("/app/policies/password/versions", url.Values{"body": {"new"}, "change_summary": {"s"}, "material": {"minor"}})
	pages := map[string]string{
		"/app/":         "Overview",
		"/app/policies": "Policies",
		"/app/policies?sort=next_review&order=desc": "Next review",
		"/app/policies/password":                    "Current text",
		"/app/policies/password/versions/1.0":       "published",
		"/app/policies/password/versions/1.1":       "Awaiting approval",
		"/app/policies/password/versions/1.1/edit":  "Save and submit for approval",
		"/app/policies/password/versions/new":       "already in preparation",
		"/app/policies/password/diff":               "Compare versions",
		"/app/audit":                                "policy.version.drafted",
		"/app/organization":                         "Hiberly Ltd.",
		"/app/audit?actor=admin&action=policy.version.drafted&from=2000-01-01&to=2100-01-01": "policy.version.drafted",
	}
	for path, want := range pages {
		r := admin.get(path)
		if r.status != http.StatusOK || !strings.Contains(r.body, want) {
			t.Errorf("GET %s: %d, want 200 containing %q", path, r.status, want)
		}
	}
	bad := map[string]int{
		"/app/policies/nope":                       http.StatusNotFound,
		"/app/policies/backup/diff":                http.StatusNotFound, // a single version
		"/app/policies?sort=drop":                  http.StatusUnprocessableEntity,
		"/app/audit?from=2024-13-01":               http.StatusUnprocessableEntity,
		"/app/policies/backup/versions/x":          http.StatusNotFound,
		"/app/policies/password/versions/1.0/edit": http.StatusConflict,
	}
	for path, want := range bad {
		if r := admin.get(path); r.status != want {
			t.Errorf("GET %s: %d, want %d", path, r.status, want)
		}
	}
	// Pagination of the audit trail.
	r := admin.get("/app/audit?action=policy.seeded&limit=10")
	if !strings.Contains(r.body, "Older events") || !strings.Contains(r.body, "before=") {
		t.Error("audit page with more events than its limit has no next link")
	}
	if r := e.browser().get("/login"); r.status != http.StatusOK || !strings.Contains(r.body, "Sign in") {
		t.Errorf("GET /login: %d", r.status)
	}
}

func TestViewerSeesNoEditingActions(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	v := e.browser().login("viewer")
	r := v.get("/app/policies/backup")
	if strings.Contains(r.body, "New version") || strings.Contains(r.body, "Record a review") {
		t.Fatal("viewer is offered editing actions")
	}
	if !strings.Contains(r.body, "SHA-256") {
		t.Fatal("policy page lacks the hash")
	}
}
