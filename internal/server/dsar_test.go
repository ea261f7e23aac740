package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

var requestRef = regexp.MustCompile(`<strong id="reference">(PR-\d{4}-\d{4})</strong>`)

func TestPrivacyRequestFromFormToCompletion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		mb, smtp := notifytest.Start(t)
		person := e.browser()
		person.get("/trust/privacy-request")
		if r := person.post("/trust/privacy-request", url.Values{"requester_name": {"Ana"}, "requester_email": {"not-an-email"}, "law": {"gdpr"}, "type": {"access"}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad email: %d", r.status)
		}
		// Free mail is fine here: data subjects write from any address.
		if r := person.post("/trust/privacy-request", url.Values{"requester_name": {"Ana"}, "requester_email": {"ana@gmail.com"}, "law": {"ccpa"}, "type": {"deletion"}, "details": {"account ana123"}}); r.status != http.StatusOK || !strings.Contains(r.body, "Check your email") {
			t.Fatalf("submit: %d %s", r.status, r.body)
		}
		e.deliver(smtp)
		_, body := parseMail(t, mb.For("ana@gmail.com")[0])
		confirm := linkOf(t, body, "/trust/privacy-request/confirm/")
		r := person.postRaw(confirm, url.Values{}, nil)
		m := requestRef.FindStringSubmatch(r.body)
		if r.status != http.StatusOK || m == nil {
			t.Fatalf("confirm: %d %s", r.status, r.body)
		}
		ref := m[1]
		e.deliver(smtp)
		if mails := mb.For("ana@gmail.com"); len(mails) != 2 || !strings.Contains(mails[1], ref) {
			t.Fatalf("acknowledgement: %d mails", len(mails))
		}
		if len(mb.For("editor@example.com")) != 1 {
			t.Fatal("the team was not told")
		}
		ed := e.browser().login("editor")
		if page := ed.get("/app/privacy-requests"); !strings.Contains(page.body, ref) || !strings.Contains(page.body, "CCPA/CPRA") {
			t.Fatal("the dashboard does not list the request")
		}
		deadline := e.clock.Now().UTC().AddDate(0, 0, 45).Format(time.DateOnly)
		if page := ed.get("/app/privacy-requests/" + ref); !strings.Contains(page.body, deadline) || !strings.Contains(page.body, "Acknowledge by") {
			t.Fatalf("request page lacks the deadline %s: %s", deadline, ed.get("/app/privacy-requests/"+ref).body)
		}
		for _, step := range []url.Values{
			{"action": {"verify"}, "verification_method": {"reply from the account's address"}},
			{"action": {"complete"}, "outcome": {"complied"}, "systems_searched": {"app database, backups, support desk"}},
		} {
			if r := ed.post("/app/privacy-requests/"+ref, step); r.status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", step.Get("action"), r.status, r.body)
			}
		}
		code, got := e.api("editor", http.MethodGet, "/api/v1/privacy-requests/"+ref, nil)
		if code != http.StatusOK || got["status"] != "completed" || got["outcome"] != "complied" {
			t.Fatalf("API: %d %v", code, got)
		}
		year := e.clock.Now().Format("2006")
		aud := e.browser().login("auditor")
		if page := aud.get("/app/privacy-requests/metrics?year=" + year); !strings.Contains(page.body, "<td>Deletion</td><td>1</td><td>1</td><td>0</td><td>0</td>") {
			t.Fatalf("metrics page: %s", page.body)
		}
		if csv := aud.get("/app/privacy-requests/metrics.csv?year=" + year); !strings.Contains(csv.body, year+",deletion,1,1,0,0\r\n") ||
			!strings.HasPrefix(csv.body, "year,type,received,complied_in_whole_or_part,denied,median_days_to_respond\r\n") {
			t.Fatalf("metrics CSV: %s", csv.body)
		}
		if r := aud.get("/app/privacy-requests/" + ref); r.status != http.StatusForbidden {
			t.Fatalf("an auditor read the request: %d", r.status)
		}
		if r := aud.get("/app/exports/dsar_requests.csv?from=" + year + "-01-01&to=" + year + "-12-31"); !strings.Contains(r.body, ref+",ccpa,deletion,form") || strings.Contains(r.body, "ana@gmail.com") {
			t.Fatalf("dsar_requests export: %s", r.body)
		}
		code, body2 := e.api("editor", http.MethodPost, "/api/v1/privacy-requests", map[string]any{"channel": "customer", "law": "uk_gdpr", "type": "portability", "requester_email": "x@y.example", "received_on": "2026-01-31"})
		if code != http.StatusCreated || body2["deadline"] != "2026-02-28" {
			t.Fatalf("API create: %d %v", code, body2)
		}
	})
}

// The dashboard records a request received by email; a refusal re-renders
// the form with what was typed.
func TestPrivacyRequestDashboardForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		form := url.Values{"received_on": {e.clock.Now().AddDate(0, 0, 2).Format(time.DateOnly)}, "channel": {"email"}, "law": {"gdpr"}, "type": {"access"},
			"requester_name": {"Pat"}, "requester_email": {"pat@person.example"}, "details": {"everything"}}
		if r := ed.post("/app/privacy-requests", form); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "cannot be in the future") || !strings.Contains(r.body, "pat@person.example") {
			t.Fatalf("future date: %d", r.status)
		}
		form.Set("received_on", e.clock.Now().AddDate(0, 0, -3).Format(time.DateOnly))
		r := ed.post("/app/privacy-requests", form)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/app/privacy-requests/PR-") {
			t.Fatalf("record: %d %s", r.status, r.body)
		}
		ref := strings.TrimPrefix(r.header.Get("Location"), "/app/privacy-requests/")
		if r := ed.post("/app/privacy-requests/"+ref, url.Values{"action": {"extend"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Extension reason is required") {
			t.Fatalf("extension without a reason: %d", r.status)
		}
		code, got := e.api("editor", http.MethodGet, "/api/v1/privacy-requests/"+ref, nil)
		if code != http.StatusOK || got["channel"] != "email" || got["requester_name"] != "Pat" || got["details"] != "everything" || got["status"] != "received" {
			t.Fatalf("recorded: %d %v", code, got)
		}
		if code, body := e.api("editor", http.MethodPost, "/api/v1/privacy-requests/"+ref+"/actions", map[string]any{"action": "dance"}); code != http.StatusUnprocessableEntity || errFields(body)["action"] == nil {
			t.Fatalf("unknown action: %d %v", code, body)
		}
	})
}
