package server_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// printFields prints the field sets the API gives, to paste into
// wantFields after a deliberate change to the wire format.
var printFields = flag.Bool("print-fields", false, "print the API's field sets instead of checking them")

// fieldPaths lists every key of a decoded JSON value, recursively: "a.b"
// for an object's key, "a[].b" for a key of an array's elements.
func fieldPaths(prefix string, v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			into[p] = true
			fieldPaths(p, child, into)
		}
	case []any:
		for _, child := range v {
			fieldPaths(prefix+"[]", child, into)
		}
	}
}

var objectionLink = regexp.MustCompile(`/trust/objections/([A-Za-z0-9_-]{43})`)

// TestAPIResponseFields pins the fields of every API resource, so that a
// change to a domain model cannot change the wire format or leak a column
// unnoticed: each endpoint is called on a seeded register, and the keys
// of its JSON, recursively, must be exactly the expected ones.
func TestAPIResponseFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		e.seedPrivacy()
		ctx := context.Background()
		call := func(user, method, path string, body any, wantStatus int) map[string]any {
			t.Helper()
			code, out := e.api(user, method, path, body)
			if code != wantStatus {
				t.Fatalf("%s %s: %d %v", method, path, code, out)
			}
			return out
		}
		id := func(m map[string]any, key string) string {
			t.Helper()
			switch v := m[key].(type) {
			case float64:
				return fmt.Sprint(int64(v))
			case string:
				return v
			}
			t.Fatalf("no %s in %v", key, m)
			return ""
		}

		// A DPA with a history of two steps and a file.
		dpa := call("editor", http.MethodPost, "/api/v1/dpas", map[string]any{"direction": "customer", "counterparty": "Acme",
			"contact_email": "legal@acme.example", "domain": "acme.example", "status": "requested"}, http.StatusCreated)
		dpaPath := "/api/v1/dpas/" + id(dpa, "id")
		call("editor", http.MethodPost, dpaPath+"/status", map[string]any{"status": "signed", "note": "countersigned"}, http.StatusOK)

		// A sub-processor, a notice of its addition, an objection to it, and
		// a notice that replaces one sub-processor with another.
		sub := call("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Cloudflare", "purpose": "CDN",
			"data_categories": "IP addresses", "countries": "US, DE", "transfer_mechanism": "eu_us_dpf", "website": "https://cloudflare.example"}, http.StatusCreated)
		eff := e.clock.Now().AddDate(0, 0, 45).Format("2006-01-02")
		notice := call("editor", http.MethodPost, "/api/v1/subprocessor-notices", map[string]any{"change": "add",
			"subprocessor_id": sub["id"], "effective_on": eff, "summary": "A CDN in front of the app"}, http.StatusCreated)
		var sent []notify.Message
		st.DB.Order("id").Find(&sent)
		objected := false
		for _, m := range sent {
			if link := objectionLink.FindStringSubmatch(m.Body); link != nil {
				if _, err := e.privacy.Object(ctx, audit.Actor{Label: "customer", IP: "203.0.113.9"}, link[1], "Our data stays in the EU."); err != nil {
					t.Fatal(err)
				}
				objected = true
				break
			}
		}
		if !objected {
			t.Fatal("no objection link in the notices sent")
		}
		active := call("viewer", http.MethodGet, "/api/v1/subprocessors?status=active", nil, http.StatusOK)["items"].([]any)
		successor := call("editor", http.MethodPost, "/api/v1/subprocessors", map[string]any{"name": "Fastly", "purpose": "CDN",
			"countries": "US", "transfer_mechanism": "eu_us_dpf"}, http.StatusCreated)
		call("editor", http.MethodPost, "/api/v1/subprocessor-notices", map[string]any{"change": "replace", "subprocessor_id": successor["id"],
			"replaces_id": active[0].(map[string]any)["id"], "effective_on": eff}, http.StatusCreated)

		// A packet issued, and a request still waiting for its decision.
		link := packettest.Issue(t, e.packets, st.DB, "dana@customer.example")
		visitor := e.browser()
		visitor.get("/trust/request")
		if r := visitor.post("/trust/request", url.Values{"name": {"Sam"}, "email": {"sam@prospect.example"}, "company": {"Prospect"},
			"nda_version": {"1"}, "accept_nda": {"true"}}); r.status != http.StatusOK {
			t.Fatalf("packet request: %d", r.status)
		}
		requests := call("viewer", http.MethodGet, "/api/v1/packet-requests", nil, http.StatusOK)["items"].([]any)
		var issuedRequest, otherRequest string
		for _, r := range requests {
			r := r.(map[string]any)
			if r["email"] == "dana@customer.example" {
				issuedRequest = id(r, "id")
			} else {
				otherRequest = id(r, "id")
			}
		}
		packets := call("viewer", http.MethodGet, "/api/v1/packets", nil, http.StatusOK)["items"].([]any)
		packetPath := "/api/v1/packets/" + id(packets[0].(map[string]any), "packet_id")
		if r := visitor.get(link + "/manifest.json"); r.status != http.StatusOK { // logged in the packet's accesses
			t.Fatalf("manifest download: %d", r.status)
		}

		// An advisory with its incident, a vulnerability report, a privacy request.
		advisory := call("editor", http.MethodPost, "/api/v1/advisories", fullAdvisory(), http.StatusCreated)
		researcher := e.browser()
		researcher.get("/trust/security")
		if r := researcher.post("/trust/security", url.Values{"email": {"finder@researcher.example"}, "summary": {"IDOR on /api/projects"},
			"details": {"Any user can read any project."}, "product": {"Product analytics"}}); r.status != http.StatusOK {
			t.Fatalf("vulnerability report: %d", r.status)
		}
		reports := call("editor", http.MethodGet, "/api/v1/vulnerability-reports", nil, http.StatusOK)["items"].([]any)
		reportPath := "/api/v1/vulnerability-reports/" + id(reports[0].(map[string]any), "reference")
		dsarReq := call("editor", http.MethodPost, "/api/v1/privacy-requests", map[string]any{"channel": "customer", "law": "uk_gdpr",
			"type": "portability", "requester_email": "x@y.example", "received_on": e.clock.Now().Format("2006-01-02")}, http.StatusCreated)
		dsarPath := "/api/v1/privacy-requests/" + id(dsarReq, "reference")
		answer := approvedAnswer(t, e, map[string]any{"question": "Do you encrypt data at rest?", "answer": "Yes, AES-256.", "access": "public",
			"owner_email": "security@example.com", "evidence": []map[string]any{{"policy": "encryption", "section": "3"}}})
		answerPath := "/api/v1/answers/" + id(answer, "id")

		// A policy exception approved by another editor, and its renewal.
		expiry := e.clock.Now().AddDate(0, 3, 0).Format("2006-01-02")
		exc := call("editor", http.MethodPost, "/api/v1/exceptions", map[string]any{"policy": "password", "section": "4.2", "scope": "bill-01",
			"reason": "Vendor appliance", "compensating_controls": "Isolated network", "expires_on": expiry}, http.StatusCreated)
		excPath := "/api/v1/exceptions/" + id(exc, "id")

		// A webhook endpoint with a test event queued.
		hook := call("admin", http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.com/charter",
			"events": []string{"advisory.published"}, "format": "standard"}, http.StatusCreated)
		hookPath := "/api/v1/webhooks/" + id(hook, "id")
		call("admin", http.MethodPost, hookPath+"/test", nil, http.StatusAccepted)

		type endpoint struct {
			name, user, method, path string
			body                     any
			status                   int
		}
		endpoints := []endpoint{
			{"dpa list", "viewer", http.MethodGet, "/api/v1/dpas", nil, http.StatusOK},
			{"dpa", "viewer", http.MethodGet, dpaPath, nil, http.StatusOK},
			{"dpa update", "editor", http.MethodPut, dpaPath, map[string]any{"direction": "customer", "counterparty": "Acme Inc",
				"contact_email": "legal@acme.example", "domain": "acme.example", "signed_on": e.clock.Now().Format("2006-01-02")}, http.StatusOK},
			{"standard dpa list", "viewer", http.MethodGet, "/api/v1/standard-dpa", nil, http.StatusOK},
			{"standard dpa current", "viewer", http.MethodGet, "/api/v1/standard-dpa/current", nil, http.StatusOK},
			{"subprocessor list", "viewer", http.MethodGet, "/api/v1/subprocessors", nil, http.StatusOK},
			{"subprocessor", "viewer", http.MethodGet, "/api/v1/subprocessors/" + id(sub, "id"), nil, http.StatusOK},
			{"subprocessor update", "editor", http.MethodPut, "/api/v1/subprocessors/" + id(sub, "id"), map[string]any{"name": "Cloudflare",
				"purpose": "CDN and WAF", "countries": "US, DE", "transfer_mechanism": "eu_us_dpf"}, http.StatusOK},
			{"notice list", "viewer", http.MethodGet, "/api/v1/subprocessor-notices", nil, http.StatusOK},
			{"notice", "viewer", http.MethodGet, "/api/v1/subprocessor-notices/" + id(notice, "id"), nil, http.StatusOK},
			{"packet request list", "viewer", http.MethodGet, "/api/v1/packet-requests", nil, http.StatusOK},
			{"packet request issued", "viewer", http.MethodGet, "/api/v1/packet-requests/" + issuedRequest, nil, http.StatusOK},
			{"packet request pending", "viewer", http.MethodGet, "/api/v1/packet-requests/" + otherRequest, nil, http.StatusOK},
			{"packet list", "viewer", http.MethodGet, "/api/v1/packets", nil, http.StatusOK},
			{"packet", "viewer", http.MethodGet, packetPath, nil, http.StatusOK},
			{"incident list", "viewer", http.MethodGet, "/api/v1/incidents", nil, http.StatusOK},
			{"incident declared", "editor", http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Token leak", "severity": "high",
				"owner": "sec@posthog.example", "summary": "A token was pasted in a ticket."}, http.StatusCreated},
			{"incident resolved", "editor", http.MethodPut, "/api/v1/incidents/" + id(advisory, "incident_id"), map[string]any{"title": "Dashboard XSS",
				"severity": "critical", "status": "resolved"}, http.StatusOK},
			{"advisory list", "viewer", http.MethodGet, "/api/v1/advisories", nil, http.StatusOK},
			{"advisory", "viewer", http.MethodGet, "/api/v1/advisories/" + id(advisory, "id"), nil, http.StatusOK},
			{"report list", "editor", http.MethodGet, "/api/v1/vulnerability-reports", nil, http.StatusOK},
			{"report", "editor", http.MethodGet, reportPath, nil, http.StatusOK},
			{"privacy request list", "editor", http.MethodGet, "/api/v1/privacy-requests", nil, http.StatusOK},
			{"privacy request", "editor", http.MethodGet, dsarPath, nil, http.StatusOK},
			{"privacy request metrics", "auditor", http.MethodGet, "/api/v1/privacy-requests/metrics", nil, http.StatusOK},
			{"organization", "viewer", http.MethodGet, "/api/v1/organization", nil, http.StatusOK},
			{"answer list", "viewer", http.MethodGet, "/api/v1/answers", nil, http.StatusOK},
			{"answer", "viewer", http.MethodGet, answerPath, nil, http.StatusOK},
			{"packet change notices", "viewer", http.MethodGet, packetPath + "/change-notices", nil, http.StatusOK},
			{"snapshot list", "viewer", http.MethodGet, "/api/v1/snapshots", nil, http.StatusOK},
			{"snapshot", "viewer", http.MethodGet, "/api/v1/snapshots/1", nil, http.StatusOK},
			{"packet revoked", "editor", http.MethodPost, packetPath + "/revoke", nil, http.StatusOK},
			{"exception approved", "editor2", http.MethodPost, excPath + "/approve", map[string]any{"note": "ok"}, http.StatusOK},
			{"exception list", "viewer", http.MethodGet, "/api/v1/exceptions", nil, http.StatusOK},
			{"exception", "viewer", http.MethodGet, excPath, nil, http.StatusOK},
			{"exception renewal", "editor", http.MethodPost, excPath + "/renew", map[string]any{"scope": "bill-01", "reason": "Delayed",
				"compensating_controls": "Isolated network", "expires_on": expiry}, http.StatusCreated},
			{"webhook list", "admin", http.MethodGet, "/api/v1/webhooks", nil, http.StatusOK},
			{"webhook", "admin", http.MethodGet, hookPath, nil, http.StatusOK},
			{"webhook deliveries", "admin", http.MethodGet, hookPath + "/deliveries", nil, http.StatusOK},
		}
		got := map[string][]string{}
		for _, ep := range endpoints {
			paths := map[string]bool{}
			fieldPaths("", call(ep.user, ep.method, ep.path, ep.body, ep.status), paths)
			for p := range paths {
				got[ep.name] = append(got[ep.name], p)
			}
			sort.Strings(got[ep.name])
		}
		if *printFields {
			for _, ep := range endpoints {
				fmt.Printf("\t%q: {\n", ep.name)
				for _, p := range got[ep.name] {
					fmt.Printf("\t\t%q,\n", p)
				}
				fmt.Printf("\t},\n")
			}
			return
		}
		for _, ep := range endpoints {
			want := wantFields[ep.name]
			if want == nil {
				t.Errorf("%s: no expected fields", ep.name)
				continue
			}
			if diff := fieldDiff(got[ep.name], want); diff != "" {
				t.Errorf("%s %s %s: fields changed:\n%s", ep.name, ep.method, ep.path, diff)
			}
		}
	})
}

