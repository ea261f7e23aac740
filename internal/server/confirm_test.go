package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func outboxSize(st *store.Store) (n int64) {
	st.DB.Table("outbox").Count(&n)
	return n
}

func TestSendingEveryAckLinkIsConfirmedFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		for _, p := range [][2]string{{"ann@example.com", "Ann Lee"}, {"bob@example.com", "Bob Ray"}, {"cat@example.com", "Cat Poe"}} {
			if status, _ := e.api("editor", http.MethodPut, "/api/v1/employees/"+p[0], map[string]any{"name": p[1], "start_date": "2025-06-01"}); status != http.StatusCreated {
				t.Fatalf("hire %s: %d", p[0], status)
			}
		}
		if r := ed.post("/app/people/bob@example.com/ack-link", nil); r.status != http.StatusSeeOther {
			t.Fatalf("link for Bob: %d", r.status)
		}
		before := outboxSize(st)

		for name, step := range map[string]func() response{
			"GET":                  func() response { return ed.get("/app/people/ack-links") },
			"POST without confirm": func() response { return ed.post("/app/people/ack-links", nil) },
		} {
			r := step()
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d", name, r.status)
			}
			for _, want := range []string{"3 emails will be queued in the outbox", "1 person already has a live link, which will be replaced",
				"<td>Ann Lee</td><td>ann@example.com</td><td>20</td><td>none</td>", "<td>bob@example.com</td><td>20</td><td>will be replaced</td>",
				"cat@example.com", `name="count" value="3"`, "Send 3 emails"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("%s: the confirmation lacks %q", name, want)
				}
			}
			if n := outboxSize(st); n != before {
				t.Fatalf("%s queued %d emails before the confirmation", name, n-before)
			}
		}

		// Confirmed for a number that is no longer true: shown again, nothing sent.
		r := ed.post("/app/people/ack-links", url.Values{"confirm": {"yes"}, "count": {"2"}})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "changed since you looked") || !strings.Contains(r.body, "Send 3 emails") || outboxSize(st) != before {
			t.Fatalf("confirming a stale count: %d, %d queued", r.status, outboxSize(st)-before)
		}
		r = ed.post("/app/people/ack-links", url.Values{"confirm": {"yes"}, "count": {"3"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/outbox" {
			t.Fatalf("confirmed: %d", r.status)
		}
		var to []string
		st.DB.Table("outbox").Where("id > ?", before).Order("to_addr").Pluck("to_addr", &to)
		if strings.Join(to, " ") != "ann@example.com bob@example.com cat@example.com" {
			t.Fatalf("queued to %v, want Ann, Bob and Cat once each", to)
		}
		if r := ed.get("/app/outbox"); !strings.Contains(r.body, "3 acknowledgement links queued") {
			t.Fatal("no flash after sending")
		}
	})
}

func TestNothingToSendIsSaid(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	r := e.browser().login("editor").get("/app/people/ack-links")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Nobody owes an acknowledgement: no email will be sent.") || strings.Contains(r.body, `name="confirm"`) {
		t.Fatalf("confirmation with nobody to email: %d", r.status)
	}
}

func TestPublishingAnAdvisoryIsConfirmedFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		now := e.clock.Now()
		for _, s := range []privacy.Subscriber{
			{Email: "a@customer.example", CreatedAt: now, ConfirmedAt: &now},
			{Email: "b@customer.example", CreatedAt: now, ConfirmedAt: &now},
			{Email: "unconfirmed@customer.example", CreatedAt: now},
			{Email: "gone@customer.example", CreatedAt: now, ConfirmedAt: &now, UnsubscribedAt: &now},
		} {
			if err := st.DB.Create(&s).Error; err != nil {
				t.Fatal(err)
			}
		}
		code, a := e.api("editor", http.MethodPost, "/api/v1/advisories", fullAdvisory())
		if code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		id := a["id"].(string)
		ed := e.browser().login("editor")
		before := outboxSize(st)
		r := ed.post("/app/advisories/"+id+"/publish", nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "2 emails will be queued: one to each of the 2 confirmed subscribers") || !strings.Contains(r.body, "Publish and send 2 emails") {
			t.Fatalf("publish, first step: %d", r.status)
		}
		if outboxSize(st) != before {
			t.Fatal("the confirmation step queued emails")
		}
		if r := e.browser().get("/trust/advisories/" + id); r.status != http.StatusNotFound {
			t.Fatalf("the confirmation step published the advisory: %d", r.status)
		}
		if r := ed.post("/app/advisories/"+id+"/publish", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
			t.Fatalf("publish: %d", r.status)
		}
		if n := outboxSize(st) - before; n != 2 {
			t.Fatalf("publishing queued %d emails, want the 2 announced", n)
		}
		// Published already: no second confirmation, a message.
		if r := ed.post("/app/advisories/"+id+"/publish", nil); r.status != http.StatusSeeOther {
			t.Fatalf("confirming a published advisory: %d", r.status)
		}
	})
}
