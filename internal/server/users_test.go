package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

var secretPattern = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)

func TestAdminManagesUsersAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		admin := e.browser().login("admin")

		r := admin.post("/app/users", url.Values{"email": {"not-an-email"}, "role": {"editor"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be an email address") || !strings.Contains(r.body, `value="not-an-email"`) {
			t.Fatalf("invalid user: %d", r.status)
		}
		r = admin.post("/app/users", url.Values{"email": {"New.Person@Example.com"}, "name": {"New Person"}, "role": {"auditor"}})
		m := secretPattern.FindStringSubmatch(r.body)
		if r.status != http.StatusCreated || m == nil {
			t.Fatalf("add user: %d", r.status)
		}
		newcomer := e.browser()
		if r := newcomer.post("/login", url.Values{"email": {"new.person@example.com"}, "password": {m[1]}}); r.status != http.StatusSeeOther {
			t.Fatalf("new user signing in with the shown password: %d", r.status)
		}

		// A role change ends the user's sessions.
		ed2 := e.browser().login("editor2")
		var id string
		st.DB.Raw("SELECT CAST(id AS TEXT) FROM users WHERE email = ?", "editor2@example.com").Scan(&id)
		if r := admin.post("/app/users/"+id+"/role", url.Values{"role": {"viewer"}}); r.status != http.StatusSeeOther {
			t.Fatalf("change role: %d %s", r.status, r.body)
		}
		if r := ed2.get("/app/"); r.status != http.StatusSeeOther {
			t.Fatalf("session survived a role change: %d", r.status)
		}
		if ev := e.lastEvent(); ev.Action != "user.role_changed" || ev.Actor != "admin@example.com" {
			t.Fatalf("audit: %+v", ev)
		}

		// The last admin cannot be disabled.
		st.DB.Raw("SELECT CAST(id AS TEXT) FROM users WHERE email = ?", "admin@example.com").Scan(&id)
		r = admin.post("/app/users/"+id+"/disable", nil)
		if r.status != http.StatusConflict || !strings.Contains(r.body, "last active admin") {
			t.Fatalf("disabling the last admin: %d", r.status)
		}

		// Tokens: bad input named, created once, work, revoked at once.
		r = admin.post("/app/tokens", url.Values{"token_email": {"viewer@example.com"}, "token_name": {"x"}, "token_expires_days": {"900"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "from 1 to 366") {
			t.Fatalf("bad expiry: %d", r.status)
		}
		r = admin.post("/app/tokens", url.Values{"token_email": {"nobody@example.com"}, "token_name": {"x"}, "token_expires_days": {"30"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "no user has this email") {
			t.Fatalf("unknown user: %d", r.status)
		}
		r = admin.post("/app/tokens", url.Values{"token_email": {"viewer@example.com"}, "token_name": {"Scanner"}, "token_expires_days": {"30"}})
		m = secretPattern.FindStringSubmatch(r.body)
		if r.status != http.StatusCreated || m == nil {
			t.Fatalf("create token: %d", r.status)
		}
		e.tokens["scanner"] = m[1]
		if status, _ := e.api("scanner", http.MethodGet, "/api/v1/policies", nil); status != http.StatusOK {
			t.Fatalf("new token: %d", status)
		}
		st.DB.Raw("SELECT CAST(id AS TEXT) FROM api_tokens WHERE name = ?", "Scanner").Scan(&id)
		if r := admin.post("/app/tokens/"+id+"/revoke", nil); r.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.status)
		}
		if status, _ := e.api("scanner", http.MethodGet, "/api/v1/policies", nil); status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d", status)
		}
		if r := admin.get("/app/users"); !strings.Contains(r.body, "revoked") || strings.Contains(r.body, m[1]) {
			t.Fatal("users page: revoked state missing, or the secret shown again")
		}
	})
}

func TestChangeOwnPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		here := e.browser().login("viewer")
		elsewhere := e.browser().login("viewer")
		cases := []struct {
			form  url.Values
			field string
		}{
			{url.Values{"current_password": {"wrong"}, "new_password": {"fresh long passphrase"}, "confirm_password": {"fresh long passphrase"}}, "is not your current password"},
			{url.Values{"current_password": {testPassword}, "new_password": {"fresh long passphrase"}, "confirm_password": {"other"}}, "does not match"},
			{url.Values{"current_password": {testPassword}, "new_password": {"iloveyou"}, "confirm_password": {"iloveyou"}}, "most common passwords"},
		}
		for _, c := range cases {
			if r := here.post("/app/account/password", c.form); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, c.field) {
				t.Errorf("%v: %d, want 422 with %q", c.form, r.status, c.field)
			}
		}
		r := here.post("/app/account/password", url.Values{"current_password": {testPassword}, "new_password": {"fresh long passphrase"}, "confirm_password": {"fresh long passphrase"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/account" {
			t.Fatalf("change: %d %s", r.status, r.header.Get("Location"))
		}
		if r := here.get("/app/account"); r.status != http.StatusOK || !strings.Contains(r.body, "Password changed") {
			t.Fatalf("this browser after the change: %d", r.status)
		}
		if r := elsewhere.get("/app/"); r.status != http.StatusSeeOther {
			t.Fatalf("other session survived a password change: %d", r.status)
		}
		if r := e.browser().post("/login", url.Values{"email": {"viewer@example.com"}, "password": {"fresh long passphrase"}}); r.status != http.StatusSeeOther {
			t.Fatalf("new password: %d", r.status)
		}
	})
}

