package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// approvalEmails returns the addresses of the approval requests queued.
func approvalEmails(t *testing.T, e *env) []string {
	t.Helper()
	var to []string
	if err := e.st.DB.Model(&notify.Message{}).Where("kind = ?", "approval_request").Order("to_addr").Pluck("to_addr", &to).Error; err != nil {
		t.Fatal(err)
	}
	return to
}

// approveButton matches a version page's Approve form.
var approveButton = regexp.MustCompile(`action="/app/policies/backup/versions/1\.1/approve"`)

func TestSubmittingADraftReachesItsApprover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		author, approver, other := e.browser().login("editor"), e.browser().login("editor2"), e.browser().login("admin")

		// The form offers the other editors and admins, never the author.
		r := author.get("/app/policies/backup/versions/new")
		if !strings.Contains(r.body, `<option value="`+e.emails["editor2"]+`"`) || strings.Contains(r.body, `<option value="`+e.emails["editor"]+`"`) {
			t.Fatalf("approver choices wrong:\n%s", r.body)
		}
		r = author.post("/app/policies/backup/versions", url.Values{"body": {"# Backup\n\nHourly."}, "change_summary": {"Hourly"},
			"material": {"minor"}, "approver": {e.emails["editor2"]}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("submit: %d %s", r.status, r.body)
		}
		if got := approvalEmails(t, e); len(got) != 1 || got[0] != e.emails["editor2"] {
			t.Fatalf("approval emails to %v, want only the named approver", got)
		}
		if ev := e.lastEvent(); ev.Action != "policy.version.submitted" {
			t.Fatalf("last event %s", ev.Action)
		}

		// Only the named approver (and an admin) sees the Approve button.
		for _, c := range []struct {
			name string
			b    *browser
			want bool
		}{{"author", author, false}, {"named approver", approver, true}, {"admin", other, true}} {
			r := c.b.get("/app/policies/backup/versions/1.1")
			if r.status != http.StatusOK || approveButton.MatchString(r.body) != c.want {
				t.Errorf("%s: status %d, Approve button shown %v, want %v", c.name, r.status, !c.want, c.want)
			}
		}
		// The author's waiting list has no draft to approve; the approver's does.
		if r := author.get("/app/waiting"); strings.Contains(r.body, "Drafts to approve") {
			t.Fatalf("author's list offers their own draft")
		}
		r = approver.get("/app/waiting")
		if r.status != http.StatusOK || !strings.Contains(r.body, "Drafts to approve") || !approveButton.MatchString(r.body) {
			t.Fatalf("approver's list: %d\n%s", r.status, r.body)
		}
		// Approving from the list returns to it.
		r = approver.post("/app/policies/backup/versions/1.1/approve", url.Values{"next": {"/app/waiting"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/waiting" {
			t.Fatalf("approve from the list: %d %s", r.status, r.header.Get("Location"))
		}
		if r := author.get("/app/waiting"); !strings.Contains(r.body, "Approved, to publish") {
			t.Fatalf("the approved version is not waiting for publication:\n%s", r.body)
		}
	})
}

