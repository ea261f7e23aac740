package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/server"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"
)

// crawlPageLimit bounds a role's crawl; the fixture's registers give a few
// hundred distinct pages, so reaching the limit means the crawl is looping.
const crawlPageLimit = 3000

// TestRoleCrawl signs in as each role, starts at /app/ and follows every
// same-site link on every page it reaches: no link may answer 403, 404 or
// any other error, and no page may show a form the role may not submit
// (issue 21: a page never links to or offers what answers 403).
func TestRoleCrawl(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	// The form check reads the route table: it must find a route's rule
	// from a concrete path, else every form would pass unchecked.
	if rule, ok := routeRule(e.srv, http.MethodPost, "/app/users/7/role"); !ok || rule.Role != auth.Admin {
		t.Fatalf("routeRule(POST /app/users/7/role) = %+v, %v; want the admin rule", rule, ok)
	}
	if _, ok := routeRule(e.srv, http.MethodPost, "/app/no-such-page"); ok {
		t.Fatal("routeRule found a rule for a path no route serves")
	}
	fillRegisters(t, e)
	for _, name := range []string{"viewer", "auditor", "editor", "admin"} {
		t.Run(name, func(t *testing.T) {
			c := &crawler{e: e, b: e.browser().login(name), role: auth.Role(name)}
			c.run("/app/")
			for _, p := range c.problems {
				t.Error(p)
			}
			if c.pages < 50 {
				t.Errorf("only %d pages reached as %s: the crawl did not get past the first pages", c.pages, name)
			}
			t.Logf("%s: %d pages, %d forms checked", name, c.pages, c.forms)
		})
	}
}

// fillRegisters puts one of everything a page can show into e: employees
// with acknowledgements and training, a draft and an approved policy
// version, DPAs, sub-processors with a notice, packet requests and an
// issued packet, an advisory with its incident, a vulnerability report, a
// privacy request, trust documents and a webhook endpoint with a delivery.
func fillRegisters(t *testing.T, e *env) {
	t.Helper()
	e.seedPrivacy()
	call := func(user, method, path string, body any, want int) map[string]any {
		t.Helper()
		code, out := e.api(user, method, path, body)
		if code != want {
			t.Fatalf("%s %s: %d %v", method, path, code, out)
		}
		return out
	}
	today := e.clock.Now().Format(time.DateOnly)
	for _, who := range []string{"ana", "ben"} {
		call("editor", http.MethodPost, "/api/v1/employees", map[string]any{"email": who + "@example.com", "name": strings.ToUpper(who[:1]) + who[1:], "start_date": "2024-01-01"}, http.StatusCreated)
	}
	call("editor", http.MethodPost, "/api/v1/employees/ana@example.com/acknowledgements", map[string]any{"policy": "backup"}, http.StatusOK)
	call("editor", http.MethodPost, "/api/v1/courses", map[string]any{"name": "Security awareness", "recurrence_months": 12}, http.StatusCreated)
	call("editor", http.MethodPost, "/api/v1/employees/ana@example.com/training", map[string]any{"course": "Security awareness", "completed_on": today}, http.StatusCreated)

	approved := call("editor", http.MethodPost, "/api/v1/policies/backup/versions", map[string]any{"body": "# Backup\n\nDaily backups, kept 30 days.", "change_summary": "Retention", "material": true}, http.StatusCreated)
	call("editor2", http.MethodPost, fmt.Sprintf("/api/v1/policies/backup/versions/%v/approve", approved["version"]), nil, http.StatusOK)
	call("editor", http.MethodPost, "/api/v1/policies/encryption/versions", map[string]any{"body": "# Encryption\n\nTLS 1.3 only.", "change_summary": "TLS", "material": false}, http.StatusCreated)

	// Policy exceptions: one approved by another editor, one waiting.
	exc := call("editor", http.MethodPost, "/api/v1/exceptions", map[string]any{"policy": "password", "scope": "bill-01", "reason": "Vendor appliance",
		"compensating_controls": "Isolated network", "expires_on": e.clock.Now().AddDate(0, 0, 10).Format(time.DateOnly)}, http.StatusCreated)
	call("editor2", http.MethodPost, fmt.Sprintf("/api/v1/exceptions/%v/approve", exc["id"]), nil, http.StatusOK)
	call("editor", http.MethodPost, "/api/v1/exceptions", map[string]any{"policy": "backup", "section": "2 Retention", "scope": "Analytics replicas",
		"reason": "Rebuilt nightly", "compensating_controls": "Source data backed up", "expires_on": e.clock.Now().AddDate(0, 6, 0).Format(time.DateOnly)}, http.StatusCreated)

	call("editor", http.MethodPost, "/api/v1/dpas", map[string]any{"direction": "customer", "counterparty": "Prospect", "contact_email": "legal@prospect.example", "domain": "prospect.example", "status": "requested"}, http.StatusCreated)
	sub := call("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Cloudflare", "purpose": "CDN", "countries": "US, DE", "transfer_mechanism": "eu_us_dpf"}, http.StatusCreated)
	call("editor", http.MethodPost, "/api/v1/subprocessor-notices", map[string]any{"change": "add", "subprocessor_id": sub["id"], "effective_on": e.clock.Now().AddDate(0, 0, 45).Format(time.DateOnly)}, http.StatusCreated)

	packettest.Issue(t, e.packets, e.st.DB, "dana@customer.example")
	visitor := e.browser()
	visitor.get("/trust/request")
	if r := visitor.post("/trust/request", url.Values{"name": {"Sam"}, "email": {"sam@prospect.example"}, "company": {"Prospect"}, "nda_version": {"1"}, "accept_nda": {"true"}}); r.status != http.StatusOK {
		t.Fatalf("packet request: %d", r.status)
	}
	if r := visitor.postRaw(e.outboxLink(t, "sam@prospect.example", "/trust/request/confirm/"), url.Values{}, nil); r.status != http.StatusOK {
		t.Fatalf("confirming the packet request: %d", r.status)
	}

	call("editor", http.MethodPost, "/api/v1/advisories", fullAdvisory(), http.StatusCreated)
	visitor.get("/trust/security")
	if r := visitor.post("/trust/security", url.Values{"email": {"finder@researcher.example"}, "summary": {"IDOR on /api/projects"}, "details": {"Any user can read any project."}}); r.status != http.StatusOK {
		t.Fatalf("vulnerability report: %d", r.status)
	}
	call("editor", http.MethodPost, "/api/v1/privacy-requests", map[string]any{"channel": "customer", "law": "uk_gdpr", "type": "portability", "requester_email": "x@y.example", "received_on": today}, http.StatusCreated)
	e.uploadDocument(t, "Penetration test summary", "on_request", e.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly), false, documenttest.PDF(t, "Pen test", 1))
	e.uploadDocument(t, "ISO 27001 certificate", "public", e.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly), false, documenttest.PDF(t, "ISO", 1))
	approvedAnswer(t, e, map[string]any{"question": "Do you encrypt data at rest?", "answer": "Yes, AES-256.", "access": "on_request",
		"owner_email": "security@example.com", "evidence": []map[string]any{{"policy": "encryption", "section": "3"}, {"document": "iso-27001-certificate"}}})
	call("editor", http.MethodPost, "/api/v1/answers", map[string]any{"question": "Who holds the keys?", "answer": "Two engineers.", "access": "internal",
		"owner_email": "security@example.com"}, http.StatusCreated)
	hook := call("admin", http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.com/charter", "events": []string{"advisory.published", "privacy_request.received"}, "format": "slack"}, http.StatusCreated)
	call("admin", http.MethodPost, fmt.Sprintf("/api/v1/webhooks/%v/test", hook["id"]), nil, http.StatusAccepted)
}

