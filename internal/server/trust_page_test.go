package server_test

import (
	"bytes"
	"html"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// logoSrc finds the logo's address in a public page.
var logoSrc = regexp.MustCompile(`<img class="logo" src="(/trust/logo\?v=[0-9a-f]{16})" alt="([^"]+)"`)

// pagePNG is a w×h PNG.
func pagePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTrustPageShowsEverySeedStatement reads /trust as a prospect would
// after `make run`: the statements of the seed's Security & Privacy page,
// the UK entity, the DPO, the navigation and the seed's logo.
func TestTrustPageShowsEverySeedStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.seedPrivacy()
		anon := e.browser()
		r := anon.get("/trust")
		if r.status != http.StatusOK {
			t.Fatalf("/trust: %d", r.status)
		}
		body := html.UnescapeString(r.body)
		for _, want := range []string{
			// GDPR roles per product or deployment mode.
			"PostHog Cloud: Data Processor (the customer is the Data Controller)",
			"PostHog is acting as Data Processor and the customer is the Data Controller",
			"Self-hosted: None (the customer is both Data Controller and Data Processor)",
			"We do not have access to any of their user data",
			// CCPA with its addendum.
			"PostHog acts as a Service Provider to PostHog Cloud customers only",
			`<a href="https://posthog.com/privacy" rel="noopener noreferrer">Read the CCPA Addendum</a>`,
			// Ownership and never sold.
			"PostHog Cloud customers own the data they send to us for processing",
			"customer data is never sold to third parties",
			// DPO and privacy contact.
			"Charles Cook, VP Operations", `<a href="mailto:privacy@posthog.com">privacy@posthog.com</a>`,
			// The UK entity with its ICO registration.
			"Hiberly Ltd. (UK entity)", "Registered with the UK Information Commissioner's Office (ICO)",
			// The report availability, the reward, the free-text sections.
			"Our latest security report is publicly available (last updated April 2023).",
			"Valid findings will be rewarded with PostHog swag.",
			`<h2>Our approach</h2>`, "Regular security audits and penetration testing",
			`<h2>Security best practices</h2>`, "<strong>Use PostHog Cloud</strong>",
			`<a href="https://posthog.com/blog/sunsetting-helm-support-posthog">`,
			// The DPA is signed online, or a custom one requested, at /trust/dpa.
			`<a href="/trust/dpa">read and sign our standard DPA</a>`, "custom DPA",
			// Sub-processors with their own dates.
			"Amazon Web Services</strong> — Cloud hosting of the product and its databases (DE, US) · since 2021-03-01",
			"We keep 20 security policies",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/trust lacks %q", want)
			}
		}
		for _, nav := range []string{"/trust/advisories", "/trust/security", "/trust/privacy-request", "/trust/subscribe", "/trust/subprocessors", "/trust/request", "/trust/dpa"} {
			if !strings.Contains(r.body, `<a href="`+nav+`"`) {
				t.Errorf("/trust does not link %s", nav)
			}
		}
		// The seed's certification names no document yet: no report link.
		if strings.Contains(r.body, `href=""`) || strings.Contains(r.body, "Request the report") {
			t.Error("/trust links a report that no document holds")
		}
		// Headings go down one level at a time.
		if strings.Contains(r.body, "<h4") || strings.Index(r.body, "<h3") < strings.Index(r.body, "<h2") {
			t.Error("heading levels skip")
		}
		m := logoSrc.FindStringSubmatch(r.body)
		if m == nil || m[2] != "PostHog logo" {
			t.Fatalf("no logo with alt text in the header: %v", m)
		}
		logo := anon.get(m[1])
		if logo.status != http.StatusOK || logo.header.Get("Content-Type") != "image/png" || !strings.Contains(logo.header.Get("Cache-Control"), "immutable") ||
			logo.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("logo: %d %v", logo.status, logo.header)
		}
		if _, err := png.DecodeConfig(strings.NewReader(logo.body)); err != nil {
			t.Fatalf("the seed logo is not a PNG: %v", err)
		}
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+m[1], nil)
		req.Header.Set("If-None-Match", logo.header.Get("ETag"))
		if r := anon.do(req); r.status != http.StatusNotModified {
			t.Fatalf("conditional logo: %d", r.status)
		}
		// The reward wording replaces the old fixed line on the other pages.
		for _, path := range []string{"/trust/security", "/trust/advisories"} {
			p := anon.get(path)
			if !strings.Contains(p.body, "Valid findings will be rewarded with PostHog swag.") || strings.Contains(p.body, "Valid findings are rewarded.") {
				t.Errorf("%s: the reward wording is not the profile's", path)
			}
			if !logoSrc.MatchString(p.body) {
				t.Errorf("%s has no logo", path)
			}
		}
		// The sub-processor list gives the real dates too.
		if p := anon.get("/trust/subprocessors"); !strings.Contains(p.body, "2021-03-01") {
			t.Error("/trust/subprocessors lacks the vendor's own date")
		}
	})
}

