package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/pquerna/otp/totp"
)

var (
	secretOnPage  = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)
	sealedOnPage  = regexp.MustCompile(`name="sealed" value="([^"]+)"`)
	recoveryCodes = regexp.MustCompile(`<code class="recovery-code">([a-z2-7-]+)</code>`)
)

func requireMFA(c *config.Config) { c.MFARequiredRoles = []string{"admin", "editor"} }

func TestTwoFactorSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, requireMFA)
		ed := e.browser().login("editor")
		// An editor without a second factor is sent to set one up.
		if r := ed.get("/app/policies"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/account/mfa" {
			t.Fatalf("before enrolment: %d %s", r.status, r.header.Get("Location"))
		}
		if r := ed.post("/app/people/ack-links", nil); r.status != http.StatusForbidden {
			t.Fatalf("a write before enrolment: %d", r.status)
		}
		// A viewer is not required to.
		if r := e.browser().login("viewer").get("/app/policies"); r.status != http.StatusOK {
			t.Fatalf("viewer: %d", r.status)
		}
		page := ed.get("/app/account/mfa")
		if page.status != http.StatusOK || !strings.Contains(page.body, `src="data:image/png;base64,`) {
			t.Fatalf("setup page: %d", page.status)
		}
		secret := secretOnPage.FindStringSubmatch(page.body)[1]
		sealed := html.UnescapeString(sealedOnPage.FindStringSubmatch(page.body)[1])
		code, _ := totp.GenerateCode(secret, e.clock.Now())
		if r := ed.post("/app/account/mfa", url.Values{"sealed": {sealed}, "code": {code}, "current_password": {"wrong"}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("without the password: %d", r.status)
		}
		done := ed.post("/app/account/mfa", url.Values{"sealed": {sealed}, "code": {code}, "current_password": {testPassword}})
		codes := recoveryCodes.FindAllStringSubmatch(done.body, -1)
		if done.status != http.StatusOK || len(codes) != auth.RecoveryCodes {
			t.Fatalf("enrolment: %d, %d codes: %s", done.status, len(codes), done.body)
		}
		if r := ed.get("/app/policies"); r.status != http.StatusOK {
			t.Fatalf("after enrolment: %d", r.status)
		}
		// Signing in now takes the code.
		signIn := func(code string) (*browser, response) {
			b := e.browser()
			r := b.post("/login", url.Values{"email": {e.emails["editor"]}, "password": {testPassword}})
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/mfa" {
				t.Fatalf("password step: %d %s", r.status, r.header.Get("Location"))
			}
			if r := b.get("/app/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
				t.Fatalf("half signed-in reached the dashboard: %d", r.status)
			}
			return b, b.post("/login/mfa", url.Values{"code": {code}})
		}
		e.clock.Advance(30 * time.Second)
		fresh, _ := totp.GenerateCode(secret, e.clock.Now())
		if _, r := signIn("000000"); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong code: %d", r.status)
		}
		b, r := signIn(fresh)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("right code: %d %s", r.status, r.header.Get("Location"))
		}
		if r := b.get("/app/"); r.status != http.StatusOK {
			t.Fatalf("signed in: %d", r.status)
		}
		if _, r := signIn(fresh); r.status != http.StatusUnauthorized {
			t.Fatalf("replayed code: %d", r.status)
		}
		if _, r := signIn(codes[0][1]); r.status != http.StatusSeeOther {
			t.Fatalf("recovery code: %d", r.status)
		}
		if _, r := signIn(codes[0][1]); r.status != http.StatusUnauthorized {
			t.Fatalf("recovery code reused: %d", r.status)
		}
		// The wait for the code expires.
		b2 := e.browser()
		b2.post("/login", url.Values{"email": {e.emails["editor"]}, "password": {testPassword}})
		e.clock.Advance(6 * time.Minute)
		late, _ := totp.GenerateCode(secret, e.clock.Now())
		if r := b2.post("/login/mfa", url.Values{"code": {late}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Fatalf("late code: %d %s", r.status, r.header.Get("Location"))
		}
	})
}

// enrolForTest turns TOTP on for a user through the service and returns
// the secret and the recovery codes.
func enrolForTest(t *testing.T, e *env, users *auth.Service, email string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	u, err := users.ByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	en, err := users.BeginEnrolment(u, "Charter")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(en.Secret, e.clock.Now())
	codes, err := users.ConfirmEnrolment(ctx, audit.System("test"), u.ID, testPassword, en.Sealed, code)
	if err != nil {
		t.Fatal(err)
	}
	return en.Secret, codes
}
