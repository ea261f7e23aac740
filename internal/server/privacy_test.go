package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/seed"
)

// seedPrivacy loads the demo sub-processors and DPAs, as make run does.
func (e *env) seedPrivacy() {
	e.t.Helper()
	data, err := seed.Files.ReadFile("privacy-demo.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	if ok, err := e.privacy.SeedDemo(context.Background(), audit.System("seed"), data); !ok || err != nil {
		e.t.Fatalf("demo registers: %v %v", ok, err)
	}
}

// deliver sends the outbox to an in-process SMTP server.
func (e *env) deliver(mb notify.SMTP) {
	e.t.Helper()
	s := notify.NewSender(e.st.DB, e.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)), mb)
	for {
		sent, failed, err := s.SendDue(context.Background())
		if err != nil || failed > 0 {
			e.t.Fatalf("delivering: %d failed, %v", failed, err)
		}
		if sent == 0 {
			return
		}
	}
}

// parseMail returns a received message's headers and decoded body.
func parseMail(t *testing.T, raw string) (mail.Header, string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(m.Body)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return m.Header, string(body)
}

var linkIn = regexp.MustCompile(`http://charter\.test(/trust/[a-z/-]+/[A-Za-z0-9_-]{43})`)

func linkOf(t *testing.T, body, prefix string) string {
	t.Helper()
	for _, m := range linkIn.FindAllStringSubmatch(body, -1) {
		if strings.HasPrefix(m[1], prefix) {
			return m[1]
		}
	}
	t.Fatalf("no %s link in %q", prefix, body)
	return ""
}

func TestTrustPageShowsTheSeedFacts(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.seedPrivacy()
	anon := e.browser()
	r := anon.get("/trust")
	if r.status != http.StatusOK {
		t.Fatalf("/trust: %d", r.status)
	}
	for _, want := range []string{"SOC 2 Type 1", "report dated 2023-04-01", "Charles Cook", "VP Operations", "Hiberly Ltd.",
		"Information Commissioner", "EU (AWS, Germany)", "US (AWS, US-West)", "Standard Contractual Clauses",
		"Acceptable Use Policy", "Vulnerability Management Policy", "Amazon Web Services", "Postmark", "security@posthog.com"} {
		if !strings.Contains(r.body, want) && !strings.Contains(r.body, strings.ReplaceAll(want, "'", "&#39;")) {
			t.Errorf("/trust lacks %q", want)
		}
	}
	if n := strings.Count(r.body, "<li>") - 4; n < 20 { // four sub-processors, twenty policies
		t.Errorf("%d policy entries", n)
	}
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "https://fonts.") {
		t.Error("the public page loads scripts or third-party assets")
	}
	etag := r.header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/trust", nil)
	req.Header.Set("If-None-Match", etag)
	if r2 := anon.do(req); etag == "" || r2.status != http.StatusNotModified {
		t.Fatalf("conditional GET: %d (etag %q)", r2.status, etag)
	}
	// An admin's edit shows at once: the cache follows the audit trail.
	ad := e.browser().login("admin")
	form := url.Values{"name": {"PostHog"}, "security_email": {"security@posthog.com"}, "dpo_name": {"Charles Cook"},
		"dpo_title": {"VP Operations"}, "dpo_public": {"yes"}, "hosting_regions": {"EU (AWS, Germany)\nUS (AWS, US-West)"},
		"entity_id": {"0"}, "entity_name": {"Hiberly Ltd."}, "entity_country": {"GB"}, "entity_registration_number": {"12345678"},
		"entity_authority_registration": {"ICO registration ZA123456"}, "cert_id": {"0"}, "cert_framework": {"SOC 2"}, "cert_type": {"Type 2"},
		"cert_report_date": {"2026-10-01"}, "privacy_email": {"privacy@posthog.com"}}
	if r := ad.post("/app/organization/edit", form); r.status != http.StatusSeeOther {
		t.Fatalf("save profile: %d %s", r.status, r.body)
	}
	r = anon.get("/trust")
	if !strings.Contains(r.body, "SOC 2 Type 2") || !strings.Contains(r.body, "ZA123456") || strings.Contains(r.body, "Type 1") || r.header.Get("ETag") == etag {
		t.Fatal("/trust did not follow the profile change")
	}
	bad := url.Values{"name": {""}, "entity_name": {"X"}, "entity_country": {"Britain"}, "privacy_email": {"nope"}}
	if r := ad.post("/app/organization/edit", bad); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "Legal entities row 1: country") || !strings.Contains(r.body, "Privacy email") {
		t.Fatalf("bad profile: %d %s", r.status, r.body)
	}
	if code, _ := e.api("editor", http.MethodPut, "/api/v1/organization", map[string]any{"name": "X"}); code != http.StatusForbidden {
		t.Fatalf("editor changed the profile: %d", code)
	}
}

func TestSubprocessorChangeNoticeEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.seedPrivacy()
		mb, smtp := notifytest.Start(t)
		visitor := e.browser()

		// Subscribe with double opt-in; free mail is refused.
		visitor.get("/trust/subscribe")
		if r := visitor.post("/trust/subscribe", url.Values{"email": {"me@gmail.com"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "work email") {
			t.Fatalf("free mail: %d", r.status)
		}
		if r := visitor.post("/trust/subscribe", url.Values{"email": {"reviewer@customer.example"}}); r.status != http.StatusOK || !strings.Contains(r.body, "Check your email") {
			t.Fatalf("subscribe: %d", r.status)
		}
		e.deliver(smtp)
		_, body := parseMail(t, mb.For("reviewer@customer.example")[0])
		confirm := linkOf(t, body, "/trust/subscribe/confirm/")
		if r := visitor.get(confirm); r.status != http.StatusOK || !strings.Contains(r.body, "Confirm") {
			t.Fatalf("confirm page: %d", r.status)
		}
		if r := visitor.postRaw(confirm, url.Values{}, nil); r.status != http.StatusOK || !strings.Contains(r.body, "Subscription confirmed") {
			t.Fatalf("confirm: %d %s", r.status, r.body)
		}

		// The team proposes Cloudflare and announces it.
		ed := e.browser().login("editor")
		r := ed.post("/app/privacy/subprocessors", url.Values{"name": {"Cloudflare"}, "purpose": {"Content delivery"},
			"data_categories": {"IP addresses"}, "countries": {"US"}, "transfer_mechanism": {"eu_us_dpf"}, "website": {"https://www.cloudflare.com"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		subPath := r.header.Get("Location")
		id := subPath[strings.LastIndex(subPath, "/")+1:]
		if r := ed.get(subPath); r.status != http.StatusOK || !strings.Contains(r.body, "Announce a change") {
			t.Fatalf("sub-processor page: %d", r.status)
		}
		tooSoon := e.clock.Now().AddDate(0, 0, 10).Format(time.DateOnly)
		if r := ed.post("/app/privacy/notices", url.Values{"change": {"add"}, "subprocessor_id": {id}, "effective_on": {tooSoon}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "notice period") {
			t.Fatalf("too soon: %d", r.status)
		}
		eff := e.clock.Now().AddDate(0, 0, 31).Format(time.DateOnly)
		// The first post only says what will happen: 2 customers and the
		// subscriber, the date; nothing is recorded or queued.
		queued := func() (n int64) { st.DB.Table("outbox").Count(&n); return n }
		before := queued()
		announce := url.Values{"change": {"add"}, "subprocessor_id": {id}, "effective_on": {eff}}
		r = ed.post("/app/privacy/notices", announce)
		if r.status != http.StatusOK || !strings.Contains(r.body, "The change applies on "+eff+". 3 emails will be queued: 2 customers with a signed DPA") ||
			!strings.Contains(r.body, "1 other subscriber") || !strings.Contains(r.body, `name="confirm" value="yes"`) || !strings.Contains(r.body, "Announce and send 3 emails") {
			t.Fatalf("announce, first step: %d %s", r.status, r.body)
		}
		var notices int64
		if st.DB.Table("subprocessor_notices").Count(&notices); notices != 0 || queued() != before {
			t.Fatalf("the confirmation step recorded %d notices and queued %d emails", notices, queued()-before)
		}
		announce.Set("confirm", "yes")
		r = ed.post("/app/privacy/notices", announce)
		if r.status != http.StatusSeeOther || queued() != before+3 {
			t.Fatalf("announce: %d, %d emails queued, want 3", r.status, queued()-before)
		}
		noticePath := r.header.Get("Location")
		e.deliver(smtp)

		// Subscribers and every customer with a signed DPA are emailed.
		subMails := mb.For("reviewer@customer.example")
		if len(subMails) != 2 {
			t.Fatalf("%d mails to the subscriber", len(subMails))
		}
		h, body := parseMail(t, subMails[1])
		if !strings.Contains(body, "Cloudflare") || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(h.Get("List-Unsubscribe"), "/trust/unsubscribe/") {
			t.Fatalf("subscriber notice: %v %q", h, body)
		}
		unsubscribe := linkOf(t, body, "/trust/unsubscribe/")
		for _, customer := range []string{"legal@northwind.example", "privacy@globex.example"} {
			if len(mb.For(customer)) != 1 {
				t.Fatalf("%s got %d notices", customer, len(mb.For(customer)))
			}
		}
		for _, notSigned := range []string{"dpo@initech.example", "compliance@umbrella.example"} {
			if len(mb.For(notSigned)) != 0 {
				t.Fatalf("%s has no signed DPA but was notified", notSigned)
			}
		}
		if r := visitor.get("/trust/subprocessors"); !strings.Contains(r.body, "Upcoming changes") || !strings.Contains(r.body, "Cloudflare") || !strings.Contains(r.body, eff) {
			t.Fatal("/trust/subprocessors does not list the upcoming change")
		}

		// A customer objects through the emailed link.
		_, body = parseMail(t, mb.For("privacy@globex.example")[0])
		objection := linkOf(t, body, "/trust/objections/")
		customer := e.browser()
		if r := customer.get(objection); r.status != http.StatusOK || !strings.Contains(r.body, "Globex Corporation") || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("objection page: %d", r.status)
		}
		if r := customer.postRaw(objection, url.Values{"reason": {"Our data must not leave the EU."}}, nil); r.status != http.StatusOK || !strings.Contains(r.body, "recorded") {
			t.Fatalf("object: %d %s", r.status, r.body)
		}
		if r := ed.get(noticePath); !strings.Contains(r.body, "Our data must not leave the EU.") || !strings.Contains(r.body, "privacy@globex.example") {
			t.Fatal("the team does not see the objection")
		}
		if r := ed.get("/app/"); !strings.Contains(r.body, `href="/app/privacy/subprocessors?notices=objected#notices"><span class="num">1</span> <span class="label">objections to pending changes`) ||
			!strings.Contains(r.body, "Objections to sub-processor changes") {
			t.Fatal("the overview does not show the objection, as a count and as waiting")
		}
		if ev := e.lastEvent(); ev.Action != "subprocessor_notice.objection" || ev.Actor != "customer:privacy@globex.example" {
			t.Fatalf("audit: %+v", ev)
		}

		// On the effective date the change applies by itself.
		e.clock.Advance(31 * 24 * time.Hour)
		jobs.NewScheduler(e.st.DB, e.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)), e.privacy.ApplyDueJob()).Tick(context.Background())
		code, doc := e.apiPublic("/trust/subprocessors.json")
		if code != http.StatusOK || !strings.Contains(doc, `"name": "Cloudflare"`) || !strings.Contains(doc, `"active_since": "`+eff+`"`) || !strings.Contains(doc, `"upcoming_changes": []`) {
			t.Fatalf("json: %d %s", code, doc)
		}
		if code, feed := e.apiPublic("/trust/subprocessors.atom"); code != http.StatusOK || !strings.Contains(feed, "In effect: Cloudflare added") || !strings.Contains(feed, "Announced: Cloudflare added") {
			t.Fatalf("feed: %d %s", code, feed)
		}
		if r := customer.postRaw(objection, url.Values{"reason": {"late"}}, nil); r.status != http.StatusGone {
			t.Fatalf("objection after the date: %d", r.status)
		}

		// One-click unsubscribe (RFC 8058): a bare POST from the mail client.
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+unsubscribe, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := visitor.do(req); r.status != http.StatusOK || !strings.Contains(r.body, "Unsubscribed") {
			t.Fatalf("unsubscribe: %d", r.status)
		}
	})
}

