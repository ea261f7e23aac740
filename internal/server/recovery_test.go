package server_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
)

var (
	secretShown = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)
	resetLinkIn = regexp.MustCompile(`http://charter\.test(/login/reset/[A-Za-z0-9_-]{43})`)
	requestIDIn = regexp.MustCompile(`request [0-9a-f]{24}`)
)

// userByName returns the account of one of the env's users.
func (e *env) userByName(name string) *auth.User {
	e.t.Helper()
	u, err := e.users.ByEmail(e.t.Context(), e.emails[name])
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// eventsOf returns the actions of the audit events about a user, oldest first.
func (e *env) eventsOf(u *auth.User) []string {
	var actions []string
	e.st.DB.Model(&audit.Event{}).Where("object_type = ? AND object_id = ?", "user", fmt.Sprint(u.ID)).Order("seq").Pluck("action", &actions)
	return actions
}

func hasAction(actions []string, want string) bool {
	for _, a := range actions {
		if a == want {
			return true
		}
	}
	return false
}

// signedOut fails unless b's session no longer reaches the dashboard.
func signedOut(t *testing.T, b *browser, who string) {
	t.Helper()
	if r := b.get("/app/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("%s is still signed in: %d %s", who, r.status, r.header.Get("Location"))
	}
}

// signInWith posts the sign-in form and returns the browser and answer.
func (e *env) signInWith(name, password string) (*browser, response) {
	b := e.browser()
	return b, b.post("/login", url.Values{"email": {e.emails[name]}, "password": {password}})
}

func TestAdminResetsAPasswordFromTheUsersPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.userByName("editor")
		before := e.browser().login("editor")
		admin := e.browser().login("admin")
		if page := admin.get("/app/users"); !strings.Contains(page.body, fmt.Sprintf(`action="/app/users/%d/reset-password"`, ed.ID)) ||
			!strings.Contains(page.body, "Unlock sign-in") || strings.Contains(page.body, fmt.Sprintf(`/app/users/%d/reset-password`, e.userByName("admin").ID)) {
			t.Fatal("the Users page lacks the reset buttons, or offers the admin their own")
		}

		r := admin.post(fmt.Sprintf("/app/users/%d/reset-password", ed.ID), nil)
		m := secretShown.FindStringSubmatch(r.body)
		if r.status != http.StatusOK || m == nil {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		oneTime := html.UnescapeString(m[1])
		signedOut(t, before, "the editor's earlier browser")
		if _, r := e.signInWith("editor", testPassword); r.status != http.StatusUnauthorized {
			t.Fatalf("old password: %d", r.status)
		}

		// The one-time password signs in, to the change-password page only.
		b, r := e.signInWith("editor", oneTime)
		if r.status != http.StatusSeeOther {
			t.Fatalf("one-time password: %d", r.status)
		}
		for _, path := range []string{"/app/", "/app/policies", "/app/account", "/app/account/mfa"} {
			if r := b.get(path); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/account/password" {
				t.Errorf("GET %s before the change: %d %s", path, r.status, r.header.Get("Location"))
			}
		}
		if r := b.post("/app/people/ack-links", nil); r.status != http.StatusForbidden {
			t.Fatalf("a write before the change: %d", r.status)
		}
		if page := b.get("/app/account/password"); page.status != http.StatusOK || !strings.Contains(page.body, "An administrator reset your password") {
			t.Fatalf("change page: %d", page.status)
		}
		for _, c := range []struct {
			name  string
			form  url.Values
			field string
		}{
			{"mismatch", url.Values{"current_password": {oneTime}, "new_password": {"my own new passphrase"}, "confirm_password": {"something else"}}, "confirm_password-error"},
			{"common password", url.Values{"current_password": {oneTime}, "new_password": {"password1"}, "confirm_password": {"password1"}}, "new_password-error"},
			{"same as the one-time one", url.Values{"current_password": {oneTime}, "new_password": {oneTime}, "confirm_password": {oneTime}}, "new_password-error"},
			{"wrong current password", url.Values{"current_password": {testPassword}, "new_password": {"my own new passphrase"}, "confirm_password": {"my own new passphrase"}}, "current_password-error"},
		} {
			r := b.post("/app/account/password", c.form)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, c.field) || !strings.Contains(r.body, "An administrator reset your password") {
				t.Errorf("%s: %d, want 422 with %s on the focused page", c.name, r.status, c.field)
			}
		}
		r = b.post("/app/account/password", url.Values{"current_password": {oneTime}, "new_password": {"my own new passphrase"}, "confirm_password": {"my own new passphrase"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("change: %d %s", r.status, r.header.Get("Location"))
		}
		if r := b.get("/app/policies"); r.status != http.StatusOK {
			t.Fatalf("after the change: %d", r.status)
		}
		if _, r := e.signInWith("editor", oneTime); r.status != http.StatusUnauthorized {
			t.Fatalf("one-time password after the change: %d", r.status)
		}
		events := e.eventsOf(ed)
		if !hasAction(events, "user.password_reset") || !hasAction(events, "user.password_changed") {
			t.Fatalf("audit: %v", events)
		}
		var reset audit.Event
		st.DB.Where("action = ?", "user.password_reset").Take(&reset)
		if reset.Actor != e.emails["admin"] || strings.Contains(reset.AfterJSON, oneTime) {
			t.Fatalf("reset event: %+v", reset)
		}

		// Refusals render the Users page with the reason.
		for path, want := range map[string]int{
			fmt.Sprintf("/app/users/%d/reset-password", e.userByName("admin").ID): http.StatusConflict,
			"/app/users/9999/reset-password":                                      http.StatusNotFound,
			"/app/users/abc/reset-password":                                       http.StatusNotFound,
		} {
			if r := admin.post(path, nil); r.status != want || secretShown.MatchString(r.body) {
				t.Errorf("POST %s: %d, want %d and no password", path, r.status, want)
			}
		}
		// Other roles may not reset anyone.
		if r := e.browser().login("editor2").post(fmt.Sprintf("/app/users/%d/reset-password", e.userByName("viewer").ID), nil); r.status != http.StatusForbidden {
			t.Fatalf("an editor reset a password: %d", r.status)
		}
	})
}

func TestPasswordResetByEmailLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		viewer := e.userByName("viewer")
		before := e.browser().login("viewer")
		b := e.browser()
		if page := b.get("/login"); !strings.Contains(page.body, `href="/login/forgot"`) {
			t.Fatal("no Forgot password? link on /login")
		}
		if page := b.get("/login/forgot"); page.status != http.StatusOK || !strings.Contains(page.body, `action="/login/forgot"`) {
			t.Fatalf("forgot form: %d", page.status)
		}
		count := func(table string) int64 {
			var n int64
			st.DB.Table(table).Count(&n)
			return n
		}
		ask := func(email string) response {
			r := b.post("/login/forgot", url.Values{"email": {email}})
			r.body = requestIDIn.ReplaceAllString(r.body, "")
			return r
		}

		// An unknown address: the same answer, and nothing stored or sent.
		rows := [3]int64{count("outbox"), count("share_links"), count("audit_events")}
		unknown := ask("nobody@example.com")
		if got := [3]int64{count("outbox"), count("share_links"), count("audit_events")}; got != rows {
			t.Fatalf("an unknown address stored outbox, links, events %v (was %v)", got, rows)
		}
		known := ask(strings.ToUpper(e.emails["viewer"]))
		if unknown.status != http.StatusOK || known.status != http.StatusOK || unknown.body != known.body {
			t.Fatalf("answers differ: %d / %d\n%s\n---\n%s", unknown.status, known.status, unknown.body, known.body)
		}
		if !strings.Contains(known.body, "30 minutes") {
			t.Fatalf("the answer does not say how long the link works: %s", known.body)
		}
		var mail notify.Message
		st.DB.Where("to_addr = ? AND kind = ?", e.emails["viewer"], "password_reset").Take(&mail)
		link := resetLinkIn.FindStringSubmatch(mail.Body)
		if link == nil {
			t.Fatalf("no reset link in %q", mail.Body)
		}
		path := link[1]

		// Input that is not an address is refused naming the field: by the
		// form itself, or (control characters, which a browser's text
		// input cannot send) by the text rules at the edge.
		for _, bad := range []string{"not an address", "viewer@example.com\x00", "viewer@example.com\r\nBcc: x@evil.example"} {
			if r := ask(bad); r.status != http.StatusUnprocessableEntity || !(strings.Contains(r.body, "email-error") || strings.Contains(r.body, "Email must")) {
				t.Errorf("%q: %d", bad, r.status)
			}
		}

		page := b.get(path)
		if page.status != http.StatusOK || !strings.Contains(page.body, "new_password") || page.header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("reset page: %d %q", page.status, page.header.Get("Referrer-Policy"))
		}
		if r := b.post(path, url.Values{"new_password": {"a fresh start passphrase"}, "confirm_password": {"typo"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "confirm_password-error") {
			t.Fatalf("mismatch: %d", r.status)
		}
		if r := b.post(path, url.Values{"new_password": {"password1"}, "confirm_password": {"password1"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "new_password-error") {
			t.Fatalf("common password: %d", r.status)
		}
		r := b.post(path, url.Values{"new_password": {"a fresh start passphrase"}, "confirm_password": {"a fresh start passphrase"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Fatalf("reset: %d %s", r.status, r.header.Get("Location"))
		}
		signedOut(t, before, "the viewer's earlier browser")
		if _, r := e.signInWith("viewer", testPassword); r.status != http.StatusUnauthorized {
			t.Fatalf("old password: %d", r.status)
		}
		if _, r := e.signInWith("viewer", "a fresh start passphrase"); r.status != http.StatusSeeOther {
			t.Fatalf("new password: %d", r.status)
		}
		// Single use.
		if r := b.get(path); r.status != http.StatusGone {
			t.Fatalf("used link, GET: %d", r.status)
		}
		if r := b.post(path, url.Values{"new_password": {"a third passphrase"}, "confirm_password": {"a third passphrase"}}); r.status != http.StatusGone {
			t.Fatalf("used link, POST: %d", r.status)
		}
		events := e.eventsOf(viewer)
		if !hasAction(events, "user.password_reset_requested") || !hasAction(events, "user.password_reset_completed") {
			t.Fatalf("audit: %v", events)
		}

		// A link expires.
		ask(e.emails["viewer"])
		var later notify.Message
		st.DB.Where("to_addr = ? AND kind = ?", e.emails["viewer"], "password_reset").Order("id DESC").First(&later)
		expiring := resetLinkIn.FindStringSubmatch(later.Body)[1]
		if r := b.get(expiring); r.status != http.StatusOK {
			t.Fatalf("fresh link: %d", r.status)
		}
		e.clock.Advance(31 * time.Minute)
		if r := b.get(expiring); r.status != http.StatusGone {
			t.Fatalf("expired link, GET: %d", r.status)
		}
		if r := b.post(expiring, url.Values{"new_password": {"a third passphrase"}, "confirm_password": {"a third passphrase"}}); r.status != http.StatusGone {
			t.Fatalf("expired link, POST: %d", r.status)
		}
		if r := b.get("/login/reset/not-a-token"); r.status != http.StatusNotFound {
			t.Fatalf("junk token: %d", r.status)
		}
	})
}

func TestAdminResetsTwoFactor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, requireMFA)
		secret, _ := enrolForTest(t, e, e.users, e.emails["editor"])
		ed := e.userByName("editor")
		signInWithCode := func(password string) (*browser, response) {
			b, r := e.signInWith("editor", password)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/mfa" {
				t.Fatalf("password step: %d %s", r.status, r.header.Get("Location"))
			}
			e.clock.Advance(30 * time.Second)
			code, _ := totp.GenerateCode(secret, e.clock.Now())
			return b, b.post("/login/mfa", url.Values{"code": {code}})
		}
		before, r := signInWithCode(testPassword)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("sign-in with the code: %d %s", r.status, r.header.Get("Location"))
		}
		// Admins must use a second factor too.
		adminSecret, _ := enrolForTest(t, e, e.users, e.emails["admin"])
		admin := e.browser()
		if r := admin.post("/login", url.Values{"email": {e.emails["admin"]}, "password": {testPassword}}); r.header.Get("Location") != "/login/mfa" {
			t.Fatalf("admin password step: %d", r.status)
		}
		e.clock.Advance(30 * time.Second)
		code, _ := totp.GenerateCode(adminSecret, e.clock.Now())
		if r := admin.post("/login/mfa", url.Values{"code": {code}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("admin sign-in: %d %s", r.status, r.header.Get("Location"))
		}
		if page := admin.get("/app/users"); !strings.Contains(page.body, fmt.Sprintf(`action="/app/users/%d/reset-mfa"`, ed.ID)) {
			t.Fatal("no Reset two-factor button for the enrolled editor")
		}

		r = admin.post(fmt.Sprintf("/app/users/%d/reset-mfa", ed.ID), nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/users" {
			t.Fatalf("reset: %d %s", r.status, r.header.Get("Location"))
		}
		signedOut(t, before, "the editor's earlier browser")
		if !hasAction(e.eventsOf(ed), "mfa.reset") {
			t.Fatalf("audit: %v", e.eventsOf(ed))
		}
		// The password alone signs in now, straight to enrolling again.
		b, r := e.signInWith("editor", testPassword)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("sign-in after the reset: %d %s", r.status, r.header.Get("Location"))
		}
		if r := b.get("/app/policies"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/account/mfa" {
			t.Fatalf("after the reset: %d %s, want the enrolment page", r.status, r.header.Get("Location"))
		}
		if r := admin.post(fmt.Sprintf("/app/users/%d/reset-mfa", ed.ID), nil); r.status != http.StatusConflict {
			t.Fatalf("reset of no second factor: %d", r.status)
		}

		// A password reset of a user with a second factor: the code is
		// still asked for, then the new password before anything else.
		secret, _ = enrolForTest(t, e, e.users, e.emails["editor"])
		r = admin.post(fmt.Sprintf("/app/users/%d/reset-password", ed.ID), nil)
		oneTime := html.UnescapeString(secretShown.FindStringSubmatch(r.body)[1])
		b, r = signInWithCode(oneTime)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("sign-in with the one-time password and code: %d %s", r.status, r.header.Get("Location"))
		}
		if r := b.get("/app/"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/account/password" {
			t.Fatalf("after MFA: %d %s, want the change-password page", r.status, r.header.Get("Location"))
		}
	})
}

func TestAdminUnlocksSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		viewer := e.userByName("viewer")
		now := e.clock.Now().UTC()
		for i := range auth.MaxAccountNetworkFailures {
			st.DB.Exec("INSERT INTO login_failures (email, ip, network, at) VALUES (?, ?, ?, ?)", e.emails["viewer"], "127.0.0.1", "127.0.0.1", now.Add(-time.Duration(i)*time.Second))
		}
		if _, r := e.signInWith("viewer", testPassword); r.status != http.StatusTooManyRequests {
			t.Fatalf("before unlock: %d, want 429", r.status)
		}
		admin := e.browser().login("admin")
		r := admin.post(fmt.Sprintf("/app/users/%d/unlock", viewer.ID), nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/users" {
			t.Fatalf("unlock: %d %s", r.status, r.header.Get("Location"))
		}
		if page := admin.get("/app/users"); !strings.Contains(page.body, fmt.Sprintf("%d counted failed sign-in(s) cleared", auth.MaxAccountNetworkFailures)) {
			t.Fatal("no confirmation of the unlock")
		}
		if _, r := e.signInWith("viewer", testPassword); r.status != http.StatusSeeOther {
			t.Fatalf("after unlock: %d", r.status)
		}
		if ev := e.eventsOf(viewer); !hasAction(ev, "user.sign_in_unlocked") {
			t.Fatalf("audit: %v", ev)
		}
		if r := admin.post("/app/users/9999/unlock", nil); r.status != http.StatusNotFound {
			t.Fatalf("unknown user: %d", r.status)
		}
	})
}
