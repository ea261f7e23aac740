package server_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/pquerna/otp/totp"
)

// signIn posts the sign-in form from b.
func (b *browser) signIn(email, password string) response {
	return b.postRaw("/login", url.Values{"email": {email}, "password": {password}, "csrf": {b.csrf()}}, nil)
}

func TestAStrangerCannotLockAnAccountOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		victim := e.emails["editor"]
		// The victim signs in with a second factor.
		ed, err := e.users.ByEmail(ctx, victim)
		if err != nil {
			t.Fatal(err)
		}
		en, err := e.users.BeginEnrolment(ed, "Charter")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, e.clock.Now())
		if _, err := e.users.ConfirmEnrolment(ctx, audit.System("test"), ed.ID, testPassword, en.Sealed, code); err != nil {
			t.Fatal(err)
		}

		// 200 wrong passwords from one address: the first 100 are checked,
		// the rest refused with Retry-After.
		attacker := e.browserFrom("198.51.100.7:40000")
		for i := range 200 {
			r := attacker.signIn(victim, fmt.Sprintf("wrong guess %d", i))
			want := http.StatusUnauthorized
			if i >= auth.MaxAccountNetworkFailures {
				want = http.StatusTooManyRequests
			}
			if r.status != want {
				t.Fatalf("attempt %d: %d, want %d", i+1, r.status, want)
			}
			if want == http.StatusTooManyRequests {
				if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
					t.Fatalf("attempt %d: Retry-After %q", i+1, r.header.Get("Retry-After"))
				}
			}
		}
		// Even the right password, and a forged X-Forwarded-For, leave the
		// attacking address refused.
		r := attacker.postRaw("/login", url.Values{"email": {victim}, "password": {testPassword}, "csrf": {attacker.csrf()}},
			http.Header{"X-Forwarded-For": {"203.0.113.77"}})
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("the attacker with the right password: %d", r.status)
		}
		// Every refusal is audited.
		var refused int64
		st.DB.Model(&audit.Event{}).Where("action = ? AND object_id = ? AND after_json LIKE ?", "auth.login.failed", victim, "%throttled%").Count(&refused)
		if refused != 101 {
			t.Fatalf("%d refusals audited, want 101", refused)
		}

		// The owner and the admin were told, once.
		var alerts []notify.Message
		st.DB.Where("kind = ?", "signin_alert").Order("to_addr").Find(&alerts)
		if len(alerts) != 2 || alerts[0].ToAddr != e.emails["admin"] || alerts[1].ToAddr != victim {
			t.Fatalf("alerts: %+v", alerts)
		}
		if !strings.Contains(alerts[1].Body, "100 failed sign-ins to your account") || strings.Contains(alerts[1].Body, "198.51.100.7") {
			t.Fatalf("the owner's alert:\n%s", alerts[1].Body)
		}

		// The same address still signs in to another account.
		if r := e.browserFrom("198.51.100.7:40001").signIn(e.emails["viewer"], testPassword); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("another account from the attacking address: %d %s", r.status, r.header.Get("Location"))
		}

		// The owner, from another address, signs in with the password and
		// the second factor, each step slowed but not refused.
		waited := e.waits.count()
		owner := e.browserFrom("203.0.113.5:50000")
		if r := owner.signIn(victim, testPassword); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/mfa" {
			t.Fatalf("the owner's password: %d %s", r.status, r.header.Get("Location"))
		}
		e.clock.Advance(30 * time.Second)
		code, _ = totp.GenerateCode(en.Secret, e.clock.Now())
		if r := owner.post("/login/mfa", url.Values{"code": {code}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("the owner's code: %d %s", r.status, r.header.Get("Location"))
		}
		if r := owner.get("/app/"); r.status != http.StatusOK {
			t.Fatalf("the owner's dashboard: %d", r.status)
		}
		if n := e.waits.count() - waited; n != 2 {
			t.Fatalf("the owner's sign-in waited %d times, want once per step", n)
		}
		for _, action := range []string{"auth.login.succeeded", "auth.mfa.succeeded"} {
			var n int64
			st.DB.Model(&audit.Event{}).Where("action = ? AND actor_id = ? AND client_ip = ?", action, ed.ID, "203.0.113.5").Count(&n)
			if n != 1 {
				t.Errorf("%d %s events from the owner's address", n, action)
			}
		}
	})
}

func TestSignInThrottlingCountsTheRealClientAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		now := e.clock.Now().UTC()
		plant := func(email string, n int) {
			for i := range n {
				st.DB.Exec("INSERT INTO login_failures (email, ip, network, at) VALUES (?, ?, ?, ?)", email, "127.0.0.1", "127.0.0.1", now.Add(-time.Duration(i)*time.Second))
			}
		}
		forged := http.Header{"X-Forwarded-For": {"203.0.113.77"}}
		attempt := func(email string) response {
			b := e.browser()
			return b.postRaw("/login", url.Values{"email": {email}, "password": {testPassword}, "csrf": {b.csrf()}}, forged)
		}
		// 100 failures for the editor from this client refuse it for the
		// editor, whatever the X-Forwarded-For says.
		plant(e.emails["editor"], auth.MaxAccountNetworkFailures)
		if r := attempt(e.emails["editor"]); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("with a forged X-Forwarded-For: %d %q", r.status, r.header.Get("Retry-After"))
		}
		if ev := e.lastEvent(); ev.Action != "auth.login.failed" || !strings.Contains(ev.AfterJSON, "throttled") {
			t.Fatalf("audit: %+v", ev)
		}
		if r := attempt(e.emails["viewer"]); r.status != http.StatusSeeOther {
			t.Fatalf("another account: %d", r.status)
		}
		// The window slides.
		e.clock.Advance(time.Hour + time.Minute)
		if r := attempt(e.emails["editor"]); r.status != http.StatusSeeOther {
			t.Fatalf("an hour later: %d", r.status)
		}
		// 300 failures from this client over many accounts stop it for
		// every account.
		now = e.clock.Now().UTC()
		for i := range auth.MaxNetworkFailures {
			plant(fmt.Sprintf("guess%d@example.com", i), 1)
		}
		if r := attempt(e.emails["auditor"]); r.status != http.StatusTooManyRequests {
			t.Fatalf("the network bucket: %d", r.status)
		}
	})
}

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
		// An empty code is a field to fill (the form convention); a wrong
		// one stays a refusal that names no field.
		empty, _ := signIn("")
		checkConvention(t, empty.post("/login/mfa", url.Values{"code": {""}}), nil, "code", 1)
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

