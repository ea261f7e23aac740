package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/labstack/echo/v4"
)

func TestEveryRouteDeclaresItsAccess(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	rules := e.srv.Rules()
	n := 0
	for _, r := range e.srv.Echo().Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		n++
		if _, ok := rules[r.Method+" "+r.Path]; !ok {
			t.Errorf("route %s %s has no access rule", r.Method, r.Path)
		}
	}
	if n < 20 {
		t.Fatalf("only %d routes found", n)
	}
}

// fillPath puts real values into route parameters.
func fillPath(p string) string {
	return strings.NewReplacer(":slug", "backup", ":version", "1.0", ":id", "999", ":email", "nobody@example.com", "*", "charter.css").Replace(p)
}

// TestRoleMatrix checks every role against every protected route: a role
// below the rule is refused with 403, one at or above it is let through.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	browsers := map[string]*browser{}
	for _, name := range []string{"admin", "editor", "auditor", "viewer"} {
		browsers[name] = e.browser().login(name)
	}
	anon := e.browser()
	for key, rule := range e.srv.Rules() {
		if rule.Public {
			continue
		}
		method, path, _ := strings.Cut(key, " ")
		p := fillPath(path)
		isAPI := strings.HasPrefix(path, "/api/")
		for name, b := range browsers {
			role := auth.Role(name)
			var status int
			if isAPI {
				var body any
				if method != http.MethodGet {
					body = map[string]any{}
				}
				status, _ = e.api(name, method, p, body)
			} else if method == http.MethodGet {
				status = b.get(p).status
			} else {
				status = b.post(p, nil).status
			}
			if status >= 500 {
				t.Errorf("%s as %s: %d", key, name, status)
			}
			allowed := role.Allows(rule.Role)
			if !allowed && status != http.StatusForbidden {
				t.Errorf("%s as %s: %d, want 403", key, name, status)
			}
			if allowed && (status == http.StatusForbidden || status == http.StatusUnauthorized) {
				t.Errorf("%s as %s: %d, want access", key, name, status)
			}
		}
		// Without credentials: the API says 401, pages send to sign-in.
		var status int
		switch {
		case isAPI:
			status, _ = e.api("", method, p, nil)
			if status != http.StatusUnauthorized {
				t.Errorf("%s anonymous: %d, want 401", key, status)
			}
		case method == http.MethodGet:
			r := anon.get(p)
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
				t.Errorf("%s anonymous: %d %s, want redirect to /login", key, r.status, r.header.Get("Location"))
			}
		default:
			if r := anon.post(p, nil); r.status != http.StatusUnauthorized {
				t.Errorf("%s anonymous: %d, want 401", key, r.status)
			}
		}
	}
}

func TestLoginAndLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		b := e.browser()
		r := b.post("/login", url.Values{"email": {"editor@example.com"}, "password": {"wrong password here"}})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "email or password is wrong") || !strings.Contains(r.body, `value="editor@example.com"`) {
			t.Fatalf("wrong password: %d", r.status)
		}
		if ev := e.lastEvent(); ev.Action != "auth.login.failed" || ev.ClientIP != "127.0.0.1" {
			t.Fatalf("failure not audited: %+v", ev)
		}
		// A session cookie planted before sign-in must not survive it.
		u, _ := url.Parse(e.ts.URL)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "charter_session", Value: "planted-by-attacker", Path: "/"}})
		r = b.post("/login", url.Values{"email": {"EDITOR@example.com"}, "password": {testPassword}, "next": {"/app/policies?sort=owner"}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/policies?sort=owner" {
			t.Fatalf("login: %d %s", r.status, r.header.Get("Location"))
		}
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == "charter_session" && c.Value == "planted-by-attacker" {
				t.Fatal("session token not renewed at sign-in")
			}
		}
		if ev := e.lastEvent(); ev.Action != "auth.login.succeeded" {
			t.Fatalf("success not audited: %s", ev.Action)
		}
		if r := b.get("/app/"); r.status != http.StatusOK || !strings.Contains(r.body, "editor@example.com") {
			t.Fatalf("overview after login: %d", r.status)
		}
		if r := b.post("/logout", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Fatalf("logout: %d", r.status)
		}
		if ev := e.lastEvent(); ev.Action != "auth.logout" {
			t.Fatalf("logout not audited: %s", ev.Action)
		}
		if r := b.get("/app/"); r.status != http.StatusSeeOther {
			t.Fatalf("after logout /app/ answered %d", r.status)
		}
	})
}