// apiPublic fetches a public document.
func (e *env) apiPublic(path string) (int, string) {
	r := e.browser().get(path)
	return r.status, r.body
}

func TestDPARegisterThroughDashboardAndAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		// A customer asks on /trust; the team is told.
		visitor := e.browser()
		visitor.get("/trust/dpa")
		if r := visitor.post("/trust/dpa", url.Values{"company": {"Acme"}, "email": {"cto@yahoo.com"}, "region": {"EU (AWS, Germany)"}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("free mail: %d", r.status)
		}
		if r := visitor.post("/trust/dpa", url.Values{"company": {"Acme"}, "email": {"cto@acme.example"}, "region": {"EU (AWS, Germany)"}}); r.status != http.StatusOK || !strings.Contains(r.body, "Thank you") {
			t.Fatalf("request: %d %s", r.status, r.body)
		}
		var team []notify.Message
		st.DB.Where("kind = ?", "dpa_request").Find(&team)
		if len(team) != 4 { // admin, editor, editor2 and the privacy contact
			t.Fatalf("%d team notifications", len(team))
		}
		code, list := e.api("viewer", http.MethodGet, "/api/v1/dpas?status=requested&q=acme", nil)
		items, _ := list["items"].([]any)
		if code != http.StatusOK || len(items) != 1 {
			t.Fatalf("list: %d %v", code, list)
		}
		id := items[0].(map[string]any)["id"].(float64)
		path := fmt.Sprintf("/api/v1/dpas/%d", int64(id))

		if code, body := e.api("editor", http.MethodPost, path+"/status", map[string]any{"status": "signed", "date": "2099-01-01"}); code != http.StatusUnprocessableEntity || body["error"].(map[string]any)["fields"].(map[string]any)["date"] == nil {
			t.Fatalf("future signature: %d %v", code, body)
		}
		if code, body := e.api("editor", http.MethodPost, path+"/status", map[string]any{"status": "signed"}); code != http.StatusOK || body["status"] != "signed" || len(body["history"].([]any)) != 2 {
			t.Fatalf("sign: %d %v", code, body)
		}
		if code, _ := e.api("viewer", http.MethodPost, path+"/status", map[string]any{"status": "terminated"}); code != http.StatusForbidden {
			t.Fatalf("viewer changed a DPA: %d", code)
		}

		// Upload: not a PDF, too large, then a PDF; refused ones leave nothing.
		ed := e.browser().login("editor")
		page := strings.Replace(path, "/api/v1/", "/app/privacy/", 1)
		upload := func(name string, content []byte) response {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("csrf", ed.csrf())
			fw, _ := w.CreateFormFile("file", name)
			fw.Write(content)
			w.Close()
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+page+"/file", &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			return ed.do(req)
		}
		before, filesBefore := countRows(st, "audit_events"), countUploads(t, e) // the seed's logo is stored already
		if r := upload("dpa.pdf", []byte("PK\x03\x04 a zip file")); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be one of: PDF") {
			t.Fatalf("zip: %d %s", r.status, r.body)
		}
		if r := upload("dpa.pdf", append([]byte("%PDF-1.7\n"), make([]byte, 20<<20)...)); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "larger than 20 MB") {
			t.Fatalf("large: %d", r.status)
		}
		if n := countUploads(t, e); n != filesBefore || countRows(st, "audit_events") != before {
			t.Fatalf("refused uploads left %d files", n-filesBefore)
		}
		if r := upload("signed.pdf", []byte("%PDF-1.7\nsigned")); r.status != http.StatusSeeOther {
			t.Fatalf("pdf: %d %s", r.status, r.body)
		}
		if r := e.browser().login("viewer").get(page + "/file"); r.status != http.StatusForbidden {
			t.Fatalf("viewer downloaded the contract: %d", r.status)
		}
		if r := e.browser().login("auditor").get(page + "/file"); r.status != http.StatusOK || r.body != "%PDF-1.7\nsigned" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("auditor download: %d", r.status)
		}
		if r := ed.get("/app/privacy/dpas?q=acme"); r.status != http.StatusOK || !strings.Contains(r.body, "Acme") {
			t.Fatalf("dashboard list: %d", r.status)
		}
		if r := ed.get(page); r.status != http.StatusOK || !strings.Contains(r.body, "signed.pdf") || !strings.Contains(r.body, "requested through /trust") {
			t.Fatalf("dashboard DPA page: %d", r.status)
		}
		if r := ed.get("/app/privacy/subprocessors"); r.status != http.StatusOK {
			t.Fatalf("sub-processors page: %d", r.status)
		}
	})
}

