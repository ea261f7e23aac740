package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	cdp "github.com/chromedp/chromedp"
)

func TestAppWithoutSlashRedirects(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	r := e.browser().get("/app")
	if r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/app/" {
		t.Fatalf("GET /app: %d to %q, want 301 to /app/", r.status, r.header.Get("Location"))
	}
}

var sidebar = regexp.MustCompile(`(?s)<nav class="side"[^>]*>(.*?)</nav>`)
var hrefs = regexp.MustCompile(`href="([^"]+)"`)

// TestNavigationShowsOnlyWhatTheRoleMayOpen: each role's sidebar links
// only to pages its role may open, and to every one of those listed here.
func TestNavigationShowsOnlyWhatTheRoleMayOpen(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	rules := e.srv.Rules()
	viewer := []string{"/app/", "/app/waiting", "/app/policies", "/app/exceptions", "/app/people", "/app/training", "/app/privacy/dpas",
		"/app/privacy/standard-dpa", "/app/privacy/subprocessors", "/app/documents", "/app/answers", "/app/packets", "/app/advisories",
		"/app/audit", "/app/snapshots", "/app/organization"}
	auditor := append(slices.Clone(viewer), "/app/exports", "/app/access-review")
	editor := append(slices.Clone(auditor), "/app/privacy-requests", "/app/reports", "/app/outbox")
	admin := append(slices.Clone(editor), "/app/users", "/app/webhooks")
	for _, c := range []struct {
		role auth.Role
		want []string
	}{{auth.Viewer, viewer}, {auth.Auditor, auditor}, {auth.Editor, editor}, {auth.Admin, admin}} {
		t.Run(string(c.role), func(t *testing.T) {
			r := e.browser().login(string(c.role)).get("/app/")
			m := sidebar.FindStringSubmatch(r.body)
			if r.status != http.StatusOK || m == nil {
				t.Fatalf("overview: %d, sidebar found: %v", r.status, m != nil)
			}
			var got []string
			for _, h := range hrefs.FindAllStringSubmatch(m[1], -1) {
				got = append(got, h[1])
				// The waiting list's route comes with its own change; a
				// route that exists must let the role in.
				if rule, ok := rules["GET "+h[1]]; ok && !c.role.Allows(rule.Role) {
					t.Errorf("%s is offered %s, which needs %s", c.role, h[1], rule.Role)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Errorf("sidebar of %s:\n got %q\nwant %q", c.role, got, want)
			}
			if !strings.Contains(m[1], `<a href="/app/" aria-current="page">Overview</a>`) {
				t.Error("the overview is not marked as the current page")
			}
		})
	}
}

func TestHeaderNamesTheCompany(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	for _, path := range []string{"/app/", "/app/policies", "/login"} {
		b := e.browser()
		if path != "/login" {
			b = b.login("viewer")
		}
		r := b.get(path)
		if !strings.Contains(r.body, `<a class="brand" href="/app/">`) || !regexp.MustCompile(`class="brand"[^>]*>(<img[^>]*>)?<span>PostHog</span>`).MatchString(r.body) {
			t.Errorf("%s: the header does not name the company", path)
		}
		if !strings.Contains(r.body, "<title>") || !strings.Contains(r.body, "· PostHog</title>") {
			t.Errorf("%s: the title does not name the company", path)
		}
	}
	if r := e.browser().login("viewer").get("/app/policies"); !strings.Contains(r.body, `action="/app/search"`) {
		t.Error("no search box in the header")
	}
}

// TestDatesInPageTextAreTimeElements: dates shown in text are <time>
// elements (kept on one line), while an input's value stays plain text.
func TestDatesInPageTextAreTimeElements(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ed := e.browser().login("editor")
	ed.post("/app/people", url.Values{"email": {"cy@example.com"}, "name": {"Cy Park"}, "start_date": {"2025-05-05"}, "employment_type": {"contractor"}})
	r := ed.get("/app/people")
	if !strings.Contains(r.body, `<time datetime="2025-05-05">2025-05-05</time>`) {
		t.Fatal("the people list shows no start date as a <time> element")
	}
	r = ed.get("/app/people/cy@example.com/edit")
	if !strings.Contains(r.body, `name="start_date" type="date" value="2025-05-05"`) {
		t.Fatal("the edit form's start date is not a plain value")
	}
}

func TestSearchPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ed := e.browser().login("editor")
		ed.post("/app/people", url.Values{"email": {"ana.lima@example.com"}, "name": {"Ana Lima"}, "start_date": {"2025-05-05"}, "employment_type": {"employee"}})
		req, err := e.dsar.Create(context.Background(), audit.System("test"), dsar.Input{Channel: "email", Law: "gdpr", Type: "access",
			RequesterName: "Carla Diaz", RequesterEmail: "carla@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			role, q  string
			want     []string
			dontWant []string
		}{
			{"viewer", "LIMA@exa", []string{`<h2>People</h2>`, `href="/app/people/ana.lima@example.com"`}, nil},
			{"viewer", "BACKUP", []string{`<h2>Policies</h2>`, `href="/app/policies/backup"`}, nil},
			{"editor", strings.ToLower(req.Reference), []string{`<h2>Privacy requests</h2>`, `href="/app/privacy-requests/` + req.Reference + `"`}, nil},
			{"auditor", req.Reference, []string{"Nothing matches"}, []string{"/app/privacy-requests/"}},
			{"viewer", "carla", []string{"Nothing matches"}, []string{"Privacy requests</h2>"}},
			{"viewer", "", nil, []string{"Nothing matches", "<h2>"}},
		} {
			r := e.browser().login(c.role).get("/app/search?q=" + url.QueryEscape(c.q))
			if r.status != http.StatusOK {
				t.Errorf("%s searching %q: %d", c.role, c.q, r.status)
				continue
			}
			if !strings.Contains(r.body, `value="`+c.q+`"`) {
				t.Errorf("%s searching %q: the query is not kept in the box", c.role, c.q)
			}
			for _, w := range c.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("%s searching %q: no %q", c.role, c.q, w)
				}
			}
			for _, w := range c.dontWant {
				if strings.Contains(r.body, w) {
					t.Errorf("%s searching %q: shows %q", c.role, c.q, w)
				}
			}
		}
	})
}