func TestVersionFormRequiresAChoiceAndAChange(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ed := e.browser().login("editor")
	if r := ed.get("/app/policies/backup/versions/new"); strings.Contains(r.body, `value="minor" checked`) || strings.Contains(r.body, `value="major" checked`) {
		t.Fatalf("a kind of change is preselected")
	}
	cases := []struct {
		name, field, want string
		form              url.Values
	}{
		{"no kind of change", "material", "Kind of change must be chosen: major (everyone acknowledges it again) or minor",
			url.Values{"body": {"# Backup\n\nHourly."}, "change_summary": {"Hourly"}}},
		{"unchanged text", "body", "is the same as the published version 1.0",
			url.Values{"body": {policyText(t, e, "backup")}, "change_summary": {"Nothing"}, "material": {"minor"}}},
		{"approver is the author", "approver", "someone other than",
			url.Values{"body": {"# Backup\n\nHourly."}, "change_summary": {"Hourly"}, "material": {"minor"}, "approver": {e.emails["editor"]}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ed.post("/app/policies/backup/versions", c.form)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, c.want) || !strings.Contains(r.body, `id="`+c.field+`-error"`) {
				t.Fatalf("%d, want 422 with %q beside %s:\n%s", r.status, c.want, c.field, r.body)
			}
			if c.form.Get("change_summary") != "" && !strings.Contains(r.body, `value="`+c.form.Get("change_summary")+`"`) {
				t.Errorf("typed summary lost")
			}
		})
	}
	// Every problem at once.
	r := ed.post("/app/policies/backup/versions", url.Values{"body": {policyText(t, e, "backup")}, "change_summary": {"Nothing"}, "approver": {e.emails["viewer"]}})
	for _, field := range []string{"material", "body", "approver"} {
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="`+field+`-error"`) {
			t.Errorf("all at once: %d, no error beside %s", r.status, field)
		}
	}
	// The API refuses a draft without material, as before.
	status, body := e.api("editor", http.MethodPost, "/api/v1/policies/backup/versions", map[string]any{"body": "x", "change_summary": "y"})
	if status != http.StatusUnprocessableEntity || !strings.Contains(jsonString(body), "material") {
		t.Fatalf("API without material: %d %v", status, body)
	}
}

func policyText(t *testing.T, e *env, slug string) string {
	t.Helper()
	status, body := e.api("viewer", http.MethodGet, "/api/v1/policies/"+slug, nil)
	if status != http.StatusOK {
		t.Fatalf("policy %s: %d", slug, status)
	}
	return body["current_version"].(map[string]any)["body"].(string)
}

func jsonString(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				b.WriteString(k + " ")
				walk(y)
			}
		case string:
			b.WriteString(x + " ")
		}
	}
	walk(v)
	return b.String()
}

func TestAPINamesAnApprover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		status, body := e.api("editor", http.MethodPost, "/api/v1/policies/backup/versions",
			map[string]any{"body": "# Backup\n\nHourly.", "change_summary": "Hourly", "material": false, "approver": e.emails["admin"]})
		if status != http.StatusCreated || body["approver"] != e.emails["admin"] || body["submitted_at"] == nil {
			t.Fatalf("create: %d %v", status, body)
		}
		if status, _ := e.api("editor2", http.MethodPost, "/api/v1/policies/backup/versions/1.1/approve", nil); status != http.StatusForbidden {
			t.Fatalf("another editor approving a draft named to the admin: %d, want 403", status)
		}
		if status, _ := e.api("admin", http.MethodPost, "/api/v1/policies/backup/versions/1.1/approve", nil); status != http.StatusOK {
			t.Fatalf("the named approver: %d", status)
		}
	})
}

// The waiting list shows each role only what it may see: a viewer gets
// neither drafts to approve nor privacy requests, and no action forms.
func TestWaitingListByRole(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.browser().login("editor").post("/app/policies/backup/versions", url.Values{"body": {"# Backup\n\nHourly."}, "change_summary": {"Hourly"}, "material": {"minor"}})
	for _, role := range []string{"viewer", "auditor"} {
		r := e.browser().login(role).get("/app/waiting")
		if r.status != http.StatusOK || strings.Contains(r.body, "Drafts to approve") || strings.Contains(r.body, "/approve") {
			t.Errorf("%s: %d, offers approval", role, r.status)
		}
	}
	r := e.browser().login("editor2").get("/app/")
	if !strings.Contains(r.body, "Waiting for you") || !strings.Contains(r.body, "Backup Policy 1.1") || !strings.Contains(r.body, `href="/app/waiting"`) {
		t.Fatalf("overview lacks the waiting section:\n%s", r.body)
	}
}

// Every count card of the overview links to a list, and that list filters
// to the set the card counts.
func TestOverviewCardsLinkToFilteredLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		ed.post("/app/policies/backup/versions", url.Values{"body": {"# Backup\n\nHourly."}, "change_summary": {"Hourly"}, "material": {"minor"}})
		r := ed.get("/app/")
		cards := regexp.MustCompile(`<a class="card[^"]*" href="([^"]+)"`).FindAllStringSubmatch(r.body, -1)
		if len(cards) < 17 {
			t.Fatalf("%d card links, want every card a link", len(cards))
		}
		for _, c := range cards {
			href := strings.ReplaceAll(c[1], "&amp;", "&")
			if r := ed.get(href); r.status != http.StatusOK {
				t.Errorf("card %s: %d", href, r.status)
			}
		}
		// The filters themselves.
		filtered := []struct {
			path, want, absent string
		}{
			{"/app/policies?status=draft", "Backup Policy", "Access Control Policy"},
			{"/app/policies?status=approved", "0 policies", "Backup Policy"},
			{"/app/policies?review=overdue", "0 policies", "Backup Policy"},
			{"/app/policies?status=published", "20 policies", ""},
			{"/app/privacy-requests?status=open", "open requests only", ""},
			{"/app/privacy/subprocessors?notices=objected", "pending changes with objections", ""},
			{"/app/packets?status=pending", "Requests: pending", ""},
			{"/app/people?active=1", "Active employees only", ""},
		}
		for _, f := range filtered {
			r := ed.get(f.path)
			if r.status != http.StatusOK || !strings.Contains(r.body, f.want) || (f.absent != "" && strings.Contains(r.body, f.absent)) {
				t.Errorf("%s: %d, want %q without %q", f.path, r.status, f.want, f.absent)
			}
		}
		for _, bad := range []string{"/app/policies?status=lost", "/app/policies?review=soon", "/app/privacy-requests?status=shut", "/app/privacy/dpas?status=opened"} {
			if r := ed.get(bad); r.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", bad, r.status)
			}
		}
	})
}