// crawler walks the site breadth-first as one signed-in role.
type crawler struct {
	e    *env
	b    *browser
	role auth.Role
	// seen holds every URL found, by the key enqueue gives it.
	seen     map[string]*crawlTarget
	queue    []*crawlTarget
	pages    int
	forms    int
	problems []string
}

// crawlTarget is a URL to visit and the pages that link to it.
type crawlTarget struct {
	url  string
	from []string
}

// linkedFrom names the pages that link to t, a few of them.
func (t *crawlTarget) linkedFrom() string {
	const shown = 5
	if len(t.from) > shown {
		return strings.Join(t.from[:shown], ", ") + fmt.Sprintf(" and %d more", len(t.from)-shown)
	}
	return strings.Join(t.from, ", ")
}

// run crawls from start; a bad URL is reported once the crawl is over,
// with every page that links to it.
func (c *crawler) run(start string) {
	c.seen = map[string]*crawlTarget{}
	c.enqueue(start, "(start)")
	var bad []*crawlTarget
	var statuses []int
	for len(c.queue) > 0 {
		if c.pages >= crawlPageLimit {
			c.problems = append(c.problems, fmt.Sprintf("as %s: stopped after %d pages with %d queued: is a link growing without bound?", c.role, c.pages, len(c.queue)))
			break
		}
		next := c.queue[0]
		c.queue = c.queue[1:]
		if status := c.visit(next); status >= 400 {
			bad, statuses = append(bad, next), append(statuses, status)
		}
	}
	for i, t := range bad {
		c.problems = append(c.problems, fmt.Sprintf("as %s: %s answers %d; linked from %s", c.role, t.url, statuses[i], t.linkedFrom()))
	}
}

