package server

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/dsar"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/web"
	"github.com/labstack/echo/v4"
)

// navItem is an entry of the dashboard's navigation, shown to the roles
// its route allows (Need is the route's role in routes.go).
type navItem struct {
	Area, Label, Href string
	Need              auth.Role
}

// navSection is a group of the sidebar, named after its area.
type navSection struct {
	Label string
	Items []navItem
}

var navigation = []navSection{
	{"", []navItem{
		{"overview", "Overview", "/app/", auth.Viewer},
		{"waiting", "Waiting for you", "/app/waiting", auth.Viewer},
	}},
	{"Policies", []navItem{
		{"policies", "Policies", "/app/policies", auth.Viewer},
		{"exceptions", "Exceptions", "/app/exceptions", auth.Viewer},
	}},
	{"People", []navItem{
		{"people", "People", "/app/people", auth.Viewer},
		{"training", "Training", "/app/training", auth.Viewer},
	}},
	{"Privacy", []navItem{
		{"dpas", "DPAs", "/app/privacy/dpas", auth.Viewer},
		{"standard_dpa", "Standard DPA", "/app/privacy/standard-dpa", auth.Viewer},
		{"subprocessors", "Sub-processors", "/app/privacy/subprocessors", auth.Viewer},
		{"privacy_requests", "Privacy requests", "/app/privacy-requests", auth.Editor},
	}},
	{"Trust center", []navItem{
		{"documents", "Trust documents", "/app/documents", auth.Viewer},
		{"answers", "Questionnaires", "/app/answers", auth.Viewer},
		{"packets", "Policy packets", "/app/packets", auth.Viewer},
		{"advisories", "Advisories", "/app/advisories", auth.Viewer},
		{"reports", "Vulnerability reports", "/app/reports", auth.Editor},
	}},
	{"Evidence", []navItem{
		{"exports", "Evidence exports", "/app/exports", auth.Auditor},
		{"audit", "Audit trail", "/app/audit", auth.Viewer},
		{"snapshots", "Promise snapshots", "/app/snapshots", auth.Viewer},
		{"access", "Access review", "/app/access-review", auth.Auditor},
	}},
	{"Admin", []navItem{
		{"organization", "Organization", "/app/organization", auth.Viewer},
		{"users", "Users", "/app/users", auth.Admin},
		{"outbox", "Outbox", "/app/outbox", auth.Editor},
		{"webhooks", "Webhooks", "/app/webhooks", auth.Admin},
	}},
}

// navigationFor is the sidebar a role sees: only the entries it may open,
// and no empty group.
func navigationFor(r auth.Role) []navSection {
	var out []navSection
	for _, sec := range navigation {
		var items []navItem
		for _, n := range sec.Items {
			if r.Allows(n.Need) {
				items = append(items, n)
			}
		}
		if len(items) > 0 {
			out = append(out, navSection{Label: sec.Label, Items: items})
		}
	}
	return out
}

// view is the envelope every page template receives.
type view struct {
	Title string
	Area  string
	User  *auth.User
	CSRF  string
	Flash string
	// Problem is a one-time message of an action refused (a single-button
	// form's conflict), shown in red, never as the green flash.
	Problem   string
	RequestID string
	Version   string
	Nav       []navSection
	// Company names the company in the header, with its logo.
	Company brand
	// Query is the search box's text, kept on the results page.
	Query string
	Data  any
}

var templateFuncs = template.FuncMap{
	"date": func(t any) string { return formatTime(t, "2006-01-02") },
	"datetime": func(t any) string {
		return formatTime(t, "2006-01-02 15:04 UTC")
	},
	// dateTag and datetimeTag show a date in page text as a <time> element,
	// which the stylesheet keeps on one line; date and datetime give the
	// bare text, for attributes such as an input's value.
	"dateTag": func(t any) template.HTML { return timeTag(t, "2006-01-02", time.DateOnly) },
	"datetimeTag": func(t any) template.HTML {
		return timeTag(t, "2006-01-02 15:04 UTC", time.RFC3339)
	},
	"can":  func(u *auth.User, role string) bool { return u != nil && u.Role.Allows(auth.Role(role)) },
	"join": strings.Join,
	"short": func(h string) string {
		if len(h) > 12 {
			return h[:12]
		}
		return h
	},
	"add":       func(a, b int) int { return a + b },
	"plural":    plural,
	"mechanism": privacy.MechanismLabel,
	"lawLabel":  dsar.LawLabel,
	"human":     human,
	"timing":    dsar.Timing,
	"has":       slices.Contains[[]string],
	"roleName":  func(r auth.Role) string { return string(r) },
	"list":      func(items ...string) []string { return items },
	"mul":       func(a, b int) int { return a * b },
	"scale":     func(k, v float64) float64 { return k * v },
	"plus":      func(k, v float64) float64 { return k + v },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	// The form convention's partials (kit.go, form_parts.html).
	"fieldOf":  fieldOf,
	"errorOf":  errorOf,
	"selectOf": selectOf,
	"errorsIf": errorsIf,
	"only":     onlyFields,
	"except":   exceptFields,
	"summary":  summaryOf,
	"invalid":  invalidAttrs,
	"within":   within,
}