// TestProfileStatementsEditableAndAudited edits the statements through the
// API (GET, change, PUT) and the form, and checks the page and the audit.
func TestProfileStatementsEditableAndAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		code, got := e.api("viewer", http.MethodGet, "/api/v1/organization", nil)
		if code != http.StatusOK {
			t.Fatalf("GET: %d", code)
		}
		got["never_sold"] = "We never sell customer data."
		got["bounty_reward"] = "Valid findings earn a bounty."
		roles := got["gdpr_roles"].([]any)
		roles[0].(map[string]any)["role"] = "Processor"
		got["legal_entities"].([]any)[0].(map[string]any)["role"] = "UK subsidiary"
		if code, body := e.api("admin", http.MethodPut, "/api/v1/organization", got); code != http.StatusOK {
			t.Fatalf("PUT: %d %v", code, body)
		}
		if ev := e.lastEvent(); ev.Action != "organization.updated" {
			t.Fatalf("audit: %s", ev.Action)
		}
		page := html.UnescapeString(e.browser().get("/trust").body)
		for _, want := range []string{"We never sell customer data.", "Valid findings earn a bounty.", "PostHog Cloud: Processor", "Hiberly Ltd. (UK subsidiary)"} {
			if !strings.Contains(page, want) {
				t.Errorf("/trust lacks the edit %q", want)
			}
		}
		for field, value := range map[string]any{"ccpa_addendum_url": "javascript:alert(1)", "bounty_reward": strings.Repeat("x", 501)} {
			bad := map[string]any{}
			for k, v := range got {
				bad[k] = v
			}
			bad[field] = value
			if code, body := e.api("admin", http.MethodPut, "/api/v1/organization", bad); code != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(keys(body), " "), "error") ||
				body["error"].(map[string]any)["fields"].(map[string]any)[field] == nil {
				t.Errorf("%s: %d %v", field, code, body)
			}
		}
		if code, body := e.api("admin", http.MethodPut, "/api/v1/organization", map[string]any{"name": "PostHog", "gdpr_roles": []map[string]any{{"mode": "Cloud"}}}); code != http.StatusUnprocessableEntity ||
			body["error"].(map[string]any)["fields"].(map[string]any)["gdpr_roles[0].role"] == nil {
			t.Errorf("a GDPR role without a role: %d %v", code, body)
		}
		// The dashboard form shows and saves them too.
		ad := e.browser().login("admin")
		form := ad.get("/app/organization/edit")
		for _, want := range []string{`name="gdpr_mode"`, `name="ccpa_statement"`, `name="approach"`, `name="entity_role"`, `name="cert_document"`, "We never sell customer data."} {
			if !strings.Contains(form.body, want) {
				t.Errorf("the settings form lacks %s", want)
			}
		}
		r := ad.post("/app/organization/edit", url.Values{"name": {"PostHog"}, "gdpr_mode": {"Cloud", ""}, "gdpr_role": {"Processor", ""}, "gdpr_statement": {"Line one.\nLine two.", ""},
			"approach": {"## Heading\n\n- one\n- two\n\n<script>alert(1)</script>"}, "data_ownership": {"Yours."}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("form save: %d %s", r.status, r.body)
		}
		page = e.browser().get("/trust").body
		if !strings.Contains(page, "<li>one</li>") || strings.Contains(page, "<script>alert") || !strings.Contains(page, "Yours.") {
			t.Error("the approach is not rendered as safe Markdown")
		}
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLogoUpload: an admin replaces the logo; a bad file, a wrong type and
// an oversized file are refused with the field named, and the old logo
// stays.
func TestLogoUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		anon := e.browser()
		before := logoSrc.FindStringSubmatch(anon.get("/trust").body)
		ad := e.browser().login("admin")
		good := pagePNG(t, 120, 40)
		if r := ad.upload("/app/organization/logo", "file", "brand.png", good); r.status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		if ev := e.lastEvent(); ev.Action != "organization.logo_set" {
			t.Fatalf("audit: %s", ev.Action)
		}
		after := logoSrc.FindStringSubmatch(anon.get("/trust").body)
		if before == nil || after == nil || after[1] == before[1] {
			t.Fatalf("the logo address did not change: %v → %v", before, after)
		}
		if got := anon.get(after[1]); got.body != string(good) {
			t.Fatal("/trust/logo does not serve the uploaded logo")
		}
		for name, c := range map[string]struct {
			file string
			body []byte
			want string
		}{
			"bad file":   {"logo.png", good[:30], "is not a readable image/png image"},
			"wrong type": {"logo.pdf", documenttest.PDF(t, "Not a logo", 1), "must be one of"},
			"svg":        {"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "must be one of"},
			"oversized":  {"logo.png", append(append([]byte{}, good...), make([]byte, 1<<20)...), "is larger than 1 MB"},
		} {
			r := ad.upload("/app/organization/logo", "file", c.file, c.body)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, c.want) || !strings.Contains(r.body, `id="file-error"`) {
				t.Errorf("%s: %d, want 422 naming the file: %s", name, r.status, c.want)
			}
		}
		if now := logoSrc.FindStringSubmatch(anon.get("/trust").body); now == nil || now[1] != after[1] {
			t.Fatal("a refused upload changed the logo")
		}
		if r := e.browser().login("editor").upload("/app/organization/logo", "file", "brand.png", good); r.status != http.StatusForbidden {
			t.Fatalf("an editor uploaded the logo: %d", r.status)
		}
	})
}

