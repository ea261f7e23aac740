package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store/storetest"
	cdp "github.com/chromedp/chromedp"
)

// formCase is one form of the form convention's table (issue 21): where
// it is, who signs in to use it, what it always sends (hidden fields),
// and a submission whose one bad value must be refused.
type formCase struct {
	name   string
	role   string // "" for a public form
	page   string // where the form is shown
	action string
	hidden url.Values
	// bad is a submission that is sound but for the value of badField.
	bad      url.Values
	badField string
	// typed is bad as a person can type it in a browser, when the browser
	// cannot hold bad's value (a date input drops a malformed date).
	typed url.Values
	// emptyValid: in a browser, the form cleared is still sound (its
	// selects keep a valid choice), so only the bad value is tried there.
	emptyValid bool
	// harnessOnly names why the browser test leaves the form to the HTTP
	// harness ("" when it does not).
	harnessOnly string
	// minEmpty is how many fields an empty submission must report at
	// once, at the least (1 when unset).
	minEmpty int
}

// dsarActions is why the action forms of a privacy request's page are
// left to the harness: they all post to the page's own address, so the
// browser test cannot pick one by its action.
const dsarActions = "the request's action forms share one address"

// rawFieldName is a field name leaking into a message ("completed_on: …").
var rawFieldName = regexp.MustCompile(`\b[a-z]+_[a-z_]+:`)

var (
	summaryHeading = regexp.MustCompile(`(?s)<div class="form-summary" role="alert"[^>]*>\s*<h2>(\d+) fields? needs? attention</h2>`)
	invalidControl = regexp.MustCompile(`aria-invalid="true" aria-describedby="([^" ]+)`)
	tags           = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)
)

// checkConvention checks a refused form's answer: 422, a summary counting
// the fields, each marked with its message beside it, no raw field name,
// no "invalid input", and each value of sent shown again.
func checkConvention(t *testing.T, r response, sent url.Values, wantField string, minCount int) {
	t.Helper()
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", r.status, r.body)
	}
	m := summaryHeading.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no summary counting the fields:\n%s", r.body)
	}
	count, _ := strconv.Atoi(m[1])
	if count < minCount {
		t.Errorf("summary counts %d fields, want at least %d at once", count, minCount)
	}
	marked := invalidControl.FindAllStringSubmatch(r.body, -1)
	if len(marked) != count {
		t.Errorf("summary counts %d fields, %d controls are marked", count, len(marked))
	}
	for _, c := range marked {
		msg := regexp.MustCompile(`<(?:p|span) class="field-error" id="` + regexp.QuoteMeta(c[1]) + `">([^<]+)</`).FindStringSubmatch(r.body)
		if msg == nil || strings.TrimSpace(msg[1]) == "" {
			t.Errorf("control described by %s has no message beside it", c[1])
		}
		// html/template escapes brackets in a link; browsers decode them
		// to find the field.
		anchor := strings.TrimSuffix(c[1], "-error")
		escaped := strings.NewReplacer("[", "%5b", "]", "%5d").Replace(anchor)
		if !strings.Contains(r.body, `href="#`+anchor+`"`) && !strings.Contains(r.body, `href="#`+escaped+`"`) {
			t.Errorf("summary does not link to %s", c[1])
		}
	}
	if wantField != "" && !regexp.MustCompile(`id="([a-z]+[-_])?`+regexp.QuoteMeta(wantField)+`-error"`).MatchString(r.body) {
		t.Errorf("field %s is not marked:\n%s", wantField, r.body)
	}
	text := html.UnescapeString(tags.ReplaceAllString(r.body, " "))
	if raw := rawFieldName.FindString(text); raw != "" {
		t.Errorf("the page shows the raw field name %q", raw)
	}
	if strings.Contains(strings.ToLower(r.body), "invalid input") {
		t.Error(`the page says "invalid input"`)
	}
	for k, vs := range sent {
		for _, v := range vs {
			// Passwords are never sent back.
			if k == "csrf" || v == "" || strings.Contains(k, "password") {
				continue
			}
			if !strings.Contains(r.body, html.EscapeString(v)) {
				t.Errorf("typed value %s=%q is lost", k, v)
			}
		}
	}
}

