package server_test

import (
	"context"
	"encoding/json"
	"github.com/charter-registry/charter/internal/advisory"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/evidence"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/server"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/policies"
	"github.com/charter-registry/charter/seed"
)

// clock is a movable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testPassword = "a long unusual passphrase"

// env is a running Charter on a real database with one user (and one API
// token) per role, plus a second editor for segregation of duties.
type env struct {
	t     testing.TB
	st    *store.Store
	srv   *server.Server
	ts    *httptest.Server
	clock *clock
	// privacy is the server's privacy service, for tests that seed demo
	// registers or run the scheduled job.
	privacy *privacy.Service
	packets *packet.Service
	dsar    *dsar.Service
	users   *auth.Service
	// filesDir is where uploads are stored.
	filesDir string
	emails   map[string]string // by name: admin, editor, editor2, auditor, viewer
	tokens   map[string]string
	// waits records the sign-in slowdowns the users service asked for,
	// instead of sleeping through them.
	waits *waitLog
}

// waitLog records waits.
type waitLog struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waitLog) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return nil
}

// count returns how many waits were asked for.
func (w *waitLog) count() int { w.mu.Lock(); defer w.mu.Unlock(); return len(w.d) }

// newEnv starts the server; adjust changes its options before it starts.
func newEnv(t testing.TB, st *store.Store, adjust ...func(*server.Options)) *env {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Now().UTC()}
	cfg := config.Defaults()
	cfg.BaseURL = "http://charter.test"
	// Most tests sign in with a password only; the MFA tests turn it on.
	cfg.MFARequiredRoles = nil
	// Tests submit the public forms many times from one loopback address
	// and for a few addresses; the tests of the limits set their own.
	cfg.PublicFormsPerHour, cfg.PublicFormsPerFormPerHour = 10000, 10000
	cfg.PublicFormsPerAddressPerHour, cfg.PublicFormsPerAddressPerDay = 10000, 10000
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	users := auth.NewService(st.DB, c.Now)
	mfaKey, err := auth.LoadOrCreateMFAKey(filepath.Join(t.TempDir(), auth.MFAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	users.SetMFAKey(mfaKey)
	users.SetRecovery(auth.RecoverySettings{LinkTTL: cfg.PasswordResetTTL})
	users.SetBaseURL(cfg.BaseURL)
	waits := &waitLog{}
	users.SetSleep(waits.sleep)
	pol := policy.NewService(st.DB, c.Now)
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pol.Seed(ctx, audit.System("system:seed"), templates); err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(st.DB, c.Now)
	data, err := seed.Files.ReadFile("organization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	profile, err := org.ParseProfile(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orgs.Seed(ctx, audit.System("system:seed"), profile); err != nil {
		t.Fatal(err)
	}
	filesDir := filepath.Join(t.TempDir(), "files")
	store, err := files.New(filesDir)
	if err != nil {
		t.Fatal(err)
	}
	privacySvc := privacy.NewService(st.DB, c.Now, store, orgs, privacy.Settings{BaseURL: cfg.BaseURL,
		TeamAddresses: func(ctx context.Context) ([]string, error) { return users.Emails(ctx, auth.Editor) }})
	key, err := packet.LoadOrCreateKey(filepath.Join(t.TempDir(), packet.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	packets := packet.NewService(st.DB, c.Now, orgs, key, packet.Settings{BaseURL: cfg.BaseURL,
		TeamAddresses: func(ctx context.Context) ([]string, error) { return users.Emails(ctx, auth.Editor) }})
	nda, err := seed.Files.ReadFile("nda.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := packets.SeedNDA(ctx, audit.System("system:seed"), string(nda)); err != nil {
		t.Fatal(err)
	}
	requests := dsar.NewService(st.DB, c.Now, store, dsar.Settings{BaseURL: cfg.BaseURL, Retention: 365 * 24 * time.Hour})
	opts := server.Options{
		Config: cfg, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: c.Now,
		Users: users, Policies: pol, Org: orgs, People: people.NewService(st.DB, c.Now, people.DefaultSettings),
		Privacy: privacySvc, Packets: packets, Evidence: evidence.NewService(st, c.Now, evidence.Rules{NewHireDays: 30, NewVersionDays: 30}, key),
		DSAR:       requests,
		Advisories: advisory.NewService(st.DB, c.Now, orgs, privacySvc, advisory.Settings{BaseURL: cfg.BaseURL, IDPrefix: "POSTHOG-SA"}), Files: store,
		// scs computes stored expiries on the wall clock, so its store
		// must compare on it too; the server's own timeouts use c.
		Sessions: auth.NewSessionStore(st.DB, time.Now, scs.GobCodec{}), Version: "test",
	}
	for _, f := range adjust {
		f(&opts)
	}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, srv: srv, clock: c, privacy: privacySvc, packets: packets, dsar: requests, users: users, filesDir: filesDir, emails: map[string]string{}, tokens: map[string]string{}, waits: waits}
	for name, role := range map[string]auth.Role{"admin": auth.Admin, "editor": auth.Editor, "editor2": auth.Editor, "auditor": auth.Auditor, "viewer": auth.Viewer} {
		email := name + "@example.com"
		if _, err := users.Create(ctx, audit.System("test"), auth.NewUser{Email: email, Role: role, Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		secret, _, err := users.CreateToken(ctx, audit.System("test"), email, "test", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.emails[name], e.tokens[name] = email, secret
	}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// browserFrom is a browser whose requests come from the client address
// addr ("198.51.100.7:4000", "[2001:db8::1]:4000"): they are served in
// process, with that RemoteAddr, which the direct IP extractor reads.
func (e *env) browserFrom(addr string) *browser {
	b := e.browser()
	b.c.Transport = handlerTransport{h: e.srv.Handler(), remoteAddr: addr}
	return b
}

// handlerTransport serves requests with a handler, as if from remoteAddr.
type handlerTransport struct {
	h          http.Handler
	remoteAddr string
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.RemoteAddr, r.RequestURI = t.remoteAddr, req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) response {
	req, _ := http.NewRequest(http.MethodGet, b.e.ts.URL+path, nil)
	return b.do(req)
}

// csrf returns the CSRF token the server issued to this browser, fetching
// a page first if none was issued yet.
func (b *browser) csrf() string {
	u, _ := url.Parse(b.e.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "charter_csrf" {
			return c.Value
		}
	}
	b.get("/login")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "charter_csrf" {
			return c.Value
		}
	}
	b.e.t.Fatal("no CSRF cookie issued")
	return ""
}

// post submits a form with the CSRF token, as the browser would.
func (b *browser) post(path string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf())
	return b.postRaw(path, form, nil)
}

func (b *browser) postRaw(path string, form url.Values, header http.Header) response {
	req, _ := http.NewRequest(http.MethodPost, b.e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return b.do(req)
}

func (b *browser) login(name string) *browser {
	b.e.t.Helper()
	r := b.post("/login", url.Values{"email": {b.e.emails[name]}, "password": {testPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/" {
		b.e.t.Fatalf("login as %s: %d %s", name, r.status, r.header.Get("Location"))
	}
	return b
}

// api calls the JSON API with the token of the named user ("" for none).
func (e *env) api(name, method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if name != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[name])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// lastEvent returns the newest audit event.
func (e *env) lastEvent() audit.Event {
	var ev audit.Event
	e.st.DB.Order("seq DESC").First(&ev)
	return ev
}
