package server_test

import (
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/oauth2-proxy/mockoidc"
)

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
