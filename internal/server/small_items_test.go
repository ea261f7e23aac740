package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// An address needs a domain with a dot, on every way in: the dashboard's
// forms, the API and the public forms all refuse legal@acme with a message
// that says an email address is wanted.
func TestAddressWithoutADottedDomainIsRefused(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ed := e.browser().login("editor")
	visitor := e.browser()
	visitor.get("/trust/request")
	tests := []struct {
		name  string
		send  func() (int, string)
		field string
	}{
		{"employee form", func() (int, string) {
			r := ed.post("/app/people", url.Values{"email": {"legal@acme"}, "name": {"Legal"}, "start_date": {"2025-05-05"}})
			return r.status, r.body
		}, "email"},
		{"DPA form", func() (int, string) {
			r := ed.post("/app/privacy/dpas", url.Values{"direction": {"customer"}, "counterparty": {"Acme"}, "contact_email": {"legal@acme"}, "status": {"requested"}})
			return r.status, r.body
		}, "contact_email"},
		{"employee API", func() (int, string) {
			code, body := e.api("editor", http.MethodPost, "/api/v1/employees", map[string]any{"email": "legal@acme", "name": "Legal", "start_date": "2025-05-05"})
			fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
			msg, _ := fields["email"].(string)
			return code, msg
		}, "email"},
		{"public packet request", func() (int, string) {
			r := visitor.post("/trust/request", url.Values{"name": {"Sam"}, "email": {"legal@acme"}, "company": {"Acme"}, "nda_version": {"1"}, "accept_nda": {"true"}})
			return r.status, r.body
		}, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := tt.send()
			if status != http.StatusUnprocessableEntity || !strings.Contains(body, "must be an email address") && !strings.Contains(body, "must be your work email address") {
				t.Fatalf("legal@acme in %s: %d, want 422 saying an email address is wanted; got %.600s", tt.field, status, body)
			}
		})
	}
}