func merged(base url.Values, extra url.Values) url.Values {
	out := url.Values{}
	for k, v := range base {
		out[k] = append([]string(nil), v...)
	}
	for k, v := range extra {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// formFixtures makes what the table's forms act on and returns the table.
func formFixtures(t *testing.T, e *env) []formCase {
	t.Helper()
	ed := e.browser().login("editor")
	mb, smtp := notifytest.Start(t)
	// A packet whose NDA changed since it was accepted, so its page asks
	// for the new version.
	requestPacket(t, e, smtp, mb, "erin@customer.example")
	packetLink := approveNewest(t, e, smtp, mb, "erin@customer.example", url.Values{"expiry_days": {"30"}})
	requestPacket(t, e, smtp, mb, "dana@customer.example")
	if r := e.browser().login("admin").post("/app/packets/nda", url.Values{"body": {"# NDA\n\nKeep everything in this packet secret, and share it with nobody outside your company."}}); r.status != http.StatusSeeOther {
		t.Fatalf("new NDA: %d %s", r.status, r.body)
	}
	code, list := e.api("editor", http.MethodGet, "/api/v1/packet-requests?status=pending", nil)
	items := list["items"].([]any)
	if code != http.StatusOK || len(items) == 0 {
		t.Fatalf("pending requests: %d %v", code, list)
	}
	requestID := int64(items[0].(map[string]any)["id"].(float64))

	if r := ed.post("/app/people", url.Values{"email": {"ana@example.com"}, "name": {"Ana Lee"}, "start_date": {"2025-05-05"},
		"employment_type": {"employee"}}); r.status != http.StatusSeeOther {
		t.Fatalf("employee: %d %s", r.status, r.body)
	}
	if r := ed.post("/app/training", url.Values{"name": {"Security awareness"}, "recurrence_months": {"12"}}); r.status != http.StatusSeeOther {
		t.Fatalf("course: %d", r.status)
	}
	r := ed.post("/app/privacy/subprocessors", url.Values{"name": {"Cloudflare"}, "purpose": {"Content delivery"},
		"data_categories": {"IP addresses"}, "countries": {"US"}, "transfer_mechanism": {"eu_us_dpf"}, "website": {"https://www.cloudflare.com"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sub-processor: %d %s", r.status, r.body)
	}
	subPath := r.header.Get("Location")
	subID := subPath[strings.LastIndex(subPath, "/")+1:]
	r = ed.post("/app/privacy-requests", url.Values{"received_on": {e.clock.Now().Format(time.DateOnly)}, "channel": {"email"}, "law": {"gdpr"},
		"type": {"access"}, "requester_name": {"Sam Doe"}, "requester_email": {"sam@example.org"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("privacy request: %d %s", r.status, r.body)
	}
	dsarPath := r.header.Get("Location")
	ackPath := sendLink(t, e, ed, "carl@example.com")
	_, doc := e.apiUpload("editor", "/api/v1/documents", documentFields("SOC 2 report", "on_request", ""), "d.pdf", documenttest.PDF(t, "Doc", 1))
	docPath := fmt.Sprintf("/app/documents/%v", doc["slug"])
	if r := e.browser().post("/login/forgot", url.Values{"email": {e.emails["editor2"]}}); r.status != http.StatusOK {
		t.Fatalf("forgot password: %d", r.status)
	}
	var mail notify.Message
	if err := e.st.DB.Where("to_addr = ? AND kind = ?", e.emails["editor2"], "password_reset").Take(&mail).Error; err != nil {
		t.Fatal(err)
	}
	resetPath := resetLinkIn.FindStringSubmatch(mail.Body)[1]
	enrol := e.browser().login("auditor").get("/app/account/mfa")
	sealed := sealedOnPage.FindStringSubmatch(enrol.body)
	if enrol.status != http.StatusOK || sealed == nil {
		t.Fatalf("MFA setup page: %d", enrol.status)
	}
	tooLate := e.clock.Now().AddDate(3, 0, 0).Format(time.DateOnly)

	return []formCase{
		{name: "record training", role: "editor", page: "/app/people/ana@example.com", action: "/app/people/ana@example.com/training",
			bad:      url.Values{"course": {"Security awareness"}, "completed_on": {"31/01/2026"}, "source": {"LMS export"}},
			badField: "completed_on",
			typed:    url.Values{"course": {"Security awareness"}, "completed_on": {"2026-01-05"}, "source": {strings.Repeat("s", 101)}}},
		{name: "background check", role: "editor", page: "/app/people/ana@example.com", action: "/app/people/ana@example.com/background-check",
			bad:        url.Values{"status": {"clear"}, "provider": {"Checkr"}, "initiated_on": {"2026-13-01"}, "completed_on": {"2026-01-10"}},
			badField:   "initiated_on",
			typed:      url.Values{"status": {"clear"}, "provider": {strings.Repeat("p", 201)}, "initiated_on": {"2026-01-05"}, "completed_on": {"2026-01-10"}},
			emptyValid: true},
		{name: "new employee", role: "editor", page: "/app/people/new", action: "/app/people",
			bad: url.Values{"email": {"bo@example.com"}, "name": {"Bo Chen"}, "title": {"Engineer"}, "start_date": {"2026-02-30"},
				"employment_type": {"employee"}, "country": {"DE"}},
			badField: "start_date",
			typed: url.Values{"email": {"bo at example"}, "name": {"Bo Chen"}, "title": {"Engineer"}, "start_date": {"2026-02-03"},
				"employment_type": {"employee"}, "country": {"DE"}}},
		{name: "record a privacy request", role: "editor", page: "/app/privacy-requests", action: "/app/privacy-requests",
			bad: url.Values{"received_on": {"2026-01-05"}, "channel": {"email"}, "law": {"gdpr"}, "type": {"access"},
				"requester_name": {"Kim Ray"}, "requester_email": {"kim at example"}, "details": {"All my data"}},
			badField: "requester_email"},
		{name: "refuse a privacy request", role: "editor", page: dsarPath, action: dsarPath, hidden: url.Values{"action": {"refuse"}},
			bad: url.Values{"reason": {strings.Repeat("x", 2001)}}, badField: "reason",
			harnessOnly: dsarActions},
		{name: "record a privacy request's verification", role: "editor", page: dsarPath, action: dsarPath, hidden: url.Values{"action": {"verify"}},
			bad: url.Values{"verification_method": {strings.Repeat("v", 501)}}, badField: "verification_method", harnessOnly: dsarActions},
		{name: "extend a privacy request", role: "editor", page: dsarPath, action: dsarPath, hidden: url.Values{"action": {"extend"}},
			bad: url.Values{"reason": {strings.Repeat("x", 2001)}}, badField: "reason", harnessOnly: dsarActions},
		{name: "complete a privacy request", role: "editor", page: dsarPath, action: dsarPath, hidden: url.Values{"action": {"complete"}},
			bad: url.Values{"outcome": {"complied"}, "systems_searched": {strings.Repeat("s", 4001)}}, badField: "systems_searched", harnessOnly: dsarActions},
		{name: "upload a privacy request's response", role: "editor", page: dsarPath, action: dsarPath + "/response",
			bad: url.Values{}, badField: "file"},
		{name: "approve a packet request", role: "editor", page: fmt.Sprintf("/app/packets/requests/%d", requestID),
			action: fmt.Sprintf("/app/packets/requests/%d/approve", requestID), hidden: url.Values{"exact": {"yes"}},
			bad: url.Values{"expiry_days": {"120"}, "download_limit": {"5"}}, badField: "expiry_days"},
		{name: "announce a sub-processor change", role: "editor", page: subPath, action: "/app/privacy/notices",
			hidden: url.Values{"subprocessor_id": {subID}},
			bad:    url.Values{"change": {"add"}, "effective_on": {"2020-01-01"}, "summary": {"We add Cloudflare"}}, badField: "effective_on"},
		{name: "new sub-processor", role: "editor", page: "/app/privacy/subprocessors/new", action: "/app/privacy/subprocessors",
			bad: url.Values{"name": {"Fastly"}, "purpose": {"CDN"}, "data_categories": {"IP addresses"}, "countries": {"US"},
				"transfer_mechanism": {"eu_us_dpf"}, "website": {"not a url"}},
			badField: "website"},
		{name: "packet request", page: "/trust/request", action: "/trust/request", hidden: url.Values{"nda_version": {"2"}},
			bad: url.Values{"name": {"Dana Reviewer"}, "email": {"dana@gmail.com"}, "company": {"Customer Ltd"}, "role": {"Analyst"},
				"reason": {"Vendor review"}, "accept_nda": {"true"}},
			badField: "email", minEmpty: 4},
		{name: "new course", role: "editor", page: "/app/training", action: "/app/training",
			bad: url.Values{"name": {"Phishing drill"}, "recurrence_months": {"twelve"}}, badField: "recurrence_months",
			typed: url.Values{"name": {"Phishing drill"}, "recurrence_months": {"61"}}},
		{name: "edit employee", role: "editor", page: "/app/people/ana@example.com/edit", action: "/app/people/ana@example.com/edit",
			bad: url.Values{"email": {"ana@example.com"}, "name": {"Ana Lee"}, "start_date": {"2025-05-05"}, "employment_type": {"employee"},
				"manager_email": {"boss at example"}}, badField: "manager_email"},
		{name: "add a user", role: "admin", page: "/app/users", action: "/app/users",
			bad: url.Values{"email": {"new at example"}, "name": {"New Person"}, "role": {"viewer"}}, badField: "email"},
		{name: "create an API token", role: "admin", page: "/app/users", action: "/app/tokens",
			bad: url.Values{"token_email": {e.emails["editor"]}, "token_name": {"HRIS sync"}, "token_expires_days": {"900"}}, badField: "token_expires_days"},
		{name: "declare an incident", role: "editor", page: "/app/advisories", action: "/app/incidents",
			bad: url.Values{"incident_title": {strings.Repeat("t", 201)}, "incident_severity": {"high"}, "incident_owner": {"Sam"}}, badField: "incident_title"},
		{name: "new advisory", role: "editor", page: "/app/advisories/new", action: "/app/advisories",
			bad: url.Values{"incident_id": {"new"}, "incident_title": {"Outage"}, "title": {"Token leak"}, "date": {"2026-02-31"},
				"severity": {"high"}, "status": {"reported"}, "description": {"Tokens leaked"}}, badField: "date",
			typed: url.Values{"incident_id": {"new"}, "incident_title": {"Outage"}, "title": {strings.Repeat("t", 201)}, "date": {"2026-02-03"},
				"severity": {"high"}, "status": {"reported"}, "description": {"Tokens leaked"}}},
		{name: "new document", role: "editor", page: "/app/documents/new", action: "/app/documents",
			bad:      url.Values{"title": {"Pen test 2026"}, "slug": {"Not A Slug"}, "kind": {"pentest_summary"}, "access": {"on_request"}, "description": {"Summary"}},
			badField: "slug"},
		{name: "new answer", role: "editor", page: "/app/answers/new", action: "/app/answers",
			bad:      url.Values{"question": {"Do you encrypt data at rest?"}, "answer": {"Yes."}, "access": {"public"}, "owner_email": {"security at example"}},
			badField: "owner_email"},
		{name: "new DPA", role: "editor", page: "/app/privacy/dpas/new", action: "/app/privacy/dpas",
			bad:      url.Values{"direction": {"customer"}, "counterparty": {"Acme"}, "contact_email": {"legal at acme"}, "status": {"requested"}},
			badField: "contact_email"},
		{name: "access review", role: "admin", page: "/app/access-review", action: "/app/access-review",
			bad: url.Values{"note": {strings.Repeat("n", 5001)}}, badField: "note"},
		{name: "change password", role: "viewer", page: "/app/account", action: "/app/account/password",
			bad: url.Values{"current_password": {testPassword}, "new_password": {"short"}, "confirm_password": {"short"}}, badField: "new_password"},
		{name: "change password on its own page", role: "viewer", page: "/app/account/password", action: "/app/account/password",
			bad:      url.Values{"current_password": {testPassword}, "new_password": {"a long new passphrase"}, "confirm_password": {"another passphrase"}},
			badField: "confirm_password"},
		{name: "new standard DPA", role: "editor", page: "/app/privacy/standard-dpa/new", action: "/app/privacy/standard-dpa",
			bad: url.Values{"change_summary": {strings.Repeat("c", 1001)}, "body": {"# DPA"}}, badField: "change_summary"},
		{name: "new policy version", role: "editor", page: "/app/policies/backup/versions/new", action: "/app/policies/backup/versions",
			bad: url.Values{"material": {"minor"}, "change_summary": {strings.Repeat("c", 1001)}, "body": {"# Backup"}}, badField: "change_summary"},
		{name: "NDA", role: "admin", page: "/app/packets/nda", action: "/app/packets/nda",
			bad: url.Values{"body": {strings.Repeat("b", 100001)}}, badField: "body"},
		{name: "public privacy request", page: "/trust/privacy-request", action: "/trust/privacy-request",
			bad:      url.Values{"requester_name": {"Kim Ray"}, "requester_email": {"kim at example"}, "law": {"gdpr"}, "type": {"access"}, "details": {"All"}},
			badField: "requester_email"},
		{name: "security report", page: "/trust/security", action: "/trust/security",
			bad: url.Values{"email": {"finder at example"}, "summary": {"XSS in search"}, "details": {"Steps"}}, badField: "email"},
		{name: "request a DPA", page: "/trust/dpa", action: "/trust/dpa#custom",
			bad: url.Values{"company": {"Customer Ltd"}, "email": {"legal@gmail.com"}}, badField: "email"},
		{name: "organization profile", role: "admin", page: "/app/organization/edit", action: "/app/organization/edit",
			bad: url.Values{"name": {"Acme Ltd"}, "entity_name": {"Acme UK"}, "entity_country": {"Britain"}}, badField: "legal_entities[0].country"},
		{name: "subscribe", page: "/trust/subscribe", action: "/trust/subscribe",
			bad: url.Values{"email": {"ana@gmail.com"}}, badField: "email"},
		{name: "forgot password", page: "/login/forgot", action: "/login/forgot",
			bad: url.Values{"email": {"not an address"}}, badField: "email"},
		{name: "change notice too far ahead", role: "editor", page: subPath, action: "/app/privacy/notices",
			hidden: url.Values{"subprocessor_id": {subID}},
			bad:    url.Values{"change": {"add"}, "effective_on": {tooLate}}, badField: "effective_on"},
		{name: "sign in", page: "/login", action: "/login",
			bad: url.Values{"email": {"ana@example.com"}}, badField: "password", minEmpty: 2},
		{name: "import employees", role: "editor", page: "/app/people/import", action: "/app/people/import",
			bad: url.Values{}, badField: "file"},
		{name: "import acknowledgements", role: "editor", page: "/app/people/import", action: "/app/people/import/acknowledgements",
			bad: url.Values{}, badField: "file"},
		{name: "import training", role: "editor", page: "/app/people/import", action: "/app/people/import/training",
			bad: url.Values{}, badField: "file"},
		{name: "verify a packet", page: "/trust/verify", action: "/trust/verify",
			bad: url.Values{"packet_id": {"PKT-AAAA-BBBB"}, "sha256": {"not a hash"}}, badField: "sha256"},
		{name: "accept a packet's new NDA", page: packetLink, action: packetLink + "/nda", hidden: url.Values{"nda_version": {"2"}},
			bad: url.Values{}, badField: "accept_nda"},
		{name: "acknowledge a policy", page: ackPath, action: ackPath + "#backup", hidden: url.Values{"policy": {"backup"}, "version": {"1.0"}},
			bad: url.Values{}, badField: "agree"},
		{name: "acknowledge all policies", page: ackPath, action: ackPath + "#all", hidden: url.Values{"all": {"yes"}, "policy": {"backup"}, "version": {"1.0"}},
			bad: url.Values{}, badField: "agree"},
		{name: "sign the standard DPA", page: "/trust/dpa", action: "/trust/dpa/sign#sign", hidden: url.Values{"version": {"1"}},
			bad: signForm("1", "dana@gmail.com"), badField: "email", minEmpty: 4},
		{name: "new document version", role: "editor", page: docPath, action: docPath + "/versions",
			bad: url.Values{"version": {"2027"}, "issued_on": {"2026-02-30"}}, badField: "issued_on",
			typed: url.Values{"version": {"2027"}, "issued_on": {"2026-02-03"}}},
		{name: "reset a forgotten password", page: resetPath, action: resetPath,
			bad: url.Values{"new_password": {"short"}, "confirm_password": {"short"}}, badField: "new_password"},
		{name: "set up two-factor sign-in", role: "auditor", page: "/app/account/mfa", action: "/app/account/mfa",
			hidden: url.Values{"sealed": {html.UnescapeString(sealed[1])}},
			bad:    url.Values{"code": {"12"}, "current_password": {testPassword}}, badField: "code"},
	}
}

// TestFormsConvention submits every form of the table empty and with one
// bad value, through the HTTP harness, and checks the form convention.
func TestFormsConvention(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	cases := formFixtures(t, e)
	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			b := e.browser()
			if fc.role != "" {
				b.login(fc.role)
			}
			if r := b.get(fc.page); r.status != http.StatusOK || !strings.Contains(r.body, `action="`+fc.action+`"`) {
				t.Fatalf("page %s: %d, or no form posting to %s", fc.page, r.status, fc.action)
			}
			t.Run("empty", func(t *testing.T) {
				checkConvention(t, b.post(fc.action, merged(fc.hidden, nil)), nil, "", max(fc.minEmpty, 1))
			})
			t.Run("one bad value", func(t *testing.T) {
				checkConvention(t, b.post(fc.action, merged(fc.hidden, fc.bad)), fc.bad, fc.badField, 1)
			})
		})
	}
}

// domCheck is what the browser test reads from a refused form's page.
type domCheck struct {
	Heading string `json:"heading"`
	Invalid []struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Border  string `json:"border"`
		Message string `json:"message"`
	} `json:"invalid"`
	Text string `json:"text"`
	// Kept holds, for each name typed, whether the refused form shows it.
	Kept map[string]bool `json:"kept"`
}

// TestBrowserFormsConvention submits every form of the table in
// Chromium, signed in as its role, empty and with one bad value: the
// navigation answers 422, the summary counts the marked fields, each field
// has a red border and its message, typed values stay and no raw field
// name shows. TestFormsConvention checks the same table through the HTTP
// harness, reading the HTML.
func TestBrowserFormsConvention(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	cases := formFixtures(t, e)
	// One browser per role, signed in once.
	browsers := map[string]context.Context{}
	browserFor := func(t *testing.T, role string) context.Context {
		if ctx, ok := browsers[role]; ok {
			return ctx
		}
		ctx := browserContext(t)
		if role != "" {
			if err := cdp.Do(ctx,
				cdp.Navigate(e.ts.URL+"/login"),
				cdp.WaitVisible(`input[name="email"]`),
				cdp.SendKeys(`input[name="email"]`, e.emails[role]),
				cdp.SendKeys(`input[name="password"]`, testPassword),
			); err != nil {
				t.Fatalf("signing in as %s: %v", role, err)
			}
			if resp, err := cdp.RunResponse(ctx, cdp.Submit(`input[name="password"]`)); err != nil || resp.Status != http.StatusOK {
				t.Fatalf("signing in as %s: %v", role, err)
			}
		}
		browsers[role] = ctx
		return ctx
	}
	for _, fc := range cases {
		if fc.harnessOnly != "" {
			continue
		}
		ctx := browserFor(t, fc.role)
		typed := fc.bad
		if fc.typed != nil {
			typed = fc.typed
		}
		t.Run(fc.name, func(t *testing.T) {
			for _, try := range []struct {
				name   string
				values url.Values
			}{{"empty", nil}, {"one bad value", typed}} {
				t.Run(try.name, func(t *testing.T) {
					if try.values == nil && fc.emptyValid {
						t.Skip("the form cleared keeps valid choices")
					}
					form := fmt.Sprintf(`form[method="post"][action=%q]`, fc.action)
					if err := cdp.Do(ctx, cdp.Navigate(e.ts.URL+fc.page), cdp.WaitReady(form)); err != nil {
						t.Fatalf("%s: %v", fc.page, err)
					}
					values, _ := json.Marshal(try.values)
					// form.submit() skips the browser's own checks (required,
					// type=email), as a script-less old browser would.
					fill := fmt.Sprintf(`(() => {
						const f = document.querySelector(%q), values = %s || {};
						for (const el of f.elements) {
							if (el.type === "hidden" || el.type === "submit" || el.tagName === "BUTTON" || el.tagName === "SELECT") continue;
							if (el.type === "checkbox" || el.type === "radio") { if (values[el.name] === undefined) el.checked = false; continue; }
							if (el.type !== "file") el.value = "";
						}
						for (const [name, vs] of Object.entries(values)) {
							for (const el of f.querySelectorAll('[name="' + name + '"]')) {
								if (el.type === "checkbox" || el.type === "radio") el.checked = vs.includes(el.value);
								else el.value = vs[0];
							}
						}
						HTMLFormElement.prototype.submit.call(f);
					})()`, form, values)
					resp, err := cdp.RunResponse(ctx, cdp.Evaluate[cdp.Void](fill))
					if err != nil {
						t.Fatal(err)
					}
					if resp.Status != http.StatusUnprocessableEntity {
						t.Fatalf("status %d, want 422", resp.Status)
					}
					read := fmt.Sprintf(`(() => {
						const values = %s || {}, kept = {};
						for (const [name, vs] of Object.entries(values)) {
							const els = [...document.querySelectorAll('form [name="' + name + '"]')];
							kept[name] = els.some(el => (el.type === "checkbox" || el.type === "radio") ? (el.checked && vs.includes(el.value)) : el.value === vs[0]);
						}
						return {
							heading: (document.querySelector('.form-summary[role="alert"] h2') || {}).textContent || "",
							invalid: [...document.querySelectorAll('[aria-invalid="true"]')].map(el => ({
								id: el.id, type: el.type || el.tagName, border: getComputedStyle(el).borderTopColor,
								message: (document.getElementById((el.getAttribute("aria-describedby") || "").split(" ")[0]) || {}).textContent || ""})),
							text: document.body.innerText, kept};
					})()`, values)
					got, err := cdp.Run(ctx, cdp.Evaluate[domCheck](read))
					if err != nil {
						t.Fatal(err)
					}
					m := regexp.MustCompile(`^(\d+) fields? needs? attention$`).FindStringSubmatch(strings.TrimSpace(got.Heading))
					if m == nil {
						t.Fatalf("summary heading %q", got.Heading)
					}
					if n, _ := strconv.Atoi(m[1]); n != len(got.Invalid) || n == 0 {
						t.Errorf("summary counts %s fields, %d are marked", m[1], len(got.Invalid))
					}
					for _, f := range got.Invalid {
						if strings.TrimSpace(f.Message) == "" {
							t.Errorf("%s has no message beside it", f.ID)
						}
						if f.Type != "checkbox" && f.Type != "radio" && f.Border != "rgb(179, 38, 30)" {
							t.Errorf("%s has border %s, want the red of errors", f.ID, f.Border)
						}
					}
					if raw := rawFieldName.FindString(got.Text); raw != "" {
						t.Errorf("the page shows the raw field name %q", raw)
					}
					if strings.Contains(strings.ToLower(got.Text), "invalid input") {
						t.Error(`the page says "invalid input"`)
					}
					for name, kept := range got.Kept {
						if !kept && !strings.Contains(name, "password") {
							t.Errorf("typed %s is lost", name)
						}
					}
				})
			}
		})
	}
}
