package server_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// apiCSV posts a CSV body and returns the status, the body and the
// content type.
func (e *env) apiCSV(name, path, body string) (int, string, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+e.tokens[name])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header.Get("Content-Type")
}

// approvedAnswer adds an answer as editor and approves it as editor2.
func approvedAnswer(t *testing.T, e *env, body map[string]any) map[string]any {
	t.Helper()
	code, a := e.api("editor", http.MethodPost, "/api/v1/answers", body)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, a)
	}
	code, a = e.api("editor2", http.MethodPost, fmt.Sprintf("/api/v1/answers/%v/approve", a["id"]), nil)
	if code != http.StatusOK || a["state"] != "approved" {
		t.Fatalf("approve: %d %v", code, a)
	}
	return a
}

func TestAnswersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		code, a := e.api("editor", http.MethodPost, "/api/v1/answers", map[string]any{"question": "Do you encrypt data at rest?",
			"answer": "Yes, AES-256.", "access": "public", "owner_email": "security@example.com",
			"evidence": []map[string]any{{"policy": "encryption", "section": "Data at rest"}}})
		if code != http.StatusCreated || a["state"] != "draft" {
			t.Fatalf("create: %d %v", code, a)
		}
		path := fmt.Sprintf("/api/v1/answers/%v", a["id"])
		if code, out := e.api("editor", http.MethodPost, path+"/approve", nil); code != http.StatusForbidden {
			t.Fatalf("self-approval: %d %v", code, out)
		}
		if code, out := e.api("viewer", http.MethodPost, path+"/approve", nil); code != http.StatusForbidden {
			t.Fatalf("viewer approval: %d %v", code, out)
		}
		if code, out := e.api("editor2", http.MethodPost, path+"/approve", nil); code != http.StatusOK || out["approved_by"] != e.emails["editor2"] {
			t.Fatalf("approval: %d %v", code, out)
		}
		code, out := e.api("editor", http.MethodPost, "/api/v1/answers", map[string]any{"question": "Q?", "answer": "A", "access": "secret",
			"owner_email": "security@example.com", "evidence": []map[string]any{{"policy": "no-such-policy"}}})
		fields, _ := out["error"].(map[string]any)["fields"].(map[string]any)
		if code != http.StatusUnprocessableEntity || fields["access"] == nil || fields["evidence"] == nil {
			t.Fatalf("bad answer: %d %v", code, out)
		}
		for q, want := range map[string]int{"ENCRYPT": 1, "%25": 0, "nothing-like-it": 0} {
			code, out := e.api("viewer", http.MethodGet, "/api/v1/answers?q="+q, nil)
			if items, _ := out["items"].([]any); code != http.StatusOK || len(items) != want {
				t.Errorf("search %q: %d %v", q, code, out)
			}
		}
	})
}

func TestQuestionnaireSheetThroughAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		approvedAnswer(t, e, map[string]any{"question": "Do you encrypt data at rest?", "answer": "Yes, AES-256.", "access": "on_request",
			"owner_email": "security@example.com", "evidence": []map[string]any{{"policy": "encryption", "section": "3"}}})
		sheet, err := os.ReadFile("../questionnaire/testdata/sig_lite_50.csv")
		if err != nil {
			t.Fatal(err)
		}
		code, body, ctype := e.apiCSV("viewer", "/api/v1/answers/questionnaire", string(sheet))
		if code != http.StatusOK || !strings.HasPrefix(ctype, "text/csv") {
			t.Fatalf("fill: %d %s %s", code, ctype, body)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 51 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
		if r := recs[1]; r[1] != "Do you encrypt data at rest?" || r[3] != "Yes, AES-256." || r[4] != "on request" ||
			!strings.Contains(r[5], "Encryption Policy 1.0, section 3") || r[6] != "exact" {
			t.Fatalf("first row %q", r)
		}
		code, body, _ = e.apiCSV("viewer", "/api/v1/answers/questionnaire", "ID,Question\n1,\"Do you\xff\"\n")
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "row 2, column B: is not UTF-8 text") {
			t.Fatalf("bad sheet: %d %s", code, body)
		}
		code, body, _ = e.apiCSV("editor", "/api/v1/answers/import?access=internal&owner_email=security@example.com",
			"Question,Answer\nDo you have a DPO?,Yes.\nWho is it?,\n")
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "row 3, column B (answer)") {
			t.Fatalf("bad import: %d %s", code, body)
		}
		code, body, _ = e.apiCSV("editor", "/api/v1/answers/import?access=internal&owner_email=security@example.com",
			"Question,Answer\nDo you have a DPO?,Yes.\n")
		if code != http.StatusCreated || !strings.Contains(body, `"created":1`) {
			t.Fatalf("import: %d %s", code, body)
		}
		if code, _, _ := e.apiCSV("viewer", "/api/v1/answers/import?access=internal&owner_email=security@example.com", "Question,Answer\nQ,A\n"); code != http.StatusForbidden {
			t.Fatalf("viewer import: %d", code)
		}
	})
}

func TestFlaggedAnswerThroughAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a := approvedAnswer(t, e, map[string]any{"question": "Are backups tested?", "answer": "Monthly.", "access": "public",
			"owner_email": "security@example.com", "evidence": []map[string]any{{"policy": "backup"}}})
		code, v := e.api("editor", http.MethodPost, "/api/v1/policies/backup/versions", map[string]any{"body": "# Backup\n\nDaily.",
			"change_summary": "Daily", "material": true})
		if code != http.StatusCreated {
			t.Fatalf("draft: %d %v", code, v)
		}
		for _, step := range []string{"approve", "publish"} {
			if code, out := e.api("editor2", http.MethodPost, fmt.Sprintf("/api/v1/policies/backup/versions/%v/%s", v["version"], step), nil); code != http.StatusOK {
				t.Fatalf("%s: %d %v", step, code, out)
			}
		}
		path := fmt.Sprintf("/api/v1/answers/%v", a["id"])
		_, got := e.api("viewer", http.MethodGet, path, nil)
		if got["needs_review"] != true || !strings.Contains(fmt.Sprint(got["review_reason"]), "version 2.0") {
			t.Fatalf("after 2.0: %v", got)
		}
		if _, flagged := e.api("viewer", http.MethodGet, "/api/v1/answers?review=true", nil); len(flagged["items"].([]any)) != 1 {
			t.Fatalf("flagged list %v", flagged)
		}
		code, got = e.api("editor", http.MethodPost, path+"/review", nil)
		ev := got["evidence"].([]any)[0].(map[string]any)
		if code != http.StatusOK || got["needs_review"] != false || ev["checked_version"] != "2.0" {
			t.Fatalf("review: %d %v", code, got)
		}
	})
}

func TestPacketCarriesAnswersThroughAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a := approvedAnswer(t, e, map[string]any{"question": "Do you encrypt data at rest?", "answer": "Yes, AES-256.", "access": "on_request",
			"owner_email": "security@example.com"})
		id := packettest.Request(t, e.packets, st.DB, "dana@customer.example")
		code, p := e.api("editor", http.MethodPost, fmt.Sprintf("/api/v1/packet-requests/%d/approve", id), map[string]any{"exact": true,
			"policies": []string{"encryption"}, "answers": []any{a["id"]}})
		if code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("approve: %d %v", code, p)
		}
		link := packettest.Accept(t, e.packets, st.DB, "dana@customer.example")
		if page := e.browser().get(link); page.status != http.StatusOK {
			t.Fatalf("packet link: %d", page.status)
		}
		r := e.browser().get(link + "/manifest.json")
		var m struct {
			Answers []struct {
				ID       int64  `json:"id"`
				Question string `json:"question"`
				SHA256   string `json:"sha256"`
			} `json:"answers"`
		}
		if err := json.Unmarshal([]byte(r.body), &m); err != nil || len(m.Answers) != 1 || m.Answers[0].Question != "Do you encrypt data at rest?" || len(m.Answers[0].SHA256) != 64 {
			t.Fatalf("manifest %d %s (%v)", r.status, r.body, err)
		}
		// The team's packet page lists it too.
		page := e.browser().login("viewer").get(fmt.Sprintf("/app/packets/%v", p["packet"].(map[string]any)["packet_id"]))
		if !strings.Contains(page.body, "Questionnaire answers") || !strings.Contains(page.body, "Do you encrypt data at rest?") {
			t.Fatalf("packet page %d lists no answers: %v", page.status, p)
		}
	})
}