func TestNextParameterStaysOnSite(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b := e.browser()
		r := b.post("/login", url.Values{"email": {"viewer@example.com"}, "password": {testPassword}, "next": {next}})
		if loc := r.header.Get("Location"); loc != "/app/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestCrossSiteAndTokenlessPostsAreRefused(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser().login("editor")
	form := url.Values{"note": {"reviewed"}, "csrf": {b.csrf()}}
	cases := []struct {
		name   string
		form   url.Values
		header http.Header
	}{
		{"Sec-Fetch-Site cross-site", form, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"foreign Origin", form, http.Header{"Origin": {"https://evil.example"}}},
		{"missing CSRF token", url.Values{"note": {"reviewed"}}, nil},
		{"wrong CSRF token", url.Values{"note": {"reviewed"}, "csrf": {"forged"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.postRaw("/app/policies/backup/reviews", c.form, c.header)
			if r.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403", r.status)
			}
		})
	}
	var n int64
	e.st.DB.Table("policy_reviews").Count(&n)
	if n != 0 {
		t.Fatalf("%d reviews recorded by refused requests", n)
	}
	if r := b.post("/app/policies/backup/reviews", url.Values{"note": {"reviewed"}}); r.status != http.StatusSeeOther {
		t.Fatalf("same-site post with token: %d", r.status)
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	t.Run("idle", func(t *testing.T) {
		b := e.browser().login("viewer")
		e.clock.Advance(29 * time.Minute)
		if r := b.get("/app/"); r.status != http.StatusOK {
			t.Fatalf("after 29 idle minutes: %d", r.status)
		}
		e.clock.Advance(30 * time.Minute)
		r := b.get("/app/")
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
			t.Fatalf("after 30 idle minutes: %d %s", r.status, r.header.Get("Location"))
		}
		if r := b.get("/login"); !strings.Contains(r.body, "session has expired") {
			t.Fatal("no expiry message on the sign-in page")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		b := e.browser().login("viewer")
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			e.clock.Advance(20 * time.Minute)
			if r := b.get("/app/policies"); r.status != http.StatusOK {
				t.Fatalf("active session ended after %s: %d", elapsed+20*time.Minute, r.status)
			}
		}
		e.clock.Advance(20 * time.Minute)
		if r := b.get("/app/policies"); r.status != http.StatusSeeOther {
			t.Fatalf("session older than 12h still served: %d", r.status)
		}
	})
}

func TestDisablingAUserEndsTheirSessionAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		b := e.browser().login("editor")
		if r := b.get("/app/"); r.status != http.StatusOK {
			t.Fatal(r.status)
		}
		var id int64
		st.DB.Table("users").Where("email = ?", "editor@example.com").Select("id").Scan(&id)
		if _, err := e.users.Disable(t.Context(), audit.System("test"), id); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/app/"); r.status != http.StatusSeeOther {
			t.Fatalf("disabled user's session still served: %d", r.status)
		}
		if status, _ := e.api("editor", http.MethodGet, "/api/v1/policies", nil); status != http.StatusUnauthorized {
			t.Fatalf("disabled user's token: %d", status)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser().login("viewer")
	r := b.get("/app/")
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
		"X-Request-Id":            "",
	} {
		if got := r.header.Get(k); got == "" || !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(r.header.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("CSP allows inline script or style")
	}
}

func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser()
	if r := b.get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("healthz %d", r.status)
	}
	head, _ := http.NewRequest(http.MethodHead, e.ts.URL+"/healthz", nil)
	if r := b.do(head); r.status != http.StatusOK || r.body != "" {
		t.Fatalf("HEAD /healthz: %d %q", r.status, r.body)
	}
	if r := b.get("/readyz"); r.status != http.StatusOK || !strings.Contains(r.body, "sqlite") {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	b.get("/app/")
	// One job that worked and one that failed; one email waiting.
	at := e.clock.Now()
	for _, run := range []struct{ job, outcome string }{{"reminders", "3 queued"}, {"backup", "failed: disk full"}} {
		if _, err := jobs.Claim(context.Background(), e.st.DB, run.job, "2026-03-01", at); err != nil {
			t.Fatal(err)
		}
		if err := jobs.Finish(context.Background(), e.st.DB, run.job, "2026-03-01", at, run.outcome); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := notify.Enqueue(e.st.DB, at, "example.com", notify.Email{Kind: "test", To: "a@example.com", Subject: "s", Body: "t"}); err != nil {
		t.Fatal(err)
	}
	r := b.get("/metrics")
	for _, want := range []string{"charter_http_requests_total", "charter_http_request_duration_seconds_bucket", "go_sql_open_connections",
		`charter_outbox_messages{state="pending"} 1`, `charter_outbox_messages{state="failed"} 0`, `charter_webhook_deliveries{state="failed"} 0`,
		`charter_job_last_run_failed{job="backup"} 1`, `charter_job_last_run_failed{job="reminders"} 0`,
		fmt.Sprintf(`charter_job_last_run_timestamp_seconds{job="reminders"} %s`, strconv.FormatFloat(float64(at.Unix()), 'g', -1, 64)), "charter_metrics_query_errors 0"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	e.st.Close()
	if r := b.get("/readyz"); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database closed: %d", r.status)
	}
}

func TestSecurityTxt(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	r := e.browser().get("/.well-known/security.txt")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("security.txt: %d %s", r.status, r.header.Get("Content-Type"))
	}
	fields := map[string]string{}
	var contacts []string
	for _, line := range strings.Split(r.body, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "#") {
			fields[k] = v
			if k == "Contact" {
				contacts = append(contacts, v)
			}
		}
	}
	if strings.Join(contacts, " ") != "mailto:security@posthog.com http://charter.test/trust/security" || fields["Canonical"] != "http://charter.test/.well-known/security.txt" || fields["Preferred-Languages"] != "en" ||
		fields["Policy"] != "http://charter.test/trust/advisories#reporting" {
		t.Fatalf("fields: %v", fields)
	}
	exp, err := time.Parse(time.RFC3339, fields["Expires"])
	if err != nil || !exp.After(e.clock.Now()) || exp.After(e.clock.Now().AddDate(1, 0, 0)) {
		t.Fatalf("Expires %q (%v) must be in the future and less than a year ahead", fields["Expires"], err)
	}
}

