package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// apiUpload sends a multipart body with fields and a file to the API
// with the named user's token.
func (e *env) apiUpload(name, path string, fields map[string]string, file string, content []byte) (int, map[string]any) {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != "" {
		fw, _ := w.CreateFormFile("file", file)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.tokens[name])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("POST %s: %d, body is not JSON: %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func documentFields(title, access, validUntil string) map[string]string {
	return map[string]string{"title": title, "kind": "soc2_report", "access": access, "owner_email": "compliance@example.com",
		"version": "2026", "issued_on": "2026-01-15", "valid_until": validUntil}
}

func TestDocumentPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		pdf := documenttest.PDF(t, "SOC 2 report", 2)

		// The form round trip: a refused upload keeps what was typed.
		r := ed.uploadWith("/app/documents", documentFields("SOC 2 Type II report", "on_request", ""), "file", "report.pdf", []byte("<html>not a pdf</html>"))
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be one of: PDF") || !strings.Contains(r.body, `value="SOC 2 Type II report"`) {
			t.Fatalf("bad file: %d %s", r.status, r.body)
		}
		r = ed.uploadWith("/app/documents", documentFields("SOC 2 Type II report", "on_request", e.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly)), "file", "report.pdf", pdf)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/documents/soc-2-type-ii-report" {
			t.Fatalf("create: %d %s %s", r.status, r.header.Get("Location"), r.body)
		}
		if r = ed.get("/app/documents/soc-2-type-ii-report"); r.status != http.StatusOK || !strings.Contains(r.body, "on request") || !strings.Contains(r.body, "2 pages") {
			t.Fatalf("document page: %d %s", r.status, r.body)
		}
		if r = ed.get("/app/documents"); !strings.Contains(r.body, "SOC 2 Type II report") {
			t.Fatalf("list: %s", r.body)
		}
		// Editing keeps the file; a new version becomes the one in force.
		r = ed.post("/app/documents/soc-2-type-ii-report", url.Values{"title": {"SOC 2 Type II report"}, "slug": {"soc-2-type-ii-report"}, "kind": {"soc2_report"},
			"access": {"public"}, "owner_email": {"compliance@example.com"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		r = ed.uploadWith("/app/documents/soc-2-type-ii-report/versions", map[string]string{"version": "2026", "issued_on": "2026-02-01"}, "file", "r.pdf", pdf)
		if r.status != http.StatusConflict || !strings.Contains(r.body, "already has a version") {
			t.Fatalf("same version twice: %d %s", r.status, r.body)
		}
		r = ed.uploadWith("/app/documents/soc-2-type-ii-report/versions", map[string]string{"version": "2026.1", "issued_on": "2026-02-01"}, "file", "r.pdf", documenttest.PDF(t, "SOC 2 report", 3))
		if r.status != http.StatusSeeOther {
			t.Fatalf("new version: %d %s", r.status, r.body)
		}
		// Public now: anyone downloads the version in force.
		anon := e.browser()
		if r = anon.get("/trust/documents/soc-2-type-ii-report"); r.status != http.StatusOK || r.header.Get("Content-Type") != "application/pdf" ||
			!strings.HasPrefix(r.body, "%PDF-") || !strings.Contains(r.header.Get("Content-Disposition"), "soc-2-type-ii-report-2026.1.pdf") {
			t.Fatalf("public download: %d %v", r.status, r.header)
		}
		if r = e.browser().login("viewer").get("/app/documents/soc-2-type-ii-report/versions/1/file"); r.status != http.StatusForbidden {
			t.Fatalf("a viewer downloads the original: %d", r.status)
		}
		if r = e.browser().login("auditor").get("/app/documents/soc-2-type-ii-report/versions/1/file"); r.status != http.StatusOK || !strings.HasPrefix(r.body, "%PDF-") {
			t.Fatalf("an auditor downloads the original: %d", r.status)
		}
		if r = e.browser().login("viewer").post("/app/documents/soc-2-type-ii-report", url.Values{"title": {"x"}}); r.status != http.StatusForbidden {
			t.Fatalf("a viewer edits: %d", r.status)
		}
	})
}