func TestAnswerForms(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser().login("editor")
	b.get("/app/answers/new")
	r := b.post("/app/answers", url.Values{"question": {"Do you encrypt data at rest?"}, "answer": {"Yes."}, "access": {"public"},
		"owner_email": {"security@example.com"}, "evidence": {"policy/encryption#Data at rest\nsomething else"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "line 2") || !strings.Contains(r.body, "Do you encrypt data at rest?") {
		t.Fatalf("bad evidence: %d %s", r.status, r.body)
	}
	r = b.post("/app/answers", url.Values{"question": {"Do you encrypt data at rest?"}, "answer": {"Yes."}, "access": {"public"},
		"owner_email": {"security@example.com"}, "evidence": {"policy/encryption#Data at rest"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.status)
	}
	if r = b.get(r.header.Get("Location")); !strings.Contains(r.body, "checked against version 1.0, section Data at rest") {
		t.Fatalf("answer page: %d", r.status)
	}
	list := e.browser().login("viewer").get("/app/answers?q=ENCRYPT&access=public")
	if list.status != http.StatusOK || !strings.Contains(list.body, "Do you encrypt data at rest?") {
		t.Fatalf("list: %d", list.status)
	}
}

// TestPublicAnswersOnTrust: /trust/answers shows the approved public
// answers and nothing else, and /trust links to it once there is one.
func TestPublicAnswersOnTrust(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		visitor := e.browser()
		if r := visitor.get("/trust"); r.status != http.StatusOK || strings.Contains(r.body, "/trust/answers") {
			t.Fatalf("/trust links to answers before there are any: %d", r.status)
		}
		approvedAnswer(t, e, map[string]any{"question": "Do you encrypt data at rest?", "answer": "Yes, AES-256.", "access": "public",
			"owner_email": "security@example.com", "evidence": []map[string]any{{"policy": "encryption", "section": "3"}}})
		approvedAnswer(t, e, map[string]any{"question": "Who holds the keys?", "answer": "Two engineers.", "access": "internal",
			"owner_email": "security@example.com"})
		approvedAnswer(t, e, map[string]any{"question": "How are keys rotated?", "answer": "Yearly.", "access": "on_request",
			"owner_email": "security@example.com"})
		e.api("editor", http.MethodPost, "/api/v1/answers", map[string]any{"question": "Is this a draft?", "answer": "Yes.", "access": "public",
			"owner_email": "security@example.com"})
		r := visitor.get("/trust/answers")
		if r.status != http.StatusOK || !strings.Contains(r.body, "Yes, AES-256.") || !strings.Contains(r.body, "Encryption Policy 1.0, section 3") {
			t.Fatalf("/trust/answers: %d %s", r.status, r.body)
		}
		for _, hidden := range []string{"Two engineers", "Yearly", "Is this a draft?"} {
			if strings.Contains(r.body, hidden) {
				t.Errorf("/trust/answers shows %q", hidden)
			}
		}
		if r := visitor.get("/trust"); !strings.Contains(r.body, `<a href="/trust/answers">1 answer to common security questions</a>`) {
			t.Error("/trust does not link to the answer")
		}
	})
}
