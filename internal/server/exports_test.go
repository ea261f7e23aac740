package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestExportsOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.seedPrivacy()
		year := e.clock.Now().Format("2006")
		query := "?from=" + year + "-01-01&to=" + year + "-12-31"
		get := func(who, path string) (int, http.Header, string) {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+e.tokens[who])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header, string(b)
		}
		code, h, body := get("auditor", "/api/v1/exports/subprocessors.csv"+query)
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %v", code, h)
		}
		if !strings.HasPrefix(body, "name,purpose,data_categories") || !strings.Contains(body, "Amazon Web Services") ||
			strings.Count(body, "\r\n") != 5 || strings.Count(body, "\n") != 5 { // RFC 4180: CRLF after every record
			t.Fatalf("body: %q", body)
		}
		if _, _, again := get("auditor", "/api/v1/exports/subprocessors.csv"+query); again != body {
			t.Fatal("two exports differ")
		}
		if _, _, bom := get("editor", "/api/v1/exports/dpas.csv"+query+"&bom=1"); !strings.HasPrefix(bom, "\ufeffid,direction") {
			t.Fatalf("bom: %q", bom[:10])
		}
		for _, c := range []struct {
			who, path string
			want      int
		}{
			{"viewer", "/api/v1/exports/subprocessors.csv" + query, http.StatusForbidden},
			{"auditor", "/api/v1/exports/salaries.csv" + query, http.StatusNotFound},
			{"auditor", "/api/v1/exports/subprocessors.csv?from=2026-02-30&to=2026-03-01", http.StatusUnprocessableEntity},
			{"auditor", "/api/v1/exports/subprocessors.csv", http.StatusUnprocessableEntity},
			{"auditor", "/api/v1/exports/subprocessors.json" + query, http.StatusNotFound},
		} {
			if code, _, _ := get(c.who, c.path); code != c.want {
				t.Errorf("%s %s: %d, want %d", c.who, c.path, code, c.want)
			}
		}
		if ev := e.lastEvent(); ev.Action != "export.completed" || ev.ObjectID != "dpas" || !strings.Contains(ev.AfterJSON, "sha256") {
			t.Fatalf("audit: %+v", ev)
		}
		code, h, zipped := get("auditor", "/api/v1/exports/evidence.zip"+query)
		if code != http.StatusOK || h.Get("Content-Type") != "application/zip" {
			t.Fatalf("bundle: %d %v", code, h)
		}
		if checks, ok, err := evidence.VerifyBundle([]byte(zipped), e.packets.PublicKey()); err != nil || !ok {
			t.Fatalf("the bundle does not verify with the published key: %v %+v", err, checks)
		}
		if ev := e.lastEvent(); ev.Action != "export.completed" || ev.ObjectType != "bundle" {
			t.Fatalf("bundle audit: %+v", ev)
		}
		auditor := e.browser().login("auditor")
		if r := auditor.get("/app/exports" + query); r.status != http.StatusOK || !strings.Contains(r.body, "subprocessor_changes") || !strings.Contains(r.body, "<td>4</td>") {
			t.Fatalf("exports page: %d", r.status)
		}
		if r := auditor.get("/app/exports/subprocessors.csv" + query); r.status != http.StatusOK || r.body != body {
			t.Fatalf("dashboard download: %d", r.status)
		}
		if r := e.browser().login("viewer").get("/app/exports"); r.status != http.StatusForbidden {
			t.Fatalf("viewer exports page: %d", r.status)
		}
	})
}
