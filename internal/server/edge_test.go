package server_test

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// The text rules at the edge, on both databases: a line break in a
// single-line field of every public form, and a NUL anywhere, are refused
// with the field named and nothing stored; a NUL or invalid UTF-8 in a path
// is a 404; and a misspelt field in an API body is refused by name.
func TestTextRulesAtTheEdge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.seedPrivacy()
		rows := func() (n int64) {
			var total int64
			for _, table := range []string{"outbox", "packet_requests", "vulnerability_reports", "privacy_requests", "subscribers", "dpas"} {
				var c int64
				if err := e.st.DB.Table(table).Count(&c).Error; err != nil {
					t.Fatalf("counting %s: %v", table, err)
				}
				total += c
			}
			return total
		}
		before := rows()
		valid := map[string]url.Values{
			"/trust/request": {"name": {"Dana Buyer"}, "email": {"dana@customer.example"}, "company": {"Customer Inc"},
				"role": {"Security lead"}, "reason": {"vendor review"}, "policies": {"backup"}, "accept_nda": {"on"}},
			"/trust/security": {"email": {"r@researcher.example"}, "summary": {"XSS in search"}, "details": {"steps\nhere"}, "product": {"cloud"}},
			"/trust/privacy-request": {"requester_name": {"Pat Person"}, "requester_email": {"pat@person.example"},
				"law": {"gdpr"}, "type": {"access"}, "details": {"all my data"}},
			"/trust/dpa":       {"company": {"Customer Inc"}, "email": {"legal@customer.example"}, "region": {"EU"}},
			"/trust/subscribe": {"email": {"news@customer.example"}},
			"/login":           {"email": {"admin@example.com"}, "password": {testPassword}},
			"/login/forgot":    {"email": {"viewer@example.com"}},
		}
		cases := []struct {
			name, path, field, value string
		}{
			{"CRLF in the requester's name", "/trust/request", "name", "Dana\r\nBcc: victim@example.com"},
			{"LF in the company", "/trust/request", "company", "Inc\n\nPlease wire money"},
			{"TAB in the role", "/trust/request", "role", "a\tb"},
			{"NUL in the free-text reason", "/trust/request", "reason", "a\x00b"},
			{"LF in the report summary", "/trust/security", "summary", "Hello X\nBcc: x"},
			{"NUL in the report details", "/trust/security", "details", "a\x00b"},
			{"CR in the email", "/trust/security", "email", "r@researcher.example\r"},
			{"LF in the privacy requester's name", "/trust/privacy-request", "requester_name", "Pat\nPlease wire money"},
			{"NUL in the privacy request", "/trust/privacy-request", "details", "\x00"},
			{"LF in the DPA company", "/trust/dpa", "company", "Customer\nInc"},
			{"NUL in the subscriber email", "/trust/subscribe", "email", "a\x00@b.example"},
			{"NUL in the sign-in email", "/login", "email", "admin@example.com\x00"},
			{"NUL in the password", "/login", "password", "x\x00"},
			{"invalid UTF-8 in a name", "/trust/request", "name", "Dana \xff"},
			{"CRLF in a forgotten-password address", "/login/forgot", "email", "viewer@example.com\r\nBcc: x@evil.example"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range valid[c.path] {
					form[k] = v
				}
				form.Set(c.field, c.value)
				r := e.browser().post(c.path, form)
				// The field is named by its label, as every form names it.
				label := strings.ToUpper(c.field[:1]) + strings.ReplaceAll(c.field[1:], "_", " ")
				if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, label) {
					t.Fatalf("%s %s=%q: %d, want 422 naming %s: %s", c.path, c.field, c.value, r.status, label, r.body)
				}
			})
		}
		if after := rows(); after != before {
			t.Fatalf("refused submissions stored or queued %d rows", after-before)
		}

		t.Run("paths", func(t *testing.T) {
			for _, path := range []string{"/trust/advisories/a%00b", "/trust/advisories/a%ffb", "/app/people/a%00b@example.com",
				"/api/v1/employees/a%00b@example.com", "/p/%00", "/ack/%ff%fe"} {
				req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
				}
			}
		})

		t.Run("API bodies and queries", func(t *testing.T) {
			cases := []struct {
				name, method, path string
				body               any
				field              string
			}{
				{"NUL in an employee's name", "PUT", "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana\x00"}, "name"},
				{"LF in an employee's title", "PUT", "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana", "title": "CTO\nBcc: x"}, "title"},
				{"NUL in a nested field", "PUT", "/api/v1/organization", map[string]any{"legal_entities": []any{map[string]any{"name": "A\x00"}}}, "legal_entities[0].name"},
				{"NUL in a query", "GET", "/api/v1/audit-events?action=a%00b", nil, "action"},
				{"misspelt field", "POST", "/api/v1/privacy-requests", map[string]any{"received_at": "2026-01-31", "channel": "email",
					"law": "gdpr", "type": "access", "requester_name": "Pat", "requester_email": "pat@person.example"}, "received_at"},
				{"unknown field on an employee", "PUT", "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana", "startdate": "2024-01-01"}, "startdate"},
				{"unknown nested field", "POST", "/api/v1/policies/backup/versions", map[string]any{"body": "x", "change_summary": "y", "material": false, "materal": true}, "materal"},
				{"wrong type", "POST", "/api/v1/policies/backup/versions", map[string]any{"body": "x", "change_summary": "y", "material": "no"}, "material"},
			}
			for _, c := range cases {
				status, body := e.api("admin", c.method, c.path, c.body)
				if status != http.StatusUnprocessableEntity || errFields(body)[c.field] == nil {
					t.Errorf("%s: %s %s: %d %v, want 422 naming %s", c.name, c.method, c.path, status, body, c.field)
				}
			}
			if status, body := e.api("admin", "GET", "/api/v1/employees/ana@example.com", nil); status == http.StatusOK && strings.Contains(body["name"].(string), "\x00") {
				t.Fatalf("a refused write was stored: %v", body)
			}
		})
	})
}

