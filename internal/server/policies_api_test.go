package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestAPIPolicyWorkflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		base := "/api/v1/policies/encryption"

		status, body := e.api("viewer", http.MethodGet, base, nil)
		cur, _ := body["current_version"].(map[string]any)
		if status != http.StatusOK || cur["version"] != "1.0" || len(cur["sha256"].(string)) != 64 || cur["body"] == "" {
			t.Fatalf("get policy: %d %v", status, body)
		}

		draft := map[string]any{"body": "# Encryption Policy\n\nTLS 1.3 only.\n", "change_summary": "Require TLS 1.3", "material": true}
		status, body = e.api("editor", http.MethodPost, base+"/versions", draft)
		if status != http.StatusCreated || body["version"] != "2.0" || body["status"] != "draft" {
			t.Fatalf("create draft: %d %v", status, body)
		}

		status, body = e.api("editor", http.MethodPost, base+"/versions/2.0/approve", nil)
		if status != http.StatusForbidden || !strings.Contains(errMessage(body), "another user must approve") {
			t.Fatalf("self-approval: %d %v", status, body)
		}
		if status, body = e.api("editor", http.MethodPost, base+"/versions/2.0/publish", nil); status != http.StatusConflict {
			t.Fatalf("publishing a draft: %d %v", status, body)
		}
		if status, body = e.api("editor2", http.MethodPost, base+"/versions/2.0/approve", nil); status != http.StatusOK || body["approved_by"] != "editor2@example.com" {
			t.Fatalf("approve: %d %v", status, body)
		}
		if status, body = e.api("admin", http.MethodPost, base+"/versions/2.0/publish", nil); status != http.StatusOK || body["status"] != "published" {
			t.Fatalf("publish: %d %v", status, body)
		}
		if ev := e.lastEvent(); ev.Action != "policy.version.published" || ev.Actor != "admin@example.com" || ev.ObjectID != "encryption@2.0" {
			t.Fatalf("audit: %+v", ev)
		}

		// Changing a published version is a state conflict, whatever the body.
		for _, v := range []string{"2.0", "1.0"} {
			status, body = e.api("editor", http.MethodPut, base+"/versions/"+v, draft)
			if status != http.StatusConflict || errCode(body) != "conflict" {
				t.Fatalf("PUT published %s: %d %v", v, status, body)
			}
		}

		status, body = e.api("auditor", http.MethodGet, base+"/versions", nil)
		items, _ := body["items"].([]any)
		if status != http.StatusOK || len(items) != 2 || items[0].(map[string]any)["status"] != "published" || items[1].(map[string]any)["status"] != "superseded" {
			t.Fatalf("versions: %d %v", status, body)
		}

		status, body = e.api("editor", http.MethodPost, base+"/reviews", map[string]any{"note": "Checked against NIST SP 800-52r2."})
		if status != http.StatusCreated || body["next_review_at"] == nil {
			t.Fatalf("review: %d %v", status, body)
		}
	})
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func errMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func errFields(body map[string]any) map[string]any {
	e, _ := body["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

func TestAPIErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		cases := []struct {
			name, user, method, path string
			body                     any
			status                   int
			code                     string
			fields                   []string
		}{
			{"no token", "", "GET", "/api/v1/policies", nil, 401, "unauthorized", nil},
			{"viewer may not draft", "viewer", "POST", "/api/v1/policies/backup/versions", map[string]any{}, 403, "forbidden", nil},
			{"auditor may not review", "auditor", "POST", "/api/v1/policies/backup/reviews", map[string]any{"note": "x"}, 403, "forbidden", nil},
			{"unknown slug", "viewer", "GET", "/api/v1/policies/no-such-policy", nil, 404, "not_found", nil},
			{"unknown version", "viewer", "GET", "/api/v1/policies/backup/versions/7.0", nil, 404, "not_found", nil},
			{"empty draft", "editor", "POST", "/api/v1/policies/backup/versions", map[string]any{}, 422, "invalid", []string{"body", "change_summary", "material"}},
			{"blank summary", "editor", "POST", "/api/v1/policies/backup/versions", map[string]any{"body": "x", "change_summary": " ", "material": false}, 422, "invalid", []string{"change_summary"}},
			{"empty review", "editor", "POST", "/api/v1/policies/backup/reviews", map[string]any{}, 422, "invalid", []string{"note"}},
			{"bad sort", "viewer", "GET", "/api/v1/policies?sort=password_hash", nil, 422, "invalid", []string{"sort"}},
			{"bad limit", "viewer", "GET", "/api/v1/policies?limit=0", nil, 422, "invalid", []string{"limit"}},
			{"bad cursor", "viewer", "GET", "/api/v1/policies?cursor=!!", nil, 422, "invalid", []string{"cursor"}},
			{"bad audit date", "viewer", "GET", "/api/v1/audit-events?from=yesterday", nil, 422, "invalid", []string{"from"}},
			{"unknown route", "viewer", "GET", "/api/v1/nothing", nil, 404, "not_found", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				status, body := e.api(c.user, c.method, c.path, c.body)
				if status != c.status || errCode(body) != c.code {
					t.Fatalf("%d %v, want %d %s", status, body, c.status, c.code)
				}
				for _, f := range c.fields {
					if msg, _ := errFields(body)[f].(string); msg == "" {
						t.Errorf("no message for field %s in %v", f, body)
					}
				}
			})
		}
		// Malformed JSON is a 400 with the error shape.
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/policies/backup/reviews", strings.NewReader("{"))
		req.Header.Set("Authorization", "Bearer "+e.tokens["editor"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("malformed JSON: %d", resp.StatusCode)
		}
	})
}

func TestAPIListPaginates(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		status, body := e.api("viewer", http.MethodGet, "/api/v1/policies?sort=title&limit=6&cursor="+cursor, nil)
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, body)
		}
		for _, it := range body["items"].([]any) {
			seen[it.(map[string]any)["slug"].(string)] = true
		}
		cursor, _ = body["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(seen) != 20 {
		t.Fatalf("paged through %d policies, want 20", len(seen))
	}
	status, body := e.api("auditor", http.MethodGet, "/api/v1/audit-events?action=policy.seeded&limit=5", nil)
	if status != http.StatusOK || len(body["items"].([]any)) != 5 || body["next_cursor"] == "" {
		t.Fatalf("audit events: %d %v", status, body)
	}
}
