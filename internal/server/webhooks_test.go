package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/internal/webhook"
	"github.com/charter-registry/charter/internal/webhook/webhooktest"
)

var webhookSecret = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

func allowLoopbackWebhooks(c *config.Config) { c.WebhooksAllowLoopback = true }

// sendWebhooks runs the webhook sender once, as serve's loop does.
func (e *env) sendWebhooks(t *testing.T) (delivered, failed int) {
	t.Helper()
	delivered, failed, err := e.webhooks.Sender(slog.New(slog.NewTextHandler(io.Discard, nil)), 30*time.Second).SendDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return delivered, failed
}

// TestRegisterEventsReachWebhooksSigned: an endpoint added on the
// dashboard for every event, and a Slack one for advisories through the
// API, receive each event the registers publish once, signed as Standard
// Webhooks says (checked by webhooktest.Verify, written from the spec).
func TestRegisterEventsReachWebhooksSigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, allowLoopbackWebhooks)
		e.seedPrivacy()
		ctx := context.Background()
		rcv := webhooktest.Start(t)
		call := func(user, method, path string, body any, want int) map[string]any {
			t.Helper()
			code, out := e.api(user, method, path, body)
			if code != want {
				t.Fatalf("%s %s: %d %v", method, path, code, out)
			}
			return out
		}

		admin := e.browser().login("admin")
		if r := admin.get("/app/webhooks"); r.status != http.StatusOK || !strings.Contains(r.body, "Add an endpoint") {
			t.Fatalf("webhooks page: %d", r.status)
		}
		form := url.Values{"url": {rcv.URL + "/all"}, "description": {"#security"}, "format": {"standard"}}
		for _, ev := range webhook.EventTypes() {
			form.Add("events", ev.Type)
		}
		r := admin.post("/app/webhooks", form)
		// html/template writes a + of the base64 as &#43;.
		allSecret := webhookSecret.FindString(html.UnescapeString(r.body))
		if r.status != http.StatusCreated || allSecret == "" {
			t.Fatalf("adding an endpoint: %d %s", r.status, r.body)
		}
		if ev := e.lastEvent(); ev.Action != "webhook.created" || strings.Contains(ev.AfterJSON, allSecret[6:]) {
			t.Fatalf("audit: %s %s", ev.Action, ev.AfterJSON)
		}
		chat := call("admin", http.MethodPost, "/api/v1/webhooks", map[string]any{"url": rcv.URL + "/chat", "events": []string{"advisory.published"}, "format": "slack"}, http.StatusCreated)
		chatSecret, _ := chat["secret"].(string)
		if !strings.HasPrefix(chatSecret, "whsec_") {
			t.Fatalf("API create: %v", chat)
		}
		if listed := call("admin", http.MethodGet, "/api/v1/webhooks", nil, http.StatusOK); strings.Contains(fmt.Sprint(listed), "whsec_") {
			t.Fatal("the list shows a secret")
		}

		// Each register's event, through its own interface.
		adv := call("editor", http.MethodPost, "/api/v1/advisories", fullAdvisory(), http.StatusCreated)
		call("editor", http.MethodPost, fmt.Sprintf("/api/v1/advisories/%v/publish", adv["id"]), nil, http.StatusOK)
		visitor := e.browser()
		visitor.get("/trust/request")
		if r := visitor.post("/trust/request", url.Values{"name": {"Sam"}, "email": {"sam@prospect.example"}, "company": {"Prospect"}, "nda_version": {"1"}, "accept_nda": {"true"}}); r.status != http.StatusOK {
			t.Fatalf("packet request: %d", r.status)
		}
		if r := visitor.postRaw(e.outboxLink(t, "sam@prospect.example", "/trust/request/confirm/"), url.Values{}, nil); r.status != http.StatusOK {
			t.Fatalf("confirming the packet request: %d", r.status)
		}
		var requestID int64
		st.DB.Table("packet_requests").Where("email = ?", "sam@prospect.example").Pluck("id", &requestID)
		call("editor", http.MethodPost, fmt.Sprintf("/api/v1/packet-requests/%d/approve", requestID), map[string]any{"expiry_days": 30}, http.StatusOK)
		dpa := call("editor", http.MethodPost, "/api/v1/dpas", map[string]any{"direction": "customer", "counterparty": "Acme", "contact_email": "legal@acme.example", "domain": "acme.example", "status": "requested"}, http.StatusCreated)
		call("editor", http.MethodPost, fmt.Sprintf("/api/v1/dpas/%v/status", dpa["id"]), map[string]any{"status": "signed"}, http.StatusOK)
		sub := call("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Cloudflare", "purpose": "CDN", "countries": "US, DE", "transfer_mechanism": "eu_us_dpf"}, http.StatusCreated)
		call("editor", http.MethodPost, "/api/v1/subprocessor-notices", map[string]any{"change": "add", "subprocessor_id": sub["id"], "effective_on": e.clock.Now().AddDate(0, 0, 45).Format(time.DateOnly)}, http.StatusCreated)
		var sent []notify.Message
		st.DB.Order("id").Find(&sent)
		objected := false
		for _, m := range sent {
			if link := objectionLink.FindStringSubmatch(m.Body); link != nil && !objected {
				if _, err := e.privacy.Object(ctx, audit.Actor{Label: "customer"}, link[1], "Our data stays in the EU."); err != nil {
					t.Fatal(err)
				}
				objected = true
			}
		}
		if !objected {
			t.Fatal("no objection link in the notices")
		}
		call("editor", http.MethodPost, "/api/v1/privacy-requests", map[string]any{"channel": "customer", "law": "uk_gdpr", "type": "portability", "requester_email": "x@y.example", "received_on": e.clock.Now().Format(time.DateOnly)}, http.StatusCreated)
		exc := call("editor", http.MethodPost, "/api/v1/exceptions", map[string]any{"policy": "password", "scope": "bill-01", "reason": "Vendor appliance",
			"compensating_controls": "Isolated network", "expires_on": e.clock.Now().AddDate(0, 0, 10).Format(time.DateOnly)}, http.StatusCreated)
		call("editor2", http.MethodPost, fmt.Sprintf("/api/v1/exceptions/%v/approve", exc["id"]), nil, http.StatusOK)
		// Reminded ten days ahead, then lapsed: one event, at the reminder.
		for range 2 {
			if _, _, err := e.exceptions.RunExpiry(ctx); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(10 * 24 * time.Hour)
		}

		e.clock.Advance(time.Second)
		delivered, failed := e.sendWebhooks(t)
		if again, _ := e.sendWebhooks(t); again != 0 || failed != 0 {
			t.Fatalf("failed %d; %d delivered again", failed, again)
		}
		seen := map[string]int{}
		types := map[string]int{}
		for _, r := range rcv.Requests() {
			secret := allSecret
			if r.Path == "/chat" {
				secret = chatSecret
			}
			if err := webhooktest.Verify(secret, r.Header, r.Body, e.clock.Now()); err != nil {
				t.Fatalf("%s: %v", r.Body, err)
			}
			seen[r.Header.Get("webhook-id")]++
			if r.Path == "/chat" {
				if !strings.Contains(string(r.Body), `"blocks"`) || !strings.Contains(string(r.Body), "Stored XSS in dashboard names") {
					t.Fatalf("Slack body: %s", r.Body)
				}
				continue
			}
			var body struct {
				Type      string         `json:"type"`
				Timestamp string         `json:"timestamp"`
				Data      map[string]any `json:"data"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil || body.Timestamp == "" || len(body.Data) == 0 {
				t.Fatalf("body %s: %v", r.Body, err)
			}
			if body.Type == webhook.PrivacyRequestReceived && strings.Contains(string(r.Body), "x@y.example") {
				t.Fatalf("a privacy request's event names the requester: %s", r.Body)
			}
			types[body.Type]++
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("%s arrived %d times", id, n)
			}
		}
		for _, ev := range webhook.EventTypes() {
			if types[ev.Type] != 1 {
				t.Errorf("%s arrived %d times", ev.Type, types[ev.Type])
			}
		}
		// Each event to the endpoint of all events, and the advisory to the chat's.
		if delivered != len(seen) || len(seen) != len(webhook.EventTypes())+1 {
			t.Fatalf("delivered %d, %d webhook-ids received", delivered, len(seen))
		}
	})
}

// TestWebhookFailuresShowInTheDeliveryLog: a failing endpoint's attempts,
// retried with growing pauses, show on its page and through the API, and
// a manual retry delivers it.
func TestWebhookFailuresShowInTheDeliveryLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, allowLoopbackWebhooks)
		rcv := webhooktest.Start(t)
		rcv.Answer(http.StatusInternalServerError)
		hook := e.dpaSignedEndpoint(t, rcv.URL)
		path := fmt.Sprintf("/webhooks/%v", hook["id"])
		if code, d := e.api("admin", http.MethodPost, "/api/v1"+path+"/test", nil); code != http.StatusAccepted || d["event_type"] != "webhook.test" {
			t.Fatalf("test event: %d %v", code, d)
		}
		deliveries := func() map[string]any {
			t.Helper()
			code, out := e.api("admin", http.MethodGet, "/api/v1"+path+"/deliveries", nil)
			items, _ := out["items"].([]any)
			if code != http.StatusOK || len(items) != 1 {
				t.Fatalf("deliveries: %d %v", code, out)
			}
			return items[0].(map[string]any)
		}
		var waits []time.Duration
		for attempt := 1; attempt <= 3; attempt++ {
			if _, failed := e.sendWebhooks(t); failed != 1 {
				t.Fatalf("attempt %d did not fail", attempt)
			}
			d := deliveries()
			next, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(d["next_attempt_at"]))
			if d["state"] != "pending" || d["attempts"] != float64(attempt) || d["last_status"] != float64(500) ||
				!strings.Contains(fmt.Sprint(d["last_error"]), "500") || d["last_response"] != "receiver down for maintenance" {
				t.Fatalf("after attempt %d: %v", attempt, d)
			}
			// PostgreSQL keeps microseconds; the test clock has nanoseconds.
			waits = append(waits, next.Sub(e.clock.Now()).Round(time.Millisecond))
			e.clock.Advance(next.Sub(e.clock.Now()))
		}
		if waits[0] != time.Minute || waits[1] != 2*time.Minute || waits[2] != 4*time.Minute {
			t.Fatalf("backoff: %v", waits)
		}
		admin := e.browser().login("admin")
		page := admin.get("/app" + path)
		if page.status != http.StatusOK || !strings.Contains(page.body, "HTTP 500") || !strings.Contains(page.body, "the endpoint answered 500") ||
			!strings.Contains(page.body, "receiver down for maintenance") {
			t.Fatalf("delivery log page: %d", page.status)
		}
		// Disabling cancels the delivery; once enabled again, a retry from
		// the page delivers it, with the same webhook-id.
		if r := admin.post("/app"+path+"/disable", url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("disable: %d", r.status)
		}
		if r := admin.post("/app"+path+"/enable", url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("enable: %d", r.status)
		}
		d := deliveries()
		if d["state"] != "cancelled" {
			t.Fatalf("after disabling: %v", d)
		}
		page = admin.get("/app" + path)
		retry := fmt.Sprintf("/app%s/deliveries/%v/retry", path, d["id"])
		if !strings.Contains(page.body, retry) {
			t.Fatal("no retry button on the page")
		}
		rcv.Answer(http.StatusOK)
		if r := admin.post(retry, url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("retry: %d", r.status)
		}
		if ev := e.lastEvent(); ev.Action != "webhook.delivery_retried" {
			t.Fatalf("audit: %s", ev.Action)
		}
		if delivered, _ := e.sendWebhooks(t); delivered != 1 {
			t.Fatal("the retry was not delivered")
		}
		if d := deliveries(); d["state"] != "delivered" || d["last_status"] != float64(200) || d["delivered_at"] == nil {
			t.Fatalf("after the retry: %v", d)
		}
		got := rcv.Requests()
		if len(got) != 4 || got[3].Header.Get("webhook-id") != got[0].Header.Get("webhook-id") {
			t.Fatalf("%d requests; webhook-ids differ", len(got))
		}
		// A new secret, shown once; the old one signs beside it for a day.
		if r := admin.post("/app"+path+"/rotate-secret", url.Values{}); r.status != http.StatusOK ||
			webhookSecret.FindString(html.UnescapeString(r.body)) == "" || !strings.Contains(r.body, "previous secret signs too") {
			t.Fatalf("rotate: %d", r.status)
		}
		if ev := e.lastEvent(); ev.Action != "webhook.secret_rotated" || strings.Contains(ev.AfterJSON+ev.BeforeJSON, "whsec_") {
			t.Fatalf("audit: %s %s", ev.Action, ev.AfterJSON)
		}
		// Deleted: the log stays, and the page offers no action.
		if code, out := e.api("admin", http.MethodDelete, "/api/v1"+path, nil); code != http.StatusOK || out["deleted_at"] == nil {
			t.Fatalf("delete: %d %v", code, out)
		}
		if page := admin.get("/app" + path); page.status != http.StatusOK || !strings.Contains(page.body, "Deleted") || strings.Contains(page.body, "/test\"") {
			t.Fatalf("deleted endpoint's page: %d", page.status)
		}
		deliveries()
	})
}

// TestWebhookEndpointsAreForAdminsAndPublicAddresses: other roles cannot
// reach endpoints, and an address inside the network is refused with the
// field named, on the form and through the API.
func TestWebhookEndpointsAreForAdminsAndPublicAddresses(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	for _, role := range []string{"editor", "auditor", "viewer"} {
		if code, _ := e.api(role, http.MethodGet, "/api/v1/webhooks", nil); code != http.StatusForbidden {
			t.Errorf("%s: API %d", role, code)
		}
		if r := e.browser().login(role).get("/app/webhooks"); r.status != http.StatusForbidden {
			t.Errorf("%s: page %d", role, r.status)
		}
	}
	code, out := e.api("admin", http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://169.254.169.254/latest/meta-data", "events": []string{"dpa.signed"}, "format": "standard"})
	fields, _ := out["error"].(map[string]any)["fields"].(map[string]any)
	if code != http.StatusUnprocessableEntity || fields["url"] == nil {
		t.Fatalf("metadata address: %d %v", code, out)
	}
	// Loopback is refused too unless the setting allows it.
	admin := e.browser().login("admin")
	r := admin.post("/app/webhooks", url.Values{"url": {"http://127.0.0.1:8080/hook"}, "events": {"dpa.signed"}, "format": {"standard"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "field-error") || !strings.Contains(r.body, "http://127.0.0.1:8080/hook") {
		t.Fatalf("loopback on the form: %d", r.status)
	}
	var n int64
	e.st.DB.Table("webhook_endpoints").Count(&n)
	if n != 0 {
		t.Fatalf("%d endpoints stored", n)
	}
}

// TestLongListsArePaged: the delivery log and the promise snapshots are
// read a page at a time, newest first, with the API's limit and cursor;
// a bad limit names the field.
func TestLongListsArePaged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, allowLoopbackWebhooks)
		rcv := webhooktest.Start(t)
		hook := e.dpaSignedEndpoint(t, rcv.URL)
		deliveries := fmt.Sprintf("/api/v1/webhooks/%v/deliveries", hook["id"])
		for range 3 {
			if code, d := e.api("admin", http.MethodPost, fmt.Sprintf("/api/v1/webhooks/%v/test", hook["id"]), nil); code != http.StatusAccepted {
				t.Fatalf("test event: %d %v", code, d)
			}
		}
		// Three changes to /trust's sub-processors: three snapshots at least.
		for _, name := range []string{"Fastly", "Sentry", "Stripe"} {
			if code, out := e.api("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": name, "purpose": "Service",
				"countries": "US", "transfer_mechanism": "eu_us_dpf"}); code != http.StatusCreated {
				t.Fatalf("sub-processor: %d %v", code, out)
			}
		}
		for _, list := range []struct{ user, path string }{{"admin", deliveries}, {"viewer", "/api/v1/snapshots"}} {
			t.Run(list.path, func(t *testing.T) {
				var ids []float64
				cursor, pages := "", 0
				for {
					code, out := e.api(list.user, http.MethodGet, list.path+"?limit=2&cursor="+cursor, nil)
					items, _ := out["items"].([]any)
					if code != http.StatusOK || len(items) == 0 || len(items) > 2 {
						t.Fatalf("page %d: %d %v", pages, code, out)
					}
					for _, it := range items {
						ids = append(ids, it.(map[string]any)["id"].(float64))
					}
					pages++
					if cursor = fmt.Sprint(out["next_cursor"]); cursor == "" {
						break
					}
				}
				_, all := e.api(list.user, http.MethodGet, list.path, nil)
				if whole, _ := all["items"].([]any); len(whole) != len(ids) || len(ids) < 3 || pages != (len(ids)+1)/2 {
					t.Fatalf("%d items over %d pages, %d in one list", len(ids), pages, len(whole))
				}
				for i := 1; i < len(ids); i++ {
					if ids[i] >= ids[i-1] {
						t.Fatalf("not newest first, or an item twice: %v", ids)
					}
				}
				if code, out := e.api(list.user, http.MethodGet, list.path+"?limit=0", nil); code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(out), "limit") {
					t.Fatalf("limit=0: %d %v", code, out)
				}
			})
		}
	})
}

// TestDeliveryLogPageIsPaged: an endpoint's page lists its deliveries 200
// at a time, newest first, with Newer and Older links.
func TestDeliveryLogPageIsPaged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, allowLoopbackWebhooks)
		rcv := webhooktest.Start(t)
		hook := e.dpaSignedEndpoint(t, rcv.URL)
		const sent = 203
		for range sent {
			if code, d := e.api("admin", http.MethodPost, fmt.Sprintf("/api/v1/webhooks/%v/test", hook["id"]), nil); code != http.StatusAccepted {
				t.Fatalf("test event: %d %v", code, d)
			}
		}
		page := fmt.Sprintf("/app/webhooks/%v", hook["id"])
		br := e.browser().login("admin")
		rows := func(body string) int { return strings.Count(body, "<summary>show</summary>") }
		first := br.get(page)
		if first.status != http.StatusOK || rows(first.body) != 200 || !strings.Contains(first.body, `href="`+page+`?page=2"`) || strings.Contains(first.body, "Newer") {
			t.Fatalf("page 1: %d, %d rows", first.status, rows(first.body))
		}
		second := br.get(page + "?page=2")
		if second.status != http.StatusOK || rows(second.body) != sent-200 || !strings.Contains(second.body, `href="`+page+`?page=1"`) || strings.Contains(second.body, "Older") {
			t.Fatalf("page 2: %d, %d rows", second.status, rows(second.body))
		}
		for _, bad := range []string{"0", "x", "3"} {
			if r := br.get(page + "?page=" + bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "page") {
				t.Errorf("page=%s: %d", bad, r.status)
			}
		}
	})
}

// dpaSignedEndpoint registers, through the API as an admin, an endpoint
// at url for dpa.signed in the standard format, and returns the answer.
func (e *env) dpaSignedEndpoint(t *testing.T, url string) map[string]any {
	t.Helper()
	code, hook := e.api("admin", http.MethodPost, "/api/v1/webhooks", map[string]any{"url": url, "events": []string{"dpa.signed"}, "format": "standard"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, hook)
	}
	return hook
}