// TestDocumentRefusals: everything the register refuses is a 4xx naming
// the field, on the API; nothing refused is stored or served.
func TestDocumentRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		pdf := documenttest.PDF(t, "Report", 1)
		huge := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 25<<20)...)
		tests := []struct {
			name    string
			fields  map[string]string
			file    string
			content []byte
			status  int
			field   string
		}{
			{"no file", documentFields("A", "public", ""), "", nil, http.StatusUnprocessableEntity, "file"},
			{"wrong type", documentFields("A", "public", ""), "a.pdf", []byte("GIF89a......"), http.StatusUnprocessableEntity, "file"},
			{"wrong extension", documentFields("A", "public", ""), "a.docx", pdf, http.StatusUnprocessableEntity, "file"},
			{"oversized", documentFields("A", "public", ""), "a.pdf", huge, http.StatusUnprocessableEntity, "file"},
			{"unreadable PDF", documentFields("A", "public", ""), "a.pdf", []byte("%PDF-1.4\ngarbage"), http.StatusUnprocessableEntity, "file"},
			{"unknown access", documentFields("A", "secret", ""), "a.pdf", pdf, http.StatusUnprocessableEntity, "access"},
			{"bad validity", documentFields("A", "public", "2020-13-01"), "a.pdf", pdf, http.StatusUnprocessableEntity, "valid_until"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := e.apiUpload("editor", "/api/v1/documents", tt.fields, tt.file, tt.content)
				apiErr, _ := body["error"].(map[string]any)
				fields, _ := apiErr["fields"].(map[string]any)
				if status != tt.status || fields[tt.field] == nil {
					t.Fatalf("%d %v, want %d naming %s", status, body, tt.status, tt.field)
				}
			})
		}
		if status, body := e.api("viewer", http.MethodGet, "/api/v1/documents", nil); status != http.StatusOK || len(body["items"].([]any)) != 0 {
			t.Fatalf("refused documents were stored: %v", body)
		}
		if status, _ := e.apiUpload("viewer", "/api/v1/documents", documentFields("A", "public", ""), "a.pdf", pdf); status != http.StatusForbidden {
			t.Fatalf("a viewer creates: %d", status)
		}
		if status, _ := e.api("editor", http.MethodGet, "/api/v1/documents/nothing", nil); status != http.StatusNotFound {
			t.Fatalf("unknown document: %d", status)
		}
		if status, _ := e.apiUpload("editor", "/api/v1/documents/nothing/versions", map[string]string{"version": "1", "issued_on": "2026-01-01"}, "a.pdf", pdf); status != http.StatusNotFound {
			t.Fatalf("version of an unknown document: %d", status)
		}
	})
}

// TestDocumentAccessLevels: only a public document in force downloads
// from /trust; internal, on-request and lapsed ones are 404s there, and
// the API says which are lapsed.
func TestDocumentAccessLevels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		pdf := documenttest.PDF(t, "Doc", 1)
		soon := e.clock.Now().AddDate(0, 0, 3).Format(time.DateOnly)
		for _, d := range []struct{ title, access, until string }{
			{"Public cert", "public", ""}, {"Internal findings", "internal", ""}, {"On request report", "on_request", ""}, {"Lapsing cert", "public", soon},
		} {
			if status, body := e.apiUpload("editor", "/api/v1/documents", documentFields(d.title, d.access, d.until), "d.pdf", pdf); status != http.StatusCreated {
				t.Fatalf("%s: %d %v", d.title, status, body)
			}
		}
		anon := e.browser()
		for slug, want := range map[string]int{"public-cert": 200, "internal-findings": 404, "on-request-report": 404, "lapsing-cert": 200, "nothing": 404} {
			if r := anon.get("/trust/documents/" + slug); r.status != want {
				t.Errorf("%s: %d, want %d", slug, r.status, want)
			}
		}
		status, body := e.api("editor", http.MethodPut, "/api/v1/documents/internal-findings", map[string]any{"title": "Internal findings",
			"kind": "pentest_summary", "access": "public", "owner_email": "ciso@example.com", "unknown": 1})
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown field: %d %v", status, body)
		}
		_, body = e.api("editor", http.MethodGet, "/api/v1/documents/lapsing-cert", nil)
		if body["lapsed"] != false || body["access"] != "public" || len(body["versions"].([]any)) != 1 {
			t.Fatalf("lapsing document: %v", body)
		}
		e.clock.Advance(4 * 24 * time.Hour) // the API tokens last a day
		if r := anon.get("/trust/documents/lapsing-cert"); r.status != http.StatusNotFound {
			t.Errorf("a lapsed document downloads: %d", r.status)
		}
		if r := e.browser().login("viewer").get("/app/documents/lapsing-cert"); !strings.Contains(r.body, `class="badge s-lapsed"`) {
			t.Fatalf("the lapsed document is not marked: %s", r.body)
		}
	})
}