// The three public forms that ask for a work address re-render with the
// free-mail message beside the email field, the typed address kept, and
// nothing stored or queued; the rule is the services' (see
// packet.TestSubmitRefusesFreeMail), the forms only show it.
func TestPublicFormsRefuseFreeMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.seedPrivacy()
		tables := []string{"outbox", "packet_requests", "subscribers", "dpas"}
		count := func() map[string]int64 {
			n := map[string]int64{}
			for _, table := range tables {
				var c int64
				if err := st.DB.Table(table).Count(&c).Error; err != nil {
					t.Fatalf("counting %s: %v", table, err)
				}
				n[table] = c
			}
			return n
		}
		before := count()
		form := url.Values{"name": {"Dana Buyer"}, "company": {"Customer Inc"}, "email": {"dana@gmail.com"}, "region": {"EU"}, "accept_nda": {"true"}}
		for _, path := range []string{"/trust/request", "/trust/dpa", "/trust/subscribe"} {
			t.Run(path, func(t *testing.T) {
				visitor := e.browser()
				visitor.get(path)
				r := visitor.post(path, form)
				if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be your work email address; gmail.com is a free-mail provider") ||
					!strings.Contains(r.body, `value="dana@gmail.com"`) {
					t.Fatalf("%s: %d, want 422 with the free-mail message and the address kept: %s", path, r.status, r.body)
				}
			})
		}
		if after := count(); !maps.Equal(after, before) {
			t.Fatalf("refusals stored or queued rows: before %v, after %v", before, after)
		}
	})
}

// What the API hands out it takes back: the organization profile, seeded
// with multi-line lists and free text, survives a GET → PUT round trip
// through the text rules and the strict binder.
func TestOrganizationRoundTripPassesTheEdge(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	status, doc := e.api("admin", http.MethodGet, "/api/v1/organization", nil)
	if status != http.StatusOK {
		t.Fatalf("GET: %d %v", status, doc)
	}
	if status, body := e.api("admin", http.MethodPut, "/api/v1/organization", doc); status != http.StatusOK {
		t.Fatalf("PUT of what GET returned: %d %v", status, body)
	}
}