// TestHeadersOnEveryRoute requests every registered route (and an unknown
// one, and a static file) and checks the security headers on whatever
// comes back, errors included.
func TestHeadersOnEveryRoute(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	admin := e.browser().login("admin")
	anon := e.browser()
	check := func(what string, h http.Header) {
		t.Helper()
		for k, want := range map[string]string{
			"Content-Security-Policy": "frame-ancestors 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "",
			"X-Request-Id":            "",
			"Cache-Control":           "",
		} {
			if got := h.Get(k); got == "" || !strings.Contains(got, want) {
				t.Errorf("%s: %s = %q", what, k, got)
			}
		}
	}
	n := 0
	for key, rule := range e.srv.Rules() {
		method, path, _ := strings.Cut(key, " ")
		p := fillPath(path)
		var h http.Header
		switch {
		case strings.HasPrefix(path, "/api/"):
			req, _ := http.NewRequest(method, e.ts.URL+p, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h = resp.Header
		case method == http.MethodGet && rule.Public:
			h = anon.get(p).header
		case method == http.MethodGet:
			h = admin.get(p).header
		case path == "/logout":
			continue // would end the admin's session for the routes after it
		default:
			h = admin.post(p, nil).header
		}
		check(key, h)
		n++
	}
	check("unknown route", anon.get("/no/such/page").header)
	check("static file", anon.get("/static/charter.css").header)
	if n < 100 {
		t.Fatalf("only %d routes checked", n)
	}
}

// TestStaticFilesCannotBeEscaped tries encoded path tricks on /static/.
func TestStaticFilesCannotBeEscaped(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	for _, p := range []string{"/static/..%2f..%2fgo.mod", "/static/%2e%2e/%2e%2e/go.mod", "/static/..%5c..%5cgo.mod",
		"/static/%2e%2e%2ftemplates%2flayout.html", "/static/../templates/layout.html", "/static/.%2e/web.go", "/static//etc/passwd"} {
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/", nil)
		req.URL.Opaque = p // sent as written, not cleaned by the client
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := make([]byte, 512)
		n, _ := resp.Body.Read(body)
		resp.Body.Close()
		text := string(body[:n])
		if resp.StatusCode == http.StatusOK && (strings.Contains(text, "module ") || strings.Contains(text, "{{define") || strings.Contains(text, "root:") || strings.Contains(text, "package web")) {
			t.Errorf("%s served a file outside /static/: %q", p, text[:min(60, len(text))])
		}
	}
}

// TestForgedForwardedForIsNotTheAuditIP: without trusted proxies the audit
// trail records the connection's address.
func TestForgedForwardedForIsNotTheAuditIP(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser()
	form := url.Values{"email": {e.emails["viewer"]}, "password": {testPassword}, "csrf": {b.csrf()}}
	b.postRaw("/login", form, http.Header{"X-Forwarded-For": {"203.0.113.99"}, "X-Real-Ip": {"203.0.113.98"}})
	if ev := e.lastEvent(); ev.Action != "auth.login.succeeded" || ev.ClientIP != "127.0.0.1" {
		t.Fatalf("audit IP %q for %s", ev.ClientIP, ev.Action)
	}
}