// TestPublicPagesAreBrandedWithoutBuildOrRequestIDs: error pages, dead
// links and acknowledgement pages reached from outside show the company's
// layout; only the dashboard names Charter and its build.
func TestPublicPagesAreBrandedWithoutBuildOrRequestIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		anon := e.browser()
		dead := strings.Repeat("A", 43)
		for path, status := range map[string]int{
			"/trust":                             http.StatusOK,
			"/trust/advisories/POSTHOG-SA-1-404": http.StatusNotFound,
			"/trust/documents/no-such-document":  http.StatusNotFound,
			"/trust/certifications/999/report":   http.StatusNotFound,
			"/p/" + dead:                         http.StatusNotFound,
			"/ack/" + dead:                       http.StatusNotFound,
		} {
			r := anon.get(path)
			if r.status != status {
				t.Errorf("%s: %d, want %d", path, r.status, status)
				continue
			}
			if !strings.Contains(r.body, "PostHog · Security &amp; Privacy") || !logoSrc.MatchString(r.body) {
				t.Errorf("%s is not in the company's layout", path)
			}
			footer := r.body[strings.LastIndex(r.body, "<footer"):]
			if rid := r.header.Get("X-Request-Id"); strings.Contains(footer, "Charter test") || (rid != "" && strings.Contains(footer, rid)) || strings.Contains(footer, "request") {
				t.Errorf("%s: the footer shows a build or request ID: %s", path, footer)
			}
			// Error pages keep the request ID in their text (dead share
			// links have their own page, which says what to do instead).
			errorPage := status >= 400 && !strings.HasPrefix(path, "/p/") && !strings.HasPrefix(path, "/ack/")
			if errorPage && (r.header.Get("X-Request-Id") == "" || !strings.Contains(r.body, r.header.Get("X-Request-Id"))) {
				t.Errorf("%s: the error page lost its request ID", path)
			}
		}
		if r := e.browser().login("viewer").get("/app/"); !strings.Contains(r.body, "Charter test") {
			t.Error("the dashboard footer lost Charter's version")
		}
	})
}

// TestCertificationsPointAtTheirReportDocument: the report is a trust
// document; its access level decides download or request, in one place.
func TestCertificationsPointAtTheirReportDocument(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		pdf := documenttest.PDF(t, "SOC 2 report", 2)
		code, doc := e.apiUpload("editor", "/api/v1/documents", documentFields("SOC 2 Type 1 report", "on_request", ""), "soc2.pdf", pdf)
		if code != http.StatusCreated {
			t.Fatalf("document: %d %v", code, doc)
		}
		slug := doc["slug"].(string)
		_, profile := e.api("viewer", http.MethodGet, "/api/v1/organization", nil)
		certs := profile["certifications"].([]any)
		cert := certs[0].(map[string]any)
		cert["document"] = "no-such-document"
		if code, body := e.api("admin", http.MethodPut, "/api/v1/organization", profile); code != http.StatusUnprocessableEntity ||
			body["error"].(map[string]any)["fields"].(map[string]any)["certifications[0].document"] == nil {
			t.Fatalf("unknown document: %d %v", code, body)
		}
		cert["document"] = slug
		if code, body := e.api("admin", http.MethodPut, "/api/v1/organization", profile); code != http.StatusOK {
			t.Fatalf("link: %d %v", code, body)
		}
		anon := e.browser()
		page := anon.get("/trust").body
		if !strings.Contains(page, `<a href="/trust/request?document=`+slug+`">Request the report</a>`) || strings.Contains(page, "mailto:privacy@posthog.com?subject") {
			t.Fatalf("/trust does not offer the report on request")
		}
		certID := int(cert["id"].(float64))
		old := anon.get("/trust/certifications/" + strconv.Itoa(certID) + "/report")
		if old.status != http.StatusFound || old.header.Get("Location") != "/trust/request?document="+slug {
			t.Fatalf("old report address: %d %s", old.status, old.header.Get("Location"))
		}
		if code, _ := e.api("editor", http.MethodPut, "/api/v1/documents/"+slug, map[string]any{"title": "SOC 2 Type 1 report", "kind": "soc2_report",
			"access": "public", "owner_email": "compliance@example.com"}); code != http.StatusOK {
			t.Fatalf("make public: %d", code)
		}
		page = anon.get("/trust").body
		if !strings.Contains(page, `<a href="/trust/documents/`+slug+`" download>Download the report</a>`) {
			t.Fatal("/trust does not offer the public report for download")
		}
		if old := anon.get("/trust/certifications/" + strconv.Itoa(certID) + "/report"); old.status != http.StatusFound || old.header.Get("Location") != "/trust/documents/"+slug {
			t.Fatalf("old report address: %d %s", old.status, old.header.Get("Location"))
		}
		if got := anon.get("/trust/documents/" + slug); got.status != http.StatusOK || got.body != string(pdf) {
			t.Fatalf("download: %d", got.status)
		}
	})
}