// The exports page opens on the audit period under way when the
// organization records one, else on the year to date (never on last year,
// which on a fresh install has no rows).
func TestExportsPageDefaultPeriod(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	auditor := e.browser().login("auditor")
	now := e.clock.Now().UTC()
	yearStart, today := now.Format("2006")+"-01-01", now.Format(time.DateOnly)
	r := auditor.get("/app/exports")
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="from" value="`+yearStart+`"`) || !strings.Contains(r.body, `name="to" value="`+today+`"`) ||
		!strings.Contains(r.body, "the year to date") {
		t.Fatalf("without an audit period: %d, want %s to %s", r.status, yearStart, today)
	}
	if !strings.Contains(r.body, "/app/exports/policies.csv?from="+yearStart+"&amp;to="+today) {
		t.Fatal("the download links do not use the default period")
	}

	first, last := now.AddDate(0, -3, 0), now.AddDate(0, 9, 0)
	if err := e.st.DB.Table("certifications").Where("1 = 1").Updates(map[string]any{"period_start": first, "period_end": last}).Error; err != nil {
		t.Fatal(err)
	}
	r = auditor.get("/app/exports")
	if !strings.Contains(r.body, `name="from" value="`+first.Format(time.DateOnly)+`"`) || !strings.Contains(r.body, `name="to" value="`+last.Format(time.DateOnly)+`"`) ||
		!strings.Contains(r.body, "the current audit period") {
		t.Fatalf("with an audit period under way: want %s to %s", first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	if r := auditor.get("/app/exports?from=2024-01-01&to=2024-12-31"); !strings.Contains(r.body, `value="2024-01-01"`) || strings.Contains(r.body, "the current audit period") {
		t.Fatal("dates given in the query are not kept")
	}
}

// The recorded access reviews are access_review_log, not access_reviews
// (one letter from access_review, who can sign in); the old name
// redirects, on the dashboard and the API, keeping the period.
func TestAccessReviewLogOldNameRedirects(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	auditor := e.browser().login("auditor")
	const query = "?from=2026-01-01&to=2026-12-31"
	if r := auditor.get("/app/exports/access_reviews.csv" + query); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/app/exports/access_review_log.csv"+query {
		t.Fatalf("dashboard: %d %q", r.status, r.header.Get("Location"))
	}
	if r := auditor.get("/app/exports/access_review_log.csv" + query); r.status != http.StatusOK || !strings.HasPrefix(r.body, "reviewed_at,reviewed_by") {
		t.Fatalf("new name: %d %.100s", r.status, r.body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/api/v1/exports/access_reviews.csv"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["auditor"])
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/api/v1/exports/access_review_log.csv"+query {
		t.Fatalf("API: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := e.api("viewer", http.MethodGet, "/api/v1/exports/access_reviews.csv"+query, nil); code != http.StatusForbidden {
		t.Fatalf("a viewer got past the rule through the old name: %d", code)
	}
}

// A version's page compares it with the version before it; the first
// version has nothing to compare with and offers no Compare link.
func TestVersionPageComparesWithThePreviousVersion(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ed := e.browser().login("editor")
	ed.post("/app/policies/password/versions", url.Values{"body": {"new"}, "change_summary": {"s"}, "material": {"minor"}})
	if r := ed.get("/app/policies/password/versions/1.0"); r.status != http.StatusOK || strings.Contains(r.body, "/diff?") {
		t.Fatalf("the first version offers a comparison: %d", r.status)
	}
	r := ed.get("/app/policies/password/versions/1.1")
	if !strings.Contains(r.body, `href="/app/policies/password/diff?from=1.0&amp;to=1.1">Compare with 1.0</a>`) {
		t.Fatal("version 1.1 does not link its comparison with 1.0")
	}
	for path, want := range map[string]int{
		"/app/policies/password/diff?from=1.0&to=1.1": http.StatusOK,
		"/app/policies/password/diff?to=1.1":          http.StatusOK,
		"/app/policies/password/diff?to=1.0":          http.StatusNotFound,
	} {
		if r := ed.get(path); r.status != want {
			t.Errorf("GET %s: %d, want %d", path, r.status, want)
		}
	}
}

// The approver of a packet request sees whether the requester's company
// has a DPA, and opens it from there.
func TestPacketRequestPageShowsTheCompanysDPA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		code, dpa := e.api("editor", http.MethodPost, "/api/v1/dpas", map[string]any{"direction": "customer", "counterparty": "Prospect Inc",
			"contact_email": "legal@prospect.example", "status": "signed", "signed_on": "2026-01-05"})
		if code != http.StatusCreated {
			t.Fatalf("DPA: %d %v", code, dpa)
		}
		visitor := e.browser()
		visitor.get("/trust/request")
		for _, who := range []url.Values{
			{"name": {"Sam"}, "email": {"sam@prospect.example"}, "company": {"Prospect"}, "nda_version": {"1"}, "accept_nda": {"true"}},
			{"name": {"Lee"}, "email": {"lee@newco.example"}, "company": {"NewCo"}, "nda_version": {"1"}, "accept_nda": {"true"}},
		} {
			if r := visitor.post("/trust/request", who); r.status != http.StatusOK {
				t.Fatalf("request from %s: %d", who.Get("email"), r.status)
			}
		}
		_, list := e.api("viewer", http.MethodGet, "/api/v1/packet-requests", nil)
		ids := map[string]int64{}
		for _, item := range list["items"].([]any) {
			r := item.(map[string]any)
			ids[r["email"].(string)] = int64(r["id"].(float64))
		}
		viewer := e.browser().login("viewer")
		page := viewer.get(fmt.Sprintf("/app/packets/requests/%d", ids["sam@prospect.example"]))
		if want := fmt.Sprintf(`<dt>DPA</dt><dd><a href="/app/privacy/dpas/%d">Signed <time datetime="2026-01-05">2026-01-05</time></a> with Prospect Inc</dd>`, int64(dpa["id"].(float64))); !strings.Contains(page.body, want) {
			t.Errorf("a customer with a signed DPA: page lacks %s", want)
		}
		page = viewer.get(fmt.Sprintf("/app/packets/requests/%d", ids["lee@newco.example"]))
		if !strings.Contains(page.body, "<dt>DPA</dt><dd>none on record for NewCo") {
			t.Error("a customer without a DPA: the page does not say so")
		}
	})
}
