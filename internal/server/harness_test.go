package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auditlog"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/exception"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/server"
	"github.com/charter-registry/charter/internal/snapshot"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/webhook"
)

const testPassword = apptest.Password

// env is a running Charter on a real database with one user (and one API
// token) per role, plus a second editor for segregation of duties.
type env struct {
	t     testing.TB
	st    *store.Store
	srv   *server.Server
	ts    *httptest.Server
	clock *apptest.Clock
	// privacy is the server's privacy service, for tests that seed demo
	// registers or run the scheduled job.
	privacy *privacy.Service
	packets *packet.Service
	dsar    *dsar.Service
	users   *auth.Service
	// auditLog is the transparency log, for tests that sign checkpoints.
	auditLog *auditlog.Log
	// webhooks is the webhook service, for tests that run its sender.
	webhooks *webhook.Service
	// exceptions is the exceptions register, for tests that run its
	// expiry job.
	exceptions *exception.Service
	emails     map[string]string // by name: admin, editor, editor2, auditor, viewer
	tokens     map[string]string
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

// newEnv starts the server on the app of internal/app/apptest; settings
// change the settings before the app is built.
func newEnv(t testing.TB, st *store.Store, settings ...func(*config.Config)) *env {
	t.Helper()
	return newEnvWith(t, st, func(*server.Options) {}, settings...)
}

// newEnvWith is newEnv with a change to the server's own options.
func newEnvWith(t testing.TB, st *store.Store, options func(*server.Options), settings ...func(*config.Config)) *env {
	t.Helper()
	cfg := apptest.Config(t)
	// Most tests sign in with a password only; the MFA tests turn it on.
	cfg.MFARequiredRoles = nil
	// Tests submit the public forms many times from one loopback address
	// and for a few addresses; the tests of the limits set their own.
	cfg.PublicFormsPerHour, cfg.PublicFormsPerFormPerHour = 10000, 10000
	cfg.PublicFormsPerAddressPerHour, cfg.PublicFormsPerAddressPerDay = 10000, 10000
	for _, f := range settings {
		f(&cfg)
	}
	a := apptest.New(t, st, cfg)
	if err := a.SignOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	waits := &waitLog{}
	a.Users.SetSleep(waits.sleep)
	opts := server.Options{App: a.App, Version: "test"}
	options(&opts)
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, srv: srv, clock: a.Clock, privacy: a.Privacy, packets: a.Packets, dsar: a.DSAR, users: a.Users, auditLog: a.AuditLog,
		exceptions: a.Exceptions, webhooks: a.Webhooks, emails: a.Emails, tokens: a.Tokens, waits: waits}
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
	// The audit log's checkpoint and verifier key are text, as note
	// verifiers read them; every other API answer is JSON.
	if len(raw) > 0 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// lastEvent returns the newest audit event.
func (e *env) lastEvent() audit.Event {
	var ev audit.Event
	// A change to a public promise is followed by the record of its
	// snapshot; the change's own event is the one tests look for.
	e.st.DB.Where("action <> ?", snapshot.Recorded).Order("seq DESC").First(&ev)
	return ev
}