// TestSidebarMarksTheCurrentArea: a page deep in an area marks its area's
// entry, and only that one.
func TestSidebarMarksTheCurrentArea(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	admin := e.browser().login("admin")
	current := regexp.MustCompile(`<a href="([^"]+)" aria-current="page">`)
	for path, want := range map[string]string{
		"/app/policies/backup":       "/app/policies",
		"/app/exceptions/new":        "/app/exceptions",
		"/app/training":              "/app/training",
		"/app/privacy/dpas":          "/app/privacy/dpas",
		"/app/privacy/standard-dpa":  "/app/privacy/standard-dpa",
		"/app/privacy/subprocessors": "/app/privacy/subprocessors",
		"/app/privacy-requests":      "/app/privacy-requests",
		"/app/advisories":            "/app/advisories",
		"/app/reports":               "/app/reports",
		"/app/packets/nda":           "/app/packets",
		"/app/access-review":         "/app/access-review",
		"/app/organization/edit":     "/app/organization",
		"/app/users":                 "/app/users",
	} {
		r := admin.get(path)
		m := sidebar.FindStringSubmatch(r.body)
		if r.status != http.StatusOK || m == nil {
			t.Errorf("%s: %d", path, r.status)
			continue
		}
		got := current.FindAllStringSubmatch(m[1], -1)
		if len(got) != 1 || got[0][1] != want {
			t.Errorf("%s marks %q, want %s", path, got, want)
		}
	}
}

// TestBrowserLayoutAtDesktopAndPhoneWidths: at 1280×900 the header is one
// slim line, the sidebar is beside the page, no sidebar entry and no date
// wraps; on a phone the sidebar comes above the page.
func TestBrowserLayoutAtDesktopAndPhoneWidths(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))
	e.browser().login("editor").post("/app/people", url.Values{"email": {"cy@example.com"}, "name": {"Cy Park"},
		"start_date": {"2025-05-05"}, "employment_type": {"contractor"}})
	err := cdp.Do(ctx,
		cdp.EmulateViewport(1280, 900),
		cdp.Navigate(e.ts.URL+"/login"),
		cdp.WaitVisible(`input[name="email"]`),
		cdp.SendKeys(`input[name="email"]`, "admin@example.com"),
		cdp.SendKeys(`input[name="password"]`, testPassword),
		cdp.Submit(`input[name="password"]`),
		cdp.WaitVisible(`nav.side`),
		cdp.Navigate(e.ts.URL+"/app/people"),
		cdp.WaitVisible(`main table`),
	)
	if err != nil {
		t.Fatal(err)
	}
	measure := func(js string) float64 {
		t.Helper()
		v, err := cdp.Run(ctx, cdp.Evaluate[float64](js))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if h := measure(`document.querySelector("header.top").getBoundingClientRect().height`); h > 56 {
		t.Errorf("the header is %.0f px high, want one slim line", h)
	}
	if d := measure(`document.querySelector("main").getBoundingClientRect().left - document.querySelector("nav.side").getBoundingClientRect().right`); d < 0 {
		t.Error("the sidebar is not beside the page")
	}
	// An element that wraps is taller than one line of its text.
	wrapped := `[...document.querySelectorAll(%q)].filter(el => el.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(el).lineHeight)).length`
	for _, sel := range []string{"nav.side a", ".who", "main time"} {
		if n := measure(fmt.Sprintf(wrapped, sel)); n > 0 {
			t.Errorf("%.0f of %s wrap", n, sel)
		}
	}
	if n := measure(`document.querySelectorAll("main time").length`); n == 0 {
		t.Error("no date on the people list")
	}
	if err := cdp.Do(ctx, cdp.EmulateViewport(390, 844), cdp.Reload(), cdp.WaitVisible(`nav.side`)); err != nil {
		t.Fatal(err)
	}
	if d := measure(`document.querySelector("main").getBoundingClientRect().top - document.querySelector("nav.side").getBoundingClientRect().bottom`); d < 0 {
		t.Error("on a phone the sidebar is not above the page")
	}
	if w := measure(`document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("on a phone the page is %.0f px wide", w)
	}
}
