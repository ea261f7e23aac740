package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// TestAuditTrailShowsEachRoleOnlyItsRegisters plants a vulnerability report,
// an adverse background check and a distinctive client, then reads every
// audit response as a viewer, an auditor and an admin (issue 16, item 4).
func TestAuditTrailShowsEachRoleOnlyItsRegisters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		// Loopback is a trusted proxy here, so the client's address comes
		// from X-Forwarded-For and is one no other page would show.
		e := newEnv(t, st, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} })
		const (
			reporter = "secret-reporter@researcher.example"
			clientIP = "203.0.113.77"
			agent    = "Distinctive-Agent/9.1 (audit view test)"
		)
		client := http.Header{"X-Forwarded-For": {clientIP}, "User-Agent": {agent}}

		researcher := e.browser()
		researcher.get("/trust/security")
		r := researcher.postRaw("/trust/security", url.Values{"csrf": {researcher.csrf()}, "email": {reporter}, "summary": {"SSRF through webhook URLs"},
			"details": {"The webhook fetcher follows redirects to 169.254.169.254."}, "product": {"Product analytics"}}, client)
		if r.status != http.StatusOK || !strings.Contains(r.body, `<strong id="reference">VR-`) {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
		if code, _ := apiWith(e, "editor", http.MethodPut, "/api/v1/employees/ana@example.com", map[string]any{"name": "Ana", "start_date": "2025-01-01"}, client); code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("employee: %d", code)
		}
		if code, body := apiWith(e, "editor", http.MethodPut, "/api/v1/employees/ana@example.com/background-check",
			map[string]any{"status": "adverse", "provider": "Checkr", "initiated_on": "2025-01-05", "completed_on": "2025-01-20"}, client); code != http.StatusOK {
			t.Fatalf("background check: %d %s", code, body)
		}

		today := e.clock.Now()
		period := "?from=" + today.AddDate(0, 0, -1).Format(time.DateOnly) + "&to=" + today.AddDate(0, 0, 1).Format(time.DateOnly)
		apiPaths := []string{
			"/api/v1/audit-events?action=vulnerability_report.received",
			"/api/v1/audit-events?action=background_check.updated",
			"/api/v1/audit-events",
			"/api/v1/audit-events?limit=500",
			"/api/v1/audit-events?action=vulnerability_report.",
			"/api/v1/audit-events?object_type=employee&object_id=ana@example.com",
			"/api/v1/audit-events?actor=secret-reporter",
		}
		pagePaths := []string{
			"/app/audit",
			"/app/audit?action=vulnerability_report.received",
			"/app/audit?action=background_check.updated",
			"/app/audit?object_type=employee&object_id=ana@example.com",
			"/app/audit?actor=secret-reporter",
		}
		// responses returns every audit response the role can get, by name.
		responses := func(name string, exports bool) map[string]string {
			out := map[string]string{}
			for _, p := range apiPaths {
				code, body := apiWith(e, name, http.MethodGet, p, nil, nil)
				if code != http.StatusOK {
					t.Fatalf("%s GET %s: %d %s", name, p, code, body)
				}
				out[p] = body
			}
			b := e.browser().login(name)
			for _, p := range pagePaths {
				r := b.get(p)
				if r.status != http.StatusOK {
					t.Fatalf("%s GET %s: %d", name, p, r.status)
				}
				out[p] = r.body
			}
			if !exports {
				return out
			}
			p := "/api/v1/exports/audit_log.csv" + period
			code, body := apiWith(e, name, http.MethodGet, p, nil, nil)
			if code != http.StatusOK {
				t.Fatalf("%s GET %s: %d", name, p, code)
			}
			out[p] = body
			if r := b.get("/app/exports/audit_log.csv" + period); r.status != http.StatusOK {
				t.Fatalf("%s dashboard audit_log: %d", name, r.status)
			} else {
				out["/app/exports/audit_log.csv"] = r.body
			}
			code, zipped := apiWith(e, name, http.MethodGet, "/api/v1/exports/evidence.zip"+period, nil, nil)
			if code != http.StatusOK {
				t.Fatalf("%s bundle: %d", name, code)
			}
			zr, err := zip.NewReader(strings.NewReader(zipped), int64(len(zipped)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr.File {
				rc, _ := f.Open()
				data, _ := io.ReadAll(rc)
				rc.Close()
				// The background_checks dataset shows auditors the current
				// status by design (the employee API's field rule); the audit
				// trail's history of results is what this test is about.
				if f.Name != "datasets/background_checks.csv" {
					out["evidence.zip:"+f.Name] = string(data)
				}
			}
			return out
		}
		secrets := []string{reporter, "adverse", clientIP, agent}
		for _, tc := range []struct {
			name    string
			exports bool
		}{{"viewer", false}, {"auditor", true}} {
			t.Run(tc.name+" sees none of it", func(t *testing.T) {
				got := responses(tc.name, tc.exports)
				for where, body := range got {
					for _, s := range secrets {
						if strings.Contains(body, s) {
							t.Errorf("%s: %s contains %q", tc.name, where, s)
						}
					}
				}
				// The events are there, marked as withheld.
				var list struct {
					Items []struct {
						Action       string   `json:"action"`
						DataWithheld bool     `json:"data_withheld"`
						Withheld     []string `json:"withheld"`
						Hash         string   `json:"hash"`
					} `json:"items"`
				}
				for _, action := range []string{"vulnerability_report.received", "background_check.updated"} {
					if err := json.Unmarshal([]byte(got["/api/v1/audit-events?action="+action]), &list); err != nil {
						t.Fatal(err)
					}
					if len(list.Items) != 1 || !list.Items[0].DataWithheld || len(list.Items[0].Hash) != 64 {
						t.Errorf("%s: %s events %+v, want one with its data withheld", tc.name, action, list.Items)
					}
				}
				if !strings.Contains(got["/app/audit?action=background_check.updated"], "withheld") {
					t.Errorf("%s: the page does not say the data is withheld", tc.name)
				}
				// A filter on a withheld actor finds nothing.
				if err := json.Unmarshal([]byte(got["/api/v1/audit-events?actor=secret-reporter"]), &list); err != nil || len(list.Items) != 0 {
					t.Errorf("%s: filtering by the reporter's address answers %+v", tc.name, list.Items)
				}
				if tc.exports && !strings.Contains(got["evidence.zip:datasets/audit_log.csv"], "before_json after_json client_ip request_id") {
					t.Errorf("%s: the bundle's audit_log does not mark what it withholds", tc.name)
				}
			})
		}
		t.Run("admin sees all of it", func(t *testing.T) {
			got := responses("admin", true)
			for _, where := range []string{"/api/v1/audit-events?limit=500", "/app/audit", "evidence.zip:datasets/audit_log.csv"} {
				for _, s := range secrets {
					if where == "evidence.zip:datasets/audit_log.csv" && s == agent {
						continue // the user agent is not an exported column
					}
					// html/template escapes the parentheses of the agent.
					if !strings.Contains(got[where], s) && !strings.Contains(got[where], strings.NewReplacer("(", "&#40;", ")", "&#41;").Replace(s)) {
						t.Errorf("admin: %s lacks %q", where, s)
					}
				}
			}
		})
		// Redaction is on output only: the chain, as "charter audit verify"
		// checks it, is whole.
		res, err := audit.Verify(context.Background(), st.DB)
		if err != nil || res.Break != nil || res.Events == 0 {
			t.Fatalf("audit verify: %+v %v", res, err)
		}
	})
}

// apiWith calls the API as the named user with extra request headers and
// returns the status and raw body.
func apiWith(e *env, name, method, path string, body any, header http.Header) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[name])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}