func formatTime(t any, layout string) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format(layout)
	case *time.Time:
		if v == nil || v.IsZero() {
			return ""
		}
		return v.UTC().Format(layout)
	}
	return fmt.Sprint(t)
}

// timeTag is t as a <time> element ("" for no time); a value that is not
// a time is shown as text, escaped.
func timeTag(t any, layout, machine string) template.HTML {
	shown := formatTime(t, layout)
	if shown == "" {
		return ""
	}
	attr := formatTime(t, machine)
	switch t.(type) {
	case time.Time, *time.Time:
	default:
		return template.HTML(template.HTMLEscapeString(shown)) //nolint:gosec // escaped
	}
	return template.HTML(`<time datetime="` + attr + `">` + shown + `</time>`) //nolint:gosec // formatted times only
}

// parseTemplates parses each page together with the layout, once; funcs
// adds the functions that need the server (Markdown rendering).
func parseTemplates(funcs template.FuncMap) (map[string]*template.Template, error) {
	fsys := web.Templates()
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	parse := func(key, layout, n string) error {
		t, err := template.New(layout).Funcs(templateFuncs).Funcs(funcs).ParseFS(fsys, layout, formParts, n)
		if err != nil {
			return fmt.Errorf("template %s: %w", n, err)
		}
		pages[key] = t
		return nil
	}
	for _, n := range names {
		if n == "layout.html" || n == "public.html" || n == formParts {
			continue
		}
		// The pages customers and employees reach without signing in
		// (/trust…, /p/…, /ack/…, dead links) have the company's layout,
		// without the dashboard's navigation.
		layout := "layout.html"
		if publicPage(n) {
			layout = "public.html"
		}
		if err := parse(strings.TrimSuffix(n, ".html"), layout, n); err != nil {
			return nil, err
		}
	}
	// An error on a public page is shown in the company's layout.
	if err := parse(publicErrorPage, "public.html", "error.html"); err != nil {
		return nil, err
	}
	return pages, nil
}

// formParts holds the form convention's partials, parsed with every page.
const formParts = "form_parts.html"

// publicErrorPage is the error page in the public layout.
const publicErrorPage = "public_error"

// publicPage reports whether a template is shown in the public layout.
func publicPage(file string) bool {
	return strings.HasPrefix(file, "trust") || file == "ack.html" || file == "link_dead.html"
}