// withSSO configures single sign-on against an in-process provider. The
// callback is on the base URL, http://charter.test, which ssoSignIn points
// at the test server; the provider accepts any.
func withSSO(m *mockoidc.MockOIDC, create bool) func(*config.Config) {
	return func(c *config.Config) {
		p := m.Config()
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = p.Issuer, p.ClientID, p.ClientSecret
		c.OIDCAllowedDomains, c.OIDCCreateUsers, c.OIDCDefaultRole = []string{"example.com"}, create, string(auth.Viewer)
	}
}

// ssoSignIn follows the whole dance with a real HTTP client: Charter →
// provider → Charter's callback. It returns the final response.
func ssoSignIn(t *testing.T, e *env) (*http.Client, response) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	var last *http.Response
	client := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		// The provider sends the browser to the configured redirect URL;
		// point it at the test server.
		if req.URL.Host == "charter.test" {
			req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(e.ts.URL, "http://")
		}
		if req.URL.Path == "/app/" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := client.Get(e.ts.URL + "/login/sso")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	last = resp
	b := make([]byte, 4096)
	n, _ := resp.Body.Read(b)
	return client, response{status: last.StatusCode, header: last.Header, body: string(b[:n])}
}

func TestSingleSignOn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		m, err := mockoidc.Run()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Shutdown() })
		e := newEnv(t, st, withSSO(m, false))
		if r := e.browser().get("/login"); !strings.Contains(r.body, `id="sso"`) {
			t.Fatal("the sign-in page offers no SSO")
		}
		// A known user with a verified email of an allowed domain.
		m.QueueUser(&mockoidc.MockUser{Subject: "u1", Email: "viewer@example.com", EmailVerified: true})
		client, r := ssoSignIn(t, e)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
			t.Fatalf("SSO sign-in: %d %s %s", r.status, r.header.Get("Location"), r.body)
		}
		resp, err := client.Get(e.ts.URL + "/app/account")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("signed in through SSO: %v %v", resp.StatusCode, err)
		}
		resp.Body.Close()
		if ev := e.lastEvent(); ev.Action != "auth.login.succeeded" || !strings.Contains(ev.AfterJSON, `"sso"`) {
			t.Fatalf("audit: %+v", ev)
		}
		// A foreign domain is refused, and so is an unknown user when
		// accounts are not created on first sign-in.
		for _, u := range []*mockoidc.MockUser{
			{Subject: "u2", Email: "eve@evil.example", EmailVerified: true},
			{Subject: "u3", Email: "newcomer@example.com", EmailVerified: true},
			{Subject: "u4", Email: "admin@example.com", EmailVerified: false},
		} {
			m.QueueUser(u)
			if _, r := ssoSignIn(t, e); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "single sign-on failed") {
				t.Fatalf("%s: %d %s", u.Email, r.status, r.body)
			}
		}
		if ev := e.lastEvent(); ev.Action != "auth.login.failed" || !strings.Contains(ev.AfterJSON, "not verified") {
			t.Fatalf("audit of a refusal: %s", ev.AfterJSON)
		}
		// A callback without this browser's state is refused.
		if r := e.browser().get("/login/sso/callback?state=forged&code=x"); r.status != http.StatusUnauthorized {
			t.Fatalf("forged state: %d", r.status)
		}
	})
}

func TestSingleSignOnCreatesUsers(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	e := newEnv(t, storetest.SQLite(t), withSSO(m, true))
	m.QueueUser(&mockoidc.MockUser{Subject: "u5", Email: "Newcomer@Example.com", EmailVerified: true})
	if _, r := ssoSignIn(t, e); r.status != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d %s", r.status, r.body)
	}
	var u auth.User
	if err := e.st.DB.Where("email = ?", "newcomer@example.com").Take(&u).Error; err != nil || u.Role != auth.Viewer {
		t.Fatalf("created user: %+v %v", u, err)
	}
}

func TestPasswordSignInCanBeTurnedOff(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var u auth.User
	e.st.DB.Where("email = ?", e.emails["viewer"]).Take(&u)
	admin := e.browser().login("admin")
	if r := admin.post("/app/users/"+strconv.FormatInt(u.ID, 10)+"/sso-only", map[string][]string{"sso_only": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set: %d", r.status)
	}
	if r := e.browser().post("/login", map[string][]string{"email": {e.emails["viewer"]}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("password sign-in of an SSO-only user: %d", r.status)
	}
	if ev := e.lastEvent(); !strings.Contains(ev.AfterJSON, "password sign-in is off") {
		t.Fatalf("audit: %s", ev.AfterJSON)
	}
	if r := admin.get("/app/access-review"); !strings.Contains(r.body, "SSO only") {
		t.Fatal("the access review does not show SSO only")
	}
	// Off for everyone.
	e.users.NoPasswords = true
	if r := e.browser().post("/login", map[string][]string{"email": {e.emails["editor"]}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
		t.Fatalf("password sign-in with passwords off: %d", r.status)
	}
}