func countRows(st *store.Store, table string) int64 {
	var n int64
	st.DB.Table(table).Count(&n)
	return n
}

func countUploads(t *testing.T, e *env) int64 {
	t.Helper()
	return countRows(e.st, "files")
}

func TestPublicFormsNeedCSRFAndAreRateLimited(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(c *config.Config) { c.PublicFormsPerHour = 3 })
	visitor := e.browser()
	visitor.get("/trust/subscribe")
	if r := visitor.postRaw("/trust/subscribe", url.Values{"email": {"a@acme.example"}}, nil); r.status != http.StatusForbidden {
		t.Fatalf("without the CSRF token: %d", r.status)
	}
	cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	if r := visitor.postRaw("/trust/subscribe", url.Values{"email": {"a@acme.example"}, "csrf": {visitor.csrf()}}, cross); r.status != http.StatusForbidden {
		t.Fatalf("cross-site: %d", r.status)
	}
	for i := range 3 {
		if r := visitor.post("/trust/dpa", url.Values{"company": {"Acme"}, "email": {"a@acme.example"}, "region": {"EU (AWS, Germany)"}}); r.status != http.StatusOK {
			t.Fatalf("submission %d: %d", i, r.status)
		}
	}
	r := visitor.post("/trust/subscribe", url.Values{"email": {"b@acme.example"}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("fourth submission: %d", r.status)
	}
	// Forged X-Forwarded-For does not reset the limit: no proxy is trusted.
	forged := http.Header{"X-Forwarded-For": {"198.51.100.1"}}
	if r := visitor.postRaw("/trust/subscribe", url.Values{"email": {"c@acme.example"}, "csrf": {visitor.csrf()}}, forged); r.status != http.StatusTooManyRequests {
		t.Fatalf("with a forged X-Forwarded-For: %d", r.status)
	}
	var n int64
	e.st.DB.Table("dpas").Count(&n)
	if n != 1 {
		t.Fatalf("%d DPA entries from one domain", n)
	}
}

func TestSubprocessorAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.seedPrivacy()
		code, body := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Cloudflare", "purpose": "CDN", "countries": "US, DE", "transfer_mechanism": "eu_us_dpf"})
		if code != http.StatusCreated || body["status"] != "proposed" || len(body["countries"].([]any)) != 2 {
			t.Fatalf("create: %d %v", code, body)
		}
		id := body["id"]
		if code, body := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "cloudflare", "purpose": "x", "countries": "Germany"}); code != http.StatusUnprocessableEntity ||
			body["error"].(map[string]any)["fields"].(map[string]any)["countries"] == nil {
			t.Fatalf("bad country: %d %v", code, body)
		}
		if code, _ := e.api("viewer", http.MethodPost, "/api/v1/subprocessor-notices", map[string]any{"change": "add", "subprocessor_id": id}); code != http.StatusForbidden {
			t.Fatalf("viewer announced: %d", code)
		}
		eff := e.clock.Now().AddDate(0, 0, 45).Format(time.DateOnly)
		code, body = e.api("editor", http.MethodPost, "/api/v1/subprocessor-notices", map[string]any{"change": "add", "subprocessor_id": id, "effective_on": eff})
		if code != http.StatusCreated || body["state"] != "scheduled" || body["recipients"].(float64) != 2 || len(body["sent_to"].([]any)) != 2 {
			t.Fatalf("announce: %d %v", code, body)
		}
		path := fmt.Sprintf("/api/v1/subprocessor-notices/%d", int64(body["id"].(float64)))
		if code, list := e.api("auditor", http.MethodGet, "/api/v1/subprocessor-notices?state=scheduled", nil); code != http.StatusOK || len(list["items"].([]any)) != 1 {
			t.Fatalf("list: %d %v", code, list)
		}
		if code, body := e.api("editor", http.MethodPost, path+"/withdraw", nil); code != http.StatusOK || body["state"] != "withdrawn" {
			t.Fatalf("withdraw: %d %v", code, body)
		}
		if code, _ := e.api("editor", http.MethodPost, path+"/withdraw", nil); code != http.StatusConflict {
			t.Fatalf("withdraw twice: %d", code)
		}
		if r := e.browser().get("/trust/subprocessors"); strings.Contains(r.body, "Cloudflare") {
			t.Fatal("a withdrawn change is still listed publicly")
		}
		if code, list := e.api("viewer", http.MethodGet, "/api/v1/subprocessors?status=active", nil); code != http.StatusOK || len(list["items"].([]any)) != 4 {
			t.Fatalf("active list: %d %v", code, list)
		}
	})
}