// render writes page name inside the layout with the common envelope.
func (k *kit) render(c echo.Context, status int, name, title string, data any) error {
	t, ok := k.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	v := view{Title: title, Area: areaOf(name), User: currentUser(c), RequestID: requestID(c), Version: k.version, Data: data}
	if tok, ok := c.Get(csrfKey).(string); ok {
		v.CSRF = tok
	}
	// The public forms have a CSRF cookie but no session.
	if loaded, _ := c.Get(sessionLoadedKey).(bool); loaded {
		v.Flash = k.sessions.PopString(c.Request().Context(), flashKey)
		v.Problem = k.sessions.PopString(c.Request().Context(), problemKey)
	}
	if v.User != nil {
		v.Nav = navigationFor(v.User.Role)
	}
	// The header names the company; should its profile be unreadable, the
	// page (an error page, most likely) is still shown, under the product's name.
	b, err := k.brand(c.Request().Context())
	if err != nil {
		k.log.Warn("reading the company's name for the header", "request_id", v.RequestID, "error", err)
		b = brand{Name: "Charter"}
	}
	v.Company = b
	if name == "search" {
		v.Query = c.QueryParam("q")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// areaOf is the navigation entry a page belongs to (marked as the current
// one in the sidebar).
func areaOf(page string) string {
	switch {
	case strings.HasPrefix(page, "polic"), strings.HasPrefix(page, "version"), page == "diff":
		return "policies"
	case page == "people", strings.HasPrefix(page, "employee"), page == "people_import":
		return "people"
	case page == "courses":
		return "training"
	case strings.HasPrefix(page, "standard_dpa"):
		return "standard_dpa"
	case strings.HasPrefix(page, "dpa"):
		return "dpas"
	case strings.HasPrefix(page, "subprocessor"), page == "notice":
		return "subprocessors"
	case strings.HasPrefix(page, "privacy_"):
		return "privacy_requests"
	case strings.HasPrefix(page, "advisor"):
		return "advisories"
	case strings.HasPrefix(page, "report"):
		return "reports"
	case strings.HasPrefix(page, "packet"), page == "nda":
		return "packets"
	case strings.HasPrefix(page, "document"):
		return "documents"
	case strings.HasPrefix(page, "exception"):
		return "exceptions"
	case strings.HasPrefix(page, "answer"):
		return "answers"
	case page == "audit", page == "snapshots":
		return page
	case page == "overview", page == "waiting", page == "outbox", page == "exports":
		return page
	case strings.HasPrefix(page, "organization"):
		return "organization"
	case page == "access_review":
		return "access"
	case page == "users", page == "secret":
		return "users"
	case strings.HasPrefix(page, "webhook"):
		return "webhooks"
	}
	return ""
}

// flash keeps a one-time message for the next page.
func (k *kit) flash(c echo.Context, msg string) {
	k.sessions.Put(c.Request().Context(), flashKey, msg)
}

// flashProblem keeps the message of a refused single-button action (its
// form has no field to mark) for the next page, shown in red.
func (k *kit) flashProblem(c echo.Context, err error) {
	_, _, msg, _ := classify(err)
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	k.sessions.Put(c.Request().Context(), problemKey, sentence(msg))
}

// seeOther redirects after a successful form post.
func seeOther(c echo.Context, to string) error { return c.Redirect(http.StatusSeeOther, to) }

// publicView is the envelope of the public pages' layout. It carries no
// build identifier or request ID: customers see the company, not the
// software (an error page shows its request ID in its text).
type publicView struct {
	Title   string
	Company string
	// Logo is the address of the company's logo ("" for none).
	Logo string
	Area string
	CSRF string
	Data any
}

// brand is how the public pages name the company.
type brand struct {
	Name string
	Logo string // the logo's address, "" for none
}

// brandOf is the brand of a profile (org.Current's empty one before the
// seed). The logo's address carries its hash, so that it can be cached
// for a year and still change at once.
func brandOf(o *org.Organization) brand {
	b := brand{Name: companyName(o)}
	if o != nil && o.ID != 0 && len(o.LogoSHA256) >= 16 {
		b.Logo = "/trust/logo?v=" + o.LogoSHA256[:16]
	}
	return b
}

// renderPublicBytes renders a page in the public layout into bytes.
func (k *kit) renderPublicBytes(name, title string, b brand, csrf string, data any) ([]byte, error) {
	t, ok := k.pages[name]
	if !ok {
		return nil, fmt.Errorf("no template %q", name)
	}
	area := name
	if name == publicErrorPage {
		area = "error"
	}
	var buf bytes.Buffer
	err := t.ExecuteTemplate(&buf, "public.html", publicView{Title: title, Company: b.Name, Logo: b.Logo, Area: area, CSRF: csrf, Data: data})
	return buf.Bytes(), err
}

// renderPublic answers with a public page that is not cached (forms).
func (k *kit) renderPublic(c echo.Context, status int, name, title string, data any) error {
	b, err := k.brand(c.Request().Context())
	if err != nil {
		return err
	}
	csrf, _ := c.Get(csrfKey).(string)
	body, err := k.renderPublicBytes(name, title, b, csrf, data)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, body)
}

func companyName(o *org.Organization) string {
	if o == nil || o.ID == 0 {
		return "Security & Privacy"
	}
	return o.Name
}

// loaded is the profile for a page that shows its sections only when one
// has been loaded (org.Current gives an empty one before the seed).
func loaded(o *org.Organization) *org.Organization {
	if o.ID == 0 {
		return nil
	}
	return o
}

func (k *kit) renderMarkdown(src string) (template.HTML, error) {
	var b strings.Builder
	if err := k.markdown.Convert([]byte(src), &b); err != nil {
		return "", err
	}
	// goldmark's default renderer drops raw HTML and unsafe link schemes.
	return template.HTML(b.String()), nil //nolint:gosec // see above
}
