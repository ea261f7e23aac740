package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

var ackLink = regexp.MustCompile(`http://charter\.test(/ack/[A-Za-z0-9_-]{43})`)

// sendLink hires someone and sends them a link from the dashboard; it
// returns the link's path, read from the outbox page as a team would.
func sendLink(t *testing.T, e *env, ed *browser, email string) string {
	t.Helper()
	if status, _ := e.api("editor", http.MethodPut, "/api/v1/employees/"+email, map[string]any{"name": "Ana Souza", "start_date": "2025-06-01"}); status != http.StatusCreated {
		t.Fatalf("hire: %d", status)
	}
	r := ed.post("/app/people/"+email+"/ack-link", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("send link: %d", r.status)
	}
	r = ed.get("/app/outbox?to=" + url.QueryEscape(email))
	m := ackLink.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("outbox: %d, link not found", r.status)
	}
	return m[1]
}

func TestAcknowledgementThroughTheLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		link := sendLink(t, e, ed, "ana@example.com")
		employee := e.browser() // no session: the link is the credential

		r := employee.get(link)
		if r.status != http.StatusOK || !strings.Contains(r.body, "Hello Ana Souza") || !strings.Contains(r.body, "0 done, 20 to go") || !strings.Contains(r.body, "<h3>Purpose</h3>") || strings.Count(r.body, "<h1") != 1 || strings.Contains(r.body, "## Purpose") {
			t.Fatalf("ack page: %d", r.status)
		}
		for k, want := range map[string]string{"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex", "Cache-Control": "no-store"} {
			if !strings.Contains(r.header.Get(k), want) {
				t.Errorf("%s = %q", k, r.header.Get(k))
			}
		}
		r = employee.postRaw(link, url.Values{"policy": {"backup"}, "version": {"1.0"}}, nil)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "The statement must be ticked") {
			t.Fatalf("without the statement: %d", r.status)
		}
		r = employee.postRaw(link, url.Values{"policy": {"backup"}, "version": {"1.0"}, "agree": {"yes"}}, http.Header{"User-Agent": {"Mozilla/5.0 (iPhone)"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, "acknowledgement is recorded") || !strings.Contains(r.body, "1 done, 19 to go") {
			t.Fatalf("acknowledge: %d", r.status)
		}
		// The dashboard shows it at once.
		r = ed.get("/app/people/ana@example.com")
		if !strings.Contains(r.body, "1 of 20") || !strings.Contains(r.body, "(Link)") {
			t.Fatal("dashboard does not show the acknowledgement")
		}
		status, body := e.api("auditor", http.MethodGet, "/api/v1/employees/ana@example.com", nil)
		acks, _ := body["acknowledgements"].([]any)
		if status != http.StatusOK || len(acks) != 1 || acks[0].(map[string]any)["method"] != "link" {
			t.Fatalf("API after acknowledging: %d %v", status, body)
		}

		// A new link kills the old one: 410, nothing recorded.
		newLink := sendLink2(t, ed, "ana@example.com")
		if r := employee.get(link); r.status != http.StatusGone || strings.Contains(r.body, "Backup Policy") {
			t.Fatalf("old link: %d", r.status)
		}
		r = employee.postRaw(link, url.Values{"policy": {"password"}, "version": {"1.0"}, "agree": {"yes"}}, nil)
		if r.status != http.StatusGone {
			t.Fatalf("posting to the old link: %d", r.status)
		}
		if r := employee.get(newLink); r.status != http.StatusOK {
			t.Fatalf("new link: %d", r.status)
		}
		var n int64
		st.DB.Table("acknowledgements").Count(&n)
		if n != 1 {
			t.Fatalf("%d acknowledgements recorded, want 1", n)
		}
	})
}

func sendLink2(t *testing.T, ed *browser, email string) string {
	t.Helper()
	if r := ed.post("/app/people/"+email+"/ack-link", nil); r.status != http.StatusSeeOther {
		t.Fatalf("send link: %d", r.status)
	}
	m := ackLink.FindStringSubmatch(ed.get("/app/outbox?to=" + url.QueryEscape(email)).body)
	if m == nil {
		t.Fatal("no link in the outbox")
	}
	return m[1]
}

func TestGuessingLinksIsRateLimited(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser()
	got429 := false
	for i := 0; i < 15; i++ {
		r := b.get("/ack/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + string(rune('A'+i)))
		switch r.status {
		case http.StatusNotFound:
			if got429 {
				t.Fatal("a miss was served after the limit")
			}
		case http.StatusTooManyRequests:
			got429 = true
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	if !got429 {
		t.Fatal("15 guesses in a row were never limited")
	}
}

func TestOutboxIsForEditors(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	if r := e.browser().login("auditor").get("/app/outbox"); r.status != http.StatusForbidden {
		t.Fatalf("auditor reading the outbox: %d", r.status)
	}
	ed := e.browser().login("editor")
	e.api("editor", http.MethodPut, "/api/v1/employees/zed@example.com", map[string]any{"name": "Zed", "start_date": "2025-01-01"})
	r := ed.post("/app/people/ack-links", url.Values{"confirm": {"yes"}, "count": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("send all: %d", r.status)
	}
	if r = ed.get("/app/outbox?state=pending"); !strings.Contains(r.body, "zed@example.com") || !strings.Contains(r.body, "1 acknowledgement link queued") {
		t.Fatalf("outbox after sending to all: %d", r.status)
	}
	if r = ed.get("/app/outbox?state=lost"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad state filter: %d", r.status)
	}
}