func TestAuditorAccessEndDateStopsSessionsAndTokens(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	aud := e.browser().login("auditor")
	var u auth.User
	e.st.DB.Where("email = ?", e.emails["auditor"]).Take(&u)
	admin := e.browser().login("admin")
	setUntil := func(day time.Time) {
		t.Helper()
		if r := admin.post(fmt.Sprintf("/app/users/%d/access-until", u.ID), url.Values{"access_until": {day.Format("2006-01-02")}}); r.status != http.StatusSeeOther {
			t.Fatalf("set: %d %s", r.status, r.body)
		}
	}
	// Today is the last day: everything still works.
	setUntil(e.clock.Now())
	if r := aud.get("/app/exports"); r.status != http.StatusOK {
		t.Fatalf("on the last day: %d", r.status)
	}
	if code, _ := e.api("auditor", http.MethodGet, "/api/v1/policies", nil); code != http.StatusOK {
		t.Fatalf("token on the last day: %d", code)
	}
	// Ended yesterday: the session, the token and signing in stop at once.
	setUntil(e.clock.Now().AddDate(0, 0, -1))
	if r := aud.get("/app/exports"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("session after the end: %d", r.status)
	}
	if code, _ := e.api("auditor", http.MethodGet, "/api/v1/policies", nil); code != http.StatusUnauthorized {
		t.Fatalf("token after the end: %d", code)
	}
	r := e.browser().post("/login", url.Values{"email": {e.emails["auditor"]}, "password": {testPassword}})
	if r.status == http.StatusSeeOther {
		t.Fatal("signed in after the access ended")
	}
	if ev := e.lastEvent(); ev.Action != "auth.login.failed" || !strings.Contains(ev.AfterJSON, "access ended") {
		t.Fatalf("last event: %s %s", ev.Action, ev.AfterJSON)
	}
}

var sessionEnd = regexp.MustCompile(`/app/account/sessions/([0-9a-f]{64})/end`)

func TestUsersSeeAndEndTheirSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		laptop := e.browser().login("viewer")
		phone := e.browser().login("viewer")
		page := laptop.get("/app/account")
		if strings.Count(page.body, "127.0.0.1") != 2 || !strings.Contains(page.body, "this browser") || !strings.Contains(page.body, "Go-http-client") {
			t.Fatalf("sessions listed: %s", page.body)
		}
		m := sessionEnd.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatal("no End button for the other session")
		}
		if r := laptop.post(m[0], nil); r.status != http.StatusSeeOther {
			t.Fatalf("end: %d", r.status)
		}
		if r := phone.get("/app/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
			t.Fatalf("the ended session still works: %d", r.status)
		}
		if r := laptop.get("/app/"); r.status != http.StatusOK {
			t.Fatalf("this browser was signed out: %d", r.status)
		}
		// Another user's session cannot be ended through one's own page.
		ed := e.browser().login("editor")
		edPage := ed.get("/app/account")
		theirs := sessionEnd.FindAllStringSubmatch(edPage.body, -1)
		if len(theirs) != 0 {
			t.Fatal("the editor's page offers to end its only (current) session")
		}
		var edSession string
		st.DB.Table("sessions").Joins("JOIN users ON users.id = sessions.user_id").Where("users.email = ?", e.emails["editor"]).Select("token_hash").Scan(&edSession)
		if r := laptop.post("/app/account/sessions/"+edSession+"/end", nil); r.status != http.StatusNotFound {
			t.Fatalf("ended another user's session: %d", r.status)
		}
		// An admin ends all of a user's sessions.
		var u auth.User
		st.DB.Where("email = ?", e.emails["editor"]).Take(&u)
		if r := e.browser().login("admin").post(fmt.Sprintf("/app/users/%d/end-sessions", u.ID), nil); r.status != http.StatusSeeOther {
			t.Fatalf("admin end: %d", r.status)
		}
		if r := ed.get("/app/"); r.status != http.StatusSeeOther {
			t.Fatalf("the editor is still signed in: %d", r.status)
		}
		if ev := e.lastEvent(); ev.Action != "session.ended_all" {
			t.Fatalf("audit: %+v", ev)
		}
	})
}

func TestAccessReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		aud := e.browser().login("auditor")
		page := aud.get("/app/access-review")
		if page.status != http.StatusOK || !strings.Contains(page.body, e.emails["editor"]) || !strings.Contains(page.body, "live until") || strings.Contains(page.body, `action="/app/access-review"`) {
			t.Fatalf("auditor's view: %d", page.status)
		}
		if r := aud.post("/app/access-review", url.Values{"note": {"looked"}}); r.status != http.StatusForbidden {
			t.Fatalf("an auditor recorded a review: %d", r.status)
		}
		admin := e.browser().login("admin")
		if r := admin.post("/app/access-review", url.Values{"note": {""}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("empty note: %d", r.status)
		}
		if r := admin.post("/app/access-review", url.Values{"note": {"Q3: disabled two leavers, revoked one unused token."}}); r.status != http.StatusSeeOther {
			t.Fatalf("record: %d %s", r.status, r.body)
		}
		if r := aud.get("/app/access-review"); !strings.Contains(r.body, "Q3: disabled two leavers") || !strings.Contains(r.body, "<td>5</td><td>5</td>") {
			t.Fatalf("the review is not listed: %s", r.body)
		}
		year := e.clock.Now().Format("2006")
		if r := aud.get("/app/exports/access_review_log.csv?from=" + year + "-01-01&to=" + year + "-12-31"); !strings.Contains(r.body, "Q3: disabled two leavers") {
			t.Fatalf("access_review_log export: %s", r.body)
		}
		if r := e.browser().login("viewer").get("/app/access-review"); r.status != http.StatusForbidden {
			t.Fatalf("a viewer saw the access review: %d", r.status)
		}
	})
}