// TestAdvisoryPageShowsWhatIsKnown: an advisory published without a CVE or
// a disclosure date shows its publication as the disclosure, and no "–".
func TestAdvisoryPageShowsWhatIsKnown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		in := fullAdvisory()
		for _, k := range []string{"cve", "disclosed_on", "discovered_on", "fixed_on", "resolution", "fix_links"} {
			delete(in, k)
		}
		in["status"] = "reported"
		code, a := e.api("editor", http.MethodPost, "/api/v1/advisories", in)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, a)
		}
		id := a["id"].(string)
		if code, _ := e.api("editor", http.MethodPost, "/api/v1/advisories/"+id+"/publish", nil); code != http.StatusOK {
			t.Fatalf("publish: %d", code)
		}
		page := e.browser().get("/trust/advisories/" + id).body
		published := e.clock.Now().UTC().Format("2006-01-02")
		if !strings.Contains(page, "Disclosed:</strong> "+published) || strings.Contains(page, "–</li>") || strings.Contains(page, "CVE:") ||
			strings.Contains(page, "<h2>Resolution</h2>") || strings.Contains(page, "Discovered:") || !strings.Contains(page, "Reported:</strong> 2026-03-02") {
			t.Fatalf("advisory page: %s", page[strings.Index(page, "<article"):])
		}
	})
}

// TestSubprocessorSinceDateIsEditableAndShown sets a vendor's real start
// through the API and the form, and reads it on the public pages.
func TestSubprocessorSinceDateIsEditableAndShown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		code, body := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Cloudflare", "purpose": "CDN",
			"countries": "US", "transfer_mechanism": "eu_us_dpf", "in_use": true, "active_since": "2019-04-01"})
		if code != http.StatusCreated || body["active_since"] == nil || !strings.HasPrefix(body["active_since"].(string), "2019-04-01") {
			t.Fatalf("create in use since 2019: %d %v", code, body)
		}
		id := strconv.Itoa(int(body["id"].(float64)))
		if code, body := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Fastly", "purpose": "CDN",
			"countries": "US", "transfer_mechanism": "eu_us_dpf", "active_since": "2019-04-01"}); code != http.StatusUnprocessableEntity ||
			body["error"].(map[string]any)["fields"].(map[string]any)["active_since"] == nil {
			t.Fatalf("a proposed vendor with a date: %d %v", code, body)
		}
		ed := e.browser().login("editor")
		form := ed.get("/app/privacy/subprocessors/" + id)
		if !strings.Contains(form.body, `name="active_since"`) || !strings.Contains(form.body, `value="2019-04-01"`) {
			t.Fatal("the sub-processor form does not show the date")
		}
		r := ed.post("/app/privacy/subprocessors/"+id+"/edit", url.Values{"name": {"Cloudflare"}, "purpose": {"CDN"}, "countries": {"US"},
			"transfer_mechanism": {"eu_us_dpf"}, "active_since": {"2018-09-15"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("form edit: %d %s", r.status, r.body)
		}
		if r := ed.post("/app/privacy/subprocessors/"+id+"/edit", url.Values{"name": {"Cloudflare"}, "purpose": {"CDN"}, "countries": {"US"},
			"transfer_mechanism": {"eu_us_dpf"}, "active_since": {"2099-01-01"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "cannot be in the future") {
			t.Fatalf("a future date: %d", r.status)
		}
		anon := e.browser()
		if p := anon.get("/trust"); !strings.Contains(p.body, "Cloudflare</strong> — CDN (US) · since 2018-09-15") {
			t.Error("/trust lacks the corrected date")
		}
		if p := anon.get("/trust/subprocessors.json"); !strings.Contains(p.body, `"active_since": "2018-09-15"`) {
			t.Error("the JSON list lacks the corrected date")
		}
	})
}