// enqueue adds a same-site URL once. Pages that differ only in their query
// values (page=2, page=3, status=…) count as one, so that paging and
// filters do not multiply the crawl; the path and the query's names do.
func (c *crawler) enqueue(ref, from string) {
	u, ok := c.resolve(ref, from)
	if !ok || u.Path == "/logout" {
		return
	}
	names := make([]string, 0, len(u.Query()))
	for k := range u.Query() {
		names = append(names, k)
	}
	sort.Strings(names)
	key := u.Path + "?" + strings.Join(names, "&")
	if t, ok := c.seen[key]; ok {
		if !slices.Contains(t.from, from) {
			t.from = append(t.from, from)
		}
		return
	}
	t := &crawlTarget{url: u.RequestURI(), from: []string{from}}
	c.seen[key] = t
	c.queue = append(c.queue, t)
}

// resolve turns a link on page from into a same-site URL; ok is false
// for other sites, mailto: links and in-page anchors.
func (c *crawler) resolve(ref, from string) (*url.URL, bool) {
	base, _ := url.Parse("http://charter.test" + from)
	if from == "(start)" {
		base, _ = url.Parse("http://charter.test/")
	}
	u, err := base.Parse(strings.TrimSpace(ref))
	if err != nil || strings.HasPrefix(ref, "#") {
		return nil, false
	}
	if (u.Scheme != "http" && u.Scheme != "https") || (u.Host != "charter.test" && u.Host != strings.TrimPrefix(c.e.ts.URL, "http://")) {
		return nil, false
	}
	u.Fragment = ""
	return u, true
}

// visit fetches l, queues the links of its page and checks its forms; it
// returns the status.
func (c *crawler) visit(l *crawlTarget) int {
	c.pages++
	r := c.b.get(l.url)
	if r.status >= 300 && r.status < 400 {
		if loc := r.header.Get("Location"); loc != "" {
			c.enqueue(loc, l.url)
		}
	}
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		return r.status // a download or a feed is fetched, not parsed
	}
	doc, err := html.Parse(strings.NewReader(r.body))
	if err != nil {
		c.problems = append(c.problems, fmt.Sprintf("as %s: %s is not HTML: %v", c.role, l.url, err))
		return r.status
	}
	if !identifierPage(l.url) {
		c.checkText(doc, l.url)
	}
	walkHTML(doc, func(n *html.Node) {
		switch n.Data {
		case "a":
			if href, ok := attr(n, "href"); ok {
				c.enqueue(href, l.url)
			}
		case "form":
			c.checkForm(n, l.url)
		}
	})
	return r.status
}

// checkForm reports a form the role may not submit: its action must be a
// route whose rule the role meets.
func (c *crawler) checkForm(n *html.Node, page string) {
	c.forms++
	method := http.MethodGet
	if m, ok := attr(n, "method"); ok && strings.EqualFold(m, "post") {
		method = http.MethodPost
	}
	action, ok := attr(n, "action")
	if !ok || action == "" {
		action = page
	}
	u, ok := c.resolve(action, page)
	if !ok {
		return
	}
	rule, found := routeRule(c.e.srv, method, u.Path)
	switch {
	case !found:
		c.problems = append(c.problems, fmt.Sprintf("as %s: %s shows a form to %s %s, which is no route", c.role, page, method, u.Path))
	case !rule.Public && !c.role.Allows(rule.Role):
		c.problems = append(c.problems, fmt.Sprintf("as %s: %s shows a form to %s %s, which needs %s", c.role, page, method, u.Path, rule.Role))
	}
}

// rawValue is a stored value such as in_progress or on_request: shown on
// a page, it should have gone through the human template function.
var rawValue = regexp.MustCompile(`\b[a-z]+(?:_[a-z0-9]+)+\b`)

// identifierPage reports whether a page's subject is identifiers that
// clients type: the exports page lists dataset and column names as the CSV
// files and the API spell them, the audit trail event names as its filters
// and exports do.
func identifierPage(uri string) bool {
	path, _, _ := strings.Cut(uri, "?")
	return path == "/app/exports" || path == "/app/audit"
}

// checkText reports raw stored values in the text of a page, outside
// code, where names such as dataset and column names belong.
func (c *crawler) checkText(n *html.Node, page string) {
	if n.Type == html.ElementNode {
		switch n.Data {
		case "code", "pre", "kbd", "samp", "script", "style", "textarea", "title":
			return
		}
	}
	if n.Type == html.TextNode {
		if m := rawValue.FindString(n.Data); m != "" {
			c.problems = append(c.problems, fmt.Sprintf("as %s: %s shows the raw value %q in %q", c.role, page, m, strings.TrimSpace(n.Data)))
		}
	}
	for child := n.FirstChild; child != nil; child = child.NextSibling {
		c.checkText(child, page)
	}
}

// routeRule finds the access rule of the route that serves method and path.
func routeRule(s *server.Server, method, path string) (server.Rule, bool) {
	router := s.Echo()
	ctx := router.NewContext(nil, nil)
	router.Router().Find(method, path, ctx)
	rule, ok := s.Rules()[method+" "+ctx.Path()]
	return rule, ok && ctx.Path() != "" && ctx.Path() != echo.RouteNotFound
}

func walkHTML(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for child := n.FirstChild; child != nil; child = child.NextSibling {
		walkHTML(child, f)
	}
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}
