package server_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func fullAdvisory() map[string]any {
	return map[string]any{"title": "Stored XSS in dashboard names", "date": "2026-03-08", "cve": "CVE-2026-12345", "severity": "critical",
		"status": "fixed", "description": "A dashboard name could carry a **script**.", "affected_products": "Product analytics\nDashboards",
		"affected_regions": "EU", "resolution": "Names are now escaped.", "fix_links": "https://github.com/example/repo/pull/1",
		"discovered_on": "2026-03-01", "reported_on": "2026-03-02", "fixed_on": "2026-03-03", "disclosed_on": "2026-03-08",
		"declare_incident": map[string]any{"title": "Dashboard XSS", "severity": "critical"}}
}

func TestAdvisoriesFromDraftToPublic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		// Refusals name the field.
		for field, edit := range map[string]func(map[string]any){
			"cve":         func(m map[string]any) { m["cve"] = "CVE-2026-1" },
			"fixed_on":    func(m map[string]any) { m["fixed_on"] = "2026-02-01" },
			"incident_id": func(m map[string]any) { delete(m, "declare_incident") },
		} {
			in := fullAdvisory()
			edit(in)
			code, body := e.api("editor", http.MethodPost, "/api/v1/advisories", in)
			fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
			if code != http.StatusUnprocessableEntity || fields[field] == nil {
				t.Errorf("%s: %d %v", field, code, body)
			}
		}
		code, a := e.api("editor", http.MethodPost, "/api/v1/advisories", fullAdvisory())
		if code != http.StatusCreated || a["id"] != "POSTHOG-SA-2026-0001" || a["published"] != false {
			t.Fatalf("create: %d %v", code, a)
		}
		id := a["id"].(string)
		visitor := e.browser()
		// A draft appears on no public page or feed.
		if r := visitor.get("/trust/advisories"); !strings.Contains(r.body, "No active advisories") || strings.Contains(r.body, "Stored XSS") {
			t.Fatal("a draft is on the advisories page")
		}
		if r := visitor.get("/trust/advisories/" + id); r.status != http.StatusNotFound {
			t.Fatalf("draft page: %d", r.status)
		}
		for _, feed := range []string{"/trust/advisories.json", "/trust/advisories.atom", "/trust"} {
			if r := visitor.get(feed); strings.Contains(r.body, "Stored XSS") || strings.Contains(r.body, id) {
				t.Fatalf("a draft is in %s", feed)
			}
		}
		if code, _ := e.api("editor", http.MethodPost, "/api/v1/advisories/"+id+"/publish", nil); code != http.StatusOK {
			t.Fatalf("publish: %d", code)
		}
		list := visitor.get("/trust/advisories")
		if !strings.Contains(list.body, "Stored XSS") || strings.Contains(list.body, "No active advisories") || !strings.Contains(list.body, "status.posthog.com") {
			t.Fatal("the published advisory is not current")
		}
		page := visitor.get("/trust/advisories/" + id)
		for _, want := range []string{"Date:</strong> 2026-03-08", "CVE:</strong> CVE-2026-12345", "Severity:</strong>", ">Critical<", "Status:</strong> Fixed", // the seed writes "Critical", "Fixed"
			"<h2>Description</h2>", "<strong>script</strong>", "<h2>Affected users</h2>", "Product analytics, Dashboards", "EU customers only",
			"<h2>Resolution</h2>", "Names are now escaped.", "https://github.com/example/repo/pull/1", "<h2>Timeline</h2>",
			"Discovered:</strong> 2026-03-01", "Reported:</strong> 2026-03-02", "Fixed:</strong> 2026-03-03", "Disclosed:</strong> 2026-03-08"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("advisory page lacks %q", want)
			}
		}
		// OSV: required fields and formats.
		var osv []map[string]any
		if err := json.Unmarshal([]byte(visitor.get("/trust/advisories.json").body), &osv); err != nil || len(osv) != 1 {
			t.Fatalf("OSV: %v %d", err, len(osv))
		}
		o := osv[0]
		for _, f := range []string{"schema_version", "id", "modified", "published", "summary", "details"} {
			if s, ok := o[f].(string); !ok || s == "" {
				t.Errorf("OSV lacks %s", f)
			}
		}
		for _, f := range []string{"modified", "published"} {
			if _, err := time.Parse(time.RFC3339, o[f].(string)); err != nil || !strings.HasSuffix(o[f].(string), "Z") {
				t.Errorf("OSV %s %q is not RFC 3339 UTC", f, o[f])
			}
		}
		if aliases, _ := o["aliases"].([]any); len(aliases) != 1 || aliases[0] != "CVE-2026-12345" {
			t.Errorf("aliases %v", o["aliases"])
		}
		if _, hasSeverity := o["severity"]; hasSeverity || o["database_specific"].(map[string]any)["severity"] != "Critical" {
			t.Errorf("severity belongs in database_specific: %v", o)
		}
		for _, ref := range o["references"].([]any) {
			r := ref.(map[string]any)
			if r["type"] != "ADVISORY" && r["type"] != "FIX" {
				t.Errorf("reference type %v", r["type"])
			}
		}
		var feed struct {
			XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
			Entries []struct {
				Title string `xml:"title"`
				ID    string `xml:"id"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal([]byte(visitor.get("/trust/advisories.atom").body), &feed); err != nil || len(feed.Entries) != 1 || !strings.Contains(feed.Entries[0].Title, "CVE-2026-12345") {
			t.Fatalf("Atom: %v %+v", err, feed)
		}
		if r := visitor.get("/trust"); !strings.Contains(r.body, "Stored XSS in dashboard names") {
			t.Fatal("/trust lacks the advisory summary")
		}
		auditor := e.browser().login("auditor")
		if r := auditor.get("/app/exports/advisories.csv?from=2026-01-01&to=2026-12-31"); !strings.Contains(r.body, "POSTHOG-SA-2026-0001,Stored XSS in dashboard names,2026-03-08,CVE-2026-12345,critical,fixed,EU,Dashboard XSS") {
			t.Fatalf("advisories export: %s", r.body)
		}
		// The dashboard form declares an incident in the same step.
		ed := e.browser().login("editor")
		form := url.Values{"incident_id": {"new"}, "incident_title": {"Leaked token"}, "incident_severity": {"high"}, "title": {"Token exposure"},
			"date": {"2026-04-01"}, "severity": {"high"}, "status": {"reported"}, "description": {"A token leaked."}, "affected_regions": {"US"}}
		if r := ed.post("/app/advisories", form); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/advisories/POSTHOG-SA-2026-0002" {
			t.Fatalf("dashboard create: %d %s", r.status, r.body)
		}
		if r := ed.get("/app/advisories"); !strings.Contains(r.body, "Leaked token") || !strings.Contains(r.body, "draft") {
			t.Fatal("the dashboard does not list the new incident and draft")
		}
		if code, _ := e.api("viewer", http.MethodPost, "/api/v1/advisories/POSTHOG-SA-2026-0002/publish", nil); code != http.StatusForbidden {
			t.Fatalf("a viewer published: %d", code)
		}
	})
}

func TestVulnerabilityReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		researcher := e.browser()
		researcher.get("/trust/security")
		if r := researcher.post("/trust/security", url.Values{"email": {"finder@gmail.com"}, "summary": {""}, "details": {"x"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Summary is required") {
			t.Fatalf("empty summary: %d", r.status)
		}
		r := researcher.post("/trust/security", url.Values{"email": {"finder@gmail.com"}, "summary": {"IDOR on /api/projects"}, "details": {"Any user can read any project."},
			"steps": {"1. Sign in\n2. Change the id"}, "product": {"Product analytics"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, `<strong id="reference">VR-`) {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
		var acks int64
		st.DB.Table("outbox").Where("kind = ? AND to_addr = ?", "vulnerability_report_ack", "finder@gmail.com").Count(&acks)
		var team int64
		st.DB.Table("outbox").Where("kind = ? AND to_addr = ?", "vulnerability_report", "security@posthog.com").Count(&team)
		if acks != 1 || team != 1 {
			t.Fatalf("emails: %d acknowledgements, %d to the security contact", acks, team)
		}
		code, list := e.api("editor", http.MethodGet, "/api/v1/vulnerability-reports?status=new", nil)
		items, _ := list["items"].([]any)
		if code != http.StatusOK || len(items) != 1 {
			t.Fatalf("queue: %d %v", code, list)
		}
		ref := items[0].(map[string]any)["reference"].(string)
		if code, _ := e.api("viewer", http.MethodGet, "/api/v1/vulnerability-reports", nil); code != http.StatusForbidden {
			t.Fatalf("a viewer read the reports: %d", code)
		}
		code, a := e.api("editor", http.MethodPost, "/api/v1/advisories", fullAdvisory())
		if code != http.StatusCreated {
			t.Fatal(a)
		}
		code, got := e.api("editor", http.MethodPut, "/api/v1/vulnerability-reports/"+ref, map[string]any{"status": "valid", "advisory": a["id"], "reward_note": "Swag pack sent", "notes": "Confirmed by the API team."})
		if code != http.StatusOK || got["status"] != "valid" || got["advisory"] != a["id"] || got["reward_note"] != "Swag pack sent" {
			t.Fatalf("triage: %d %v", code, got)
		}
		if code, body := e.api("editor", http.MethodPut, "/api/v1/vulnerability-reports/"+ref, map[string]any{"status": "pwned"}); code != http.StatusUnprocessableEntity || body["error"].(map[string]any)["fields"].(map[string]any)["status"] == nil {
			t.Fatalf("bad status: %d", code)
		}
		if r := e.browser().login("editor").get("/app/reports/" + ref); r.status != http.StatusOK || !strings.Contains(r.body, "Confirmed by the API team.") {
			t.Fatalf("report page: %d", r.status)
		}
	})
}

// The dashboard's incident, advisory and triage forms: each reads its
// fields, and a refusal re-renders the form naming the field.
func TestAdvisoryDashboardForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		if r := ed.post("/app/incidents", url.Values{"incident_title": {""}, "incident_severity": {"low"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "is required") {
			t.Fatalf("incident without a title: %d", r.status)
		}
		if r := ed.post("/app/incidents", url.Values{"incident_title": {"Phishing wave"}, "incident_severity": {"low"}, "incident_owner": {"ana"}}); r.status != http.StatusSeeOther {
			t.Fatalf("declare: %d %s", r.status, r.body)
		}
		_, list := e.api("viewer", http.MethodGet, "/api/v1/incidents", nil)
		inc := list["items"].([]any)[0].(map[string]any)
		incID := strconv.FormatFloat(inc["id"].(float64), 'f', 0, 64)
		if inc["title"] != "Phishing wave" || inc["owner"] != "ana" || inc["status"] != "declared" {
			t.Fatalf("declared: %v", inc)
		}
		if r := ed.post("/app/incidents/"+incID, url.Values{"incident_title": {"Phishing wave"}, "incident_severity": {"medium"}, "incident_owner": {"ana"},
			"incident_summary": {"Over."}, "incident_status": {"resolved"}}); r.status != http.StatusSeeOther {
			t.Fatalf("update incident: %d %s", r.status, r.body)
		}
		_, list = e.api("viewer", http.MethodGet, "/api/v1/incidents", nil)
		if inc := list["items"].([]any)[0].(map[string]any); inc["status"] != "resolved" || inc["severity"] != "medium" || inc["summary"] != "Over." {
			t.Fatalf("updated: %v", inc)
		}
		form := url.Values{"incident_id": {incID}, "title": {"Phished session"}, "date": {"2026-04-01"}, "severity": {"high"}, "status": {"reported"},
			"description": {"Sessions were phished."}, "affected_regions": {"EU"}, "cve": {"CVE-26-1"}}
		if r := ed.post("/app/advisories", form); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be a CVE ID") || !strings.Contains(r.body, "Sessions were phished.") {
			t.Fatalf("bad CVE: %d", r.status)
		}
		form.Set("cve", "")
		r := ed.post("/app/advisories", form)
		if r.status != http.StatusSeeOther {
			t.Fatalf("create on an incident: %d %s", r.status, r.body)
		}
		page := r.header.Get("Location")
		form.Set("status", "fixed")
		form.Set("fixed_on", "2026-04-02")
		if r := ed.post(page, form); r.status != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", r.status, r.body)
		}
		code, a := e.api("viewer", http.MethodGet, "/api/v1"+strings.TrimPrefix(page, "/app"), nil)
		if code != http.StatusOK || a["incident_id"] != inc["id"] || a["status"] != "fixed" || a["affected_regions"] != "EU" {
			t.Fatalf("advisory: %d %v", code, a)
		}
		form.Set("incident_id", "not-a-number")
		if r := ed.post(page, form); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("unreadable incident: %d", r.status)
		}

		researcher := e.browser()
		researcher.get("/trust/security")
		researcher.post("/trust/security", url.Values{"email": {"finder@researcher.example"}, "summary": {"IDOR"}, "details": {"Any project."}})
		_, reports := e.api("editor", http.MethodGet, "/api/v1/vulnerability-reports", nil)
		ref := reports["items"].([]any)[0].(map[string]any)["reference"].(string)
		if r := ed.post("/app/reports/"+ref, url.Values{"status": {"pwned"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be one of") {
			t.Fatalf("bad triage: %d", r.status)
		}
		if r := ed.post("/app/reports/"+ref, url.Values{"status": {"valid"}, "advisory": {strings.TrimPrefix(page, "/app/advisories/")}, "reward_note": {"Thanks"}, "notes": {"Seen."}}); r.status != http.StatusSeeOther {
			t.Fatalf("triage: %d %s", r.status, r.body)
		}
		if _, got := e.api("editor", http.MethodGet, "/api/v1/vulnerability-reports/"+ref, nil); got["status"] != "valid" || got["advisory"] != strings.TrimPrefix(page, "/app/advisories/") || got["notes"] != "Seen." {
			t.Fatalf("triaged: %v", got)
		}
	})
}