// fieldDiff lists the fields gained (+) and lost (-).
func fieldDiff(got, want []string) string {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	for _, s := range got {
		if !w[s] {
			b.WriteString("  + " + s + "\n")
		}
	}
	for _, s := range want {
		if !g[s] {
			b.WriteString("  - " + s + "\n")
		}
	}
	return b.String()
}

// wantFields are the fields of each endpoint's JSON (as fieldPaths
// names them), by the endpoint's name in TestAPIResponseFields.
var wantFields = map[string][]string{
	"dpa list": {
		"items",
		"items[].contact_email",
		"items[].counterparty",
		"items[].created_at",
		"items[].data_region",
		"items[].direction",
		"items[].domain",
		"items[].effective_on",
		"items[].file_name",
		"items[].file_sha256",
		"items[].file_size",
		"items[].id",
		"items[].notes",
		"items[].notice_days",
		"items[].our_signatory",
		"items[].scc_modules",
		"items[].signed_on",
		"items[].source",
		"items[].status",
		"items[].subprocessor_authorization",
		"items[].template_version",
		"items[].terminated_on",
		"items[].their_signatory",
		"items[].transfer_mechanisms",
		"items[].updated_at",
		"next_cursor",
	},
	"dpa": {
		"contact_email",
		"counterparty",
		"created_at",
		"data_region",
		"direction",
		"domain",
		"effective_on",
		"file_name",
		"file_sha256",
		"file_size",
		"history",
		"history[].at",
		"history[].by",
		"history[].from",
		"history[].note",
		"history[].to",
		"id",
		"notes",
		"notice_days",
		"our_signatory",
		"scc_modules",
		"signed_on",
		"source",
		"status",
		"subprocessor_authorization",
		"template_version",
		"terminated_on",
		"their_signatory",
		"transfer_mechanisms",
		"updated_at",
	},
	"dpa update": {
		"contact_email",
		"counterparty",
		"created_at",
		"data_region",
		"direction",
		"domain",
		"effective_on",
		"file_name",
		"file_sha256",
		"file_size",
		"history",
		"history[].at",
		"history[].by",
		"history[].from",
		"history[].note",
		"history[].to",
		"id",
		"notes",
		"notice_days",
		"our_signatory",
		"scc_modules",
		"signed_on",
		"source",
		"status",
		"subprocessor_authorization",
		"template_version",
		"terminated_on",
		"their_signatory",
		"transfer_mechanisms",
		"updated_at",
	},
	"standard dpa list": {
		"items",
		"items[].approved_at",
		"items[].approved_by",
		"items[].author",
		"items[].change_summary",
		"items[].created_at",
		"items[].published_at",
		"items[].published_by",
		"items[].sha256",
		"items[].status",
		"items[].version",
		"next_cursor",
	},
	"standard dpa current": {
		"approved_at",
		"approved_by",
		"author",
		"body",
		"change_summary",
		"created_at",
		"published_at",
		"published_by",
		"sha256",
		"status",
		"version",
	},
	"subprocessor list": {
		"items",
		"items[].active_since",
		"items[].countries",
		"items[].created_at",
		"items[].data_categories",
		"items[].id",
		"items[].name",
		"items[].purpose",
		"items[].removed_on",
		"items[].status",
		"items[].transfer_mechanism",
		"items[].updated_at",
		"items[].vendor_dpa_id",
		"items[].website",
		"next_cursor",
	},
	"subprocessor": {
		"active_since",
		"countries",
		"created_at",
		"data_categories",
		"id",
		"name",
		"purpose",
		"removed_on",
		"status",
		"transfer_mechanism",
		"updated_at",
		"vendor_dpa_id",
		"website",
	},
	"subprocessor update": {
		"active_since",
		"countries",
		"created_at",
		"data_categories",
		"id",
		"name",
		"purpose",
		"removed_on",
		"status",
		"transfer_mechanism",
		"updated_at",
		"vendor_dpa_id",
		"website",
	},
	"notice list": {
		"items",
		"items[].announced_at",
		"items[].announced_by",
		"items[].applied_at",
		"items[].change",
		"items[].effective_on",
		"items[].id",
		"items[].objections",
		"items[].recipients",
		"items[].replaces",
		"items[].replaces.active_since",
		"items[].replaces.countries",
		"items[].replaces.created_at",
		"items[].replaces.data_categories",
		"items[].replaces.id",
		"items[].replaces.name",
		"items[].replaces.purpose",
		"items[].replaces.removed_on",
		"items[].replaces.status",
		"items[].replaces.transfer_mechanism",
		"items[].replaces.updated_at",
		"items[].replaces.vendor_dpa_id",
		"items[].replaces.website",
		"items[].replaces_id",
		"items[].state",
		"items[].subprocessor",
		"items[].subprocessor.active_since",
		"items[].subprocessor.countries",
		"items[].subprocessor.created_at",
		"items[].subprocessor.data_categories",
		"items[].subprocessor.id",
		"items[].subprocessor.name",
		"items[].subprocessor.purpose",
		"items[].subprocessor.removed_on",
		"items[].subprocessor.status",
		"items[].subprocessor.transfer_mechanism",
		"items[].subprocessor.updated_at",
		"items[].subprocessor.vendor_dpa_id",
		"items[].subprocessor.website",
		"items[].subprocessor_id",
		"items[].summary",
		"items[].withdrawn_at",
		"next_cursor",
	},
	"notice": {
		"announced_at",
		"announced_by",
		"applied_at",
		"change",
		"effective_on",
		"id",
		"objection_list",
		"objection_list[].created_at",
		"objection_list[].dpa_id",
		"objection_list[].email",
		"objection_list[].id",
		"objection_list[].notice_id",
		"objection_list[].reason",
		"objections",
		"recipients",
		"replaces_id",
		"sent_to",
		"state",
		"subprocessor",
		"subprocessor.active_since",
		"subprocessor.countries",
		"subprocessor.created_at",
		"subprocessor.data_categories",
		"subprocessor.id",
		"subprocessor.name",
		"subprocessor.purpose",
		"subprocessor.removed_on",
		"subprocessor.status",
		"subprocessor.transfer_mechanism",
		"subprocessor.updated_at",
		"subprocessor.vendor_dpa_id",
		"subprocessor.website",
		"subprocessor_id",
		"summary",
		"withdrawn_at",
	},
	"packet request list": {
		"items",
		"items[].auto_approved",
		"items[].company",
		"items[].confirmed_at",
		"items[].created_at",
		"items[].decided_at",
		"items[].decided_by",
		"items[].deny_reason",
		"items[].email",
		"items[].id",
		"items[].name",
		"items[].reason",
		"items[].role",
		"items[].status",
		"next_cursor",
	},
	"packet request issued": {
		"auto_approved",
		"company",
		"confirmed_at",
		"created_at",
		"decided_at",
		"decided_by",
		"deny_reason",
		"documents",
		"email",
		"id",
		"name",
		"no_policies",
		"packet",
		"packet.download_limit",
		"packet.downloads",
		"packet.expires_at",
		"packet.issued_at",
		"packet.issued_by",
		"packet.manifest_sha256",
		"packet.packet_id",
		"packet.recipient_company",
		"packet.recipient_email",
		"packet.recipient_name",
		"packet.request_id",
		"packet.revoked_at",
		"packet.revoked_by",
		"policies",
		"reason",
		"role",
		"status",
	},
	"packet request pending": {
		"auto_approved",
		"company",
		"confirmed_at",
		"created_at",
		"decided_at",
		"decided_by",
		"deny_reason",
		"documents",
		"email",
		"id",
		"name",
		"no_policies",
		"policies",
		"reason",
		"role",
		"status",
	},
	"packet list": {
		"items",
		"items[].download_limit",
		"items[].downloads",
		"items[].expires_at",
		"items[].issued_at",
		"items[].issued_by",
		"items[].manifest_sha256",
		"items[].packet_id",
		"items[].recipient_company",
		"items[].recipient_email",
		"items[].recipient_name",
		"items[].request_id",
		"items[].revoked_at",
		"items[].revoked_by",
		"next_cursor",
	},
	"packet": {
		"accesses",
		"accesses[].at",
		"accesses[].file",
		"accesses[].ip",
		"accesses[].outcome",
		"accesses[].user_agent",
		"documents",
		"files",
		"files[].downloads",
		"files[].name",
		"files[].sha256",
		"files[].size",
		"packet",
		"packet.download_limit",
		"packet.downloads",
		"packet.expires_at",
		"packet.issued_at",
		"packet.issued_by",
		"packet.manifest_sha256",
		"packet.packet_id",
		"packet.recipient_company",
		"packet.recipient_email",
		"packet.recipient_name",
		"packet.request_id",
		"packet.revoked_at",
		"packet.revoked_by",
		"policies",
		"policies[].effective_on",
		"policies[].sha256",
		"policies[].slug",
		"policies[].title",
		"policies[].version",
		"state",
	},
	"incident list": {
		"items",
		"items[].created_at",
		"items[].declared_at",
		"items[].id",
		"items[].owner",
		"items[].resolved_at",
		"items[].severity",
		"items[].status",
		"items[].summary",
		"items[].title",
		"items[].updated_at",
		"next_cursor",
	},
	"incident declared": {
		"created_at",
		"declared_at",
		"id",
		"owner",
		"resolved_at",
		"severity",
		"status",
		"summary",
		"title",
		"updated_at",
	},
	"incident resolved": {
		"created_at",
		"declared_at",
		"id",
		"owner",
		"resolved_at",
		"severity",
		"status",
		"summary",
		"title",
		"updated_at",
	},
	"advisory list": {
		"items",
		"items[].affected_products",
		"items[].affected_regions",
		"items[].created_at",
		"items[].cve",
		"items[].date",
		"items[].description",
		"items[].disclosed_on",
		"items[].discovered_on",
		"items[].fixed_on",
		"items[].id",
		"items[].incident_id",
		"items[].published_at",
		"items[].reported_on",
		"items[].resolution",
		"items[].severity",
		"items[].status",
		"items[].title",
		"items[].updated_at",
		"next_cursor",
	},
	"advisory": {
		"affected_products",
		"affected_regions",
		"created_at",
		"cve",
		"date",
		"description",
		"disclosed_on",
		"discovered_on",
		"fix_links",
		"fixed_on",
		"id",
		"incident_id",
		"published",
		"published_at",
		"reported_on",
		"resolution",
		"severity",
		"status",
		"title",
		"updated_at",
	},
	"report list": {
		"items",
		"items[].created_at",
		"items[].details",
		"items[].email",
		"items[].notes",
		"items[].product",
		"items[].reference",
		"items[].reward_note",
		"items[].status",
		"items[].steps",
		"items[].summary",
		"items[].updated_at",
		"next_cursor",
	},
	"report": {
		"advisory",
		"created_at",
		"details",
		"email",
		"notes",
		"product",
		"reference",
		"reward_note",
		"status",
		"steps",
		"summary",
		"updated_at",
	},
	"privacy request list": {
		"items",
		"items[].acknowledged_at",
		"items[].channel",
		"items[].closed_at",
		"items[].created_at",
		"items[].customer_dpa_id",
		"items[].deadline",
		"items[].details",
		"items[].extended_at",
		"items[].extension_reason",
		"items[].law",
		"items[].outcome",
		"items[].received_at",
		"items[].redacted_at",
		"items[].reference",
		"items[].refusal_reason",
		"items[].requester_email",
		"items[].requester_name",
		"items[].response_name",
		"items[].response_sha256",
		"items[].status",
		"items[].systems_searched",
		"items[].timing",
		"items[].type",
		"items[].updated_at",
		"items[].verification_method",
		"items[].verified_at",
		"items[].verified_by",
		"next_cursor",
	},
	"privacy request": {
		"acknowledged_at",
		"channel",
		"closed_at",
		"created_at",
		"customer_dpa_id",
		"deadline",
		"details",
		"extended_at",
		"extension_reason",
		"law",
		"outcome",
		"received_at",
		"redacted_at",
		"reference",
		"refusal_reason",
		"requester_email",
		"requester_name",
		"response_name",
		"response_sha256",
		"status",
		"systems_searched",
		"timing",
		"type",
		"updated_at",
		"verification_method",
		"verified_at",
		"verified_by",
	},
	"privacy request metrics": {
		"types",
		"types[].complied_in_whole_or_part",
		"types[].denied",
		"types[].median_days_to_respond",
		"types[].received",
		"types[].type",
		"year",
	},
	"answer list": {
		"items",
		"items[].access",
		"items[].answer",
		"items[].approved_at",
		"items[].approved_by",
		"items[].author",
		"items[].evidence",
		"items[].evidence[].checked_version",
		"items[].evidence[].policy",
		"items[].evidence[].section",
		"items[].evidence[].title",
		"items[].id",
		"items[].needs_review",
		"items[].owner_email",
		"items[].question",
		"items[].review_reason",
		"items[].state",
		"items[].updated_at",
		"next_cursor",
	},
	"answer": {
		"access",
		"answer",
		"approved_at",
		"approved_by",
		"author",
		"evidence",
		"evidence[].checked_version",
		"evidence[].policy",
		"evidence[].section",
		"evidence[].title",
		"id",
		"needs_review",
		"owner_email",
		"question",
		"review_reason",
		"state",
		"updated_at",
	},
	"organization": {
		"approach",
		"best_practices",
		"bounty_reward",
		"ccpa_addendum_url",
		"ccpa_statement",
		"certifications",
		"certifications[].auditor",
		"certifications[].document",
		"certifications[].framework",
		"certifications[].id",
		"certifications[].period_end",
		"certifications[].period_start",
		"certifications[].report_date",
		"certifications[].type",
		"data_ownership",
		"dpo_email",
		"dpo_name",
		"dpo_public",
		"dpo_title",
		"eu_representative",
		"gdpr_roles",
		"gdpr_roles[].id",
		"gdpr_roles[].mode",
		"gdpr_roles[].role",
		"gdpr_roles[].statement",
		"hosting_regions",
		"legal_entities",
		"legal_entities[].authority_registration",
		"legal_entities[].country",
		"legal_entities[].id",
		"legal_entities[].name",
		"legal_entities[].registration_number",
		"legal_entities[].role",
		"name",
		"never_sold",
		"privacy_email",
		"security_email",
		"security_report",
		"status_page_url",
		"transfer_mechanisms",
		"uk_representative",
		"website",
	},
	"packet revoked": {
		"accesses",
		"accesses[].at",
		"accesses[].file",
		"accesses[].ip",
		"accesses[].outcome",
		"accesses[].user_agent",
		"documents",
		"files",
		"files[].downloads",
		"files[].name",
		"files[].sha256",
		"files[].size",
		"packet",
		"packet.download_limit",
		"packet.downloads",
		"packet.expires_at",
		"packet.issued_at",
		"packet.issued_by",
		"packet.manifest_sha256",
		"packet.packet_id",
		"packet.recipient_company",
		"packet.recipient_email",
		"packet.recipient_name",
		"packet.request_id",
		"packet.revoked_at",
		"packet.revoked_by",
		"policies",
		"policies[].effective_on",
		"policies[].sha256",
		"policies[].slug",
		"policies[].title",
		"policies[].version",
		"state",
	},
	"exception approved": {
		"approved_at",
		"compensating_controls",
		"decided_at",
		"decided_by",
		"decision_note",
		"end_note",
		"ended_at",
		"ended_by",
		"expires_on",
		"id",
		"in_force",
		"policy",
		"policy_title",
		"reason",
		"renews",
		"requested_at",
		"requested_by",
		"scope",
		"section",
		"state",
	},
	"exception list": {
		"items",
		"items[].approved_at",
		"items[].compensating_controls",
		"items[].decided_at",
		"items[].decided_by",
		"items[].decision_note",
		"items[].end_note",
		"items[].ended_at",
		"items[].ended_by",
		"items[].expires_on",
		"items[].id",
		"items[].in_force",
		"items[].policy",
		"items[].policy_title",
		"items[].reason",
		"items[].renews",
		"items[].requested_at",
		"items[].requested_by",
		"items[].scope",
		"items[].section",
		"items[].state",
		"next_cursor",
	},
	"exception": {
		"approved_at",
		"compensating_controls",
		"decided_at",
		"decided_by",
		"decision_note",
		"end_note",
		"ended_at",
		"ended_by",
		"expires_on",
		"id",
		"in_force",
		"policy",
		"policy_title",
		"reason",
		"renews",
		"requested_at",
		"requested_by",
		"scope",
		"section",
		"state",
	},
	"exception renewal": {
		"approved_at",
		"compensating_controls",
		"decided_at",
		"decided_by",
		"decision_note",
		"end_note",
		"ended_at",
		"ended_by",
		"expires_on",
		"id",
		"in_force",
		"policy",
		"policy_title",
		"reason",
		"renews",
		"requested_at",
		"requested_by",
		"scope",
		"section",
		"state",
	},
	"webhook list": {
		"items",
		"items[].active",
		"items[].created_at",
		"items[].deleted_at",
		"items[].description",
		"items[].events",
		"items[].format",
		"items[].id",
		"items[].updated_at",
		"items[].url",
		"next_cursor",
	},
	"webhook": {
		"active",
		"created_at",
		"deleted_at",
		"description",
		"events",
		"format",
		"id",
		"updated_at",
		"url",
	},
	"webhook deliveries": {
		"items",
		"items[].attempts",
		"items[].created_at",
		"items[].delivered_at",
		"items[].event_type",
		"items[].id",
		"items[].last_error",
		"items[].last_response",
		"items[].last_status",
		"items[].next_attempt_at",
		"items[].payload",
		"items[].state",
		"items[].webhook_id",
		"next_cursor",
	},
	"packet change notices": {
		"notices",
		"notify_on_change",
		"packet_id",
	},
	"snapshot list": {
		"items",
		"items[].id",
		"items[].key_fingerprint",
		"items[].sha256",
		"items[].taken_at",
		"items[].url",
		"next_cursor",
	},
	"snapshot": {
		"content",
		"id",
		"key_fingerprint",
		"sha256",
		"signature",
		"signed_message",
		"taken_at",
	},
}
