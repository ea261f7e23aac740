package server_test

import (
	"archive/zip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// TestExceptionPagesAndAPI: an editor requests an exception through the
// form (a refused form keeps what was typed), cannot approve it herself,
// another editor approves it through the API, and it shows on the policy
// page, in the list, in the export for its period and not before it.
func TestExceptionPagesAndAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		editor := e.browser().login("editor")
		today := e.clock.Now().UTC()
		expires := today.AddDate(0, 2, 0).Format(time.DateOnly)

		if r := editor.get("/app/exceptions/new?policy=password"); r.status != http.StatusOK || !strings.Contains(r.body, `<option value="password" selected>`) {
			t.Fatalf("new form: %d", r.status)
		}
		form := url.Values{"policy": {"password"}, "section": {"4.2 Rotation"}, "scope": {"Legacy billing host bill-01"},
			"reason": {"The appliance cannot rotate service passwords."}, "compensating_controls": {""}, "expires_on": {expires}}
		r := editor.post("/app/exceptions", form)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "form-summary") ||
			!strings.Contains(r.body, `id="compensating_controls-error"`) || !strings.Contains(r.body, "Legacy billing host bill-01") {
			t.Fatalf("refused form: %d %s", r.status, r.body)
		}
		form.Set("compensating_controls", "Isolated network; bastion access with MFA.")
		r = editor.post("/app/exceptions", form)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/app/exceptions/") {
			t.Fatalf("request: %d %s", r.status, r.header.Get("Location"))
		}
		page := r.header.Get("Location")
		id := strings.TrimPrefix(page, "/app/exceptions/")
		if ev := e.lastEvent(); ev.Action != "exception.requested" || ev.ObjectID != id {
			t.Fatalf("audit event %s %s", ev.Action, ev.ObjectID)
		}

		// The requester is offered no approval, and cannot approve anyway.
		if r := editor.get(page); r.status != http.StatusOK || strings.Contains(r.body, "/approve") || !strings.Contains(r.body, "another editor or admin approves it") {
			t.Fatalf("requester's page: %d", r.status)
		}
		editor.post(page+"/approve", nil)
		if code, out := e.api("editor", http.MethodPost, "/api/v1/exceptions/"+id+"/approve", nil); code != http.StatusForbidden {
			t.Fatalf("self-approval through the API: %d %v", code, out)
		}
		if code, out := e.api("viewer", http.MethodGet, "/api/v1/exceptions/"+id, nil); code != http.StatusOK || out["state"] != "requested" {
			t.Fatalf("after self-approvals: %d %v", code, out)
		}

		// Waiting for the other editor, not for the requester.
		if r := e.browser().login("editor2").get("/app/waiting"); !strings.Contains(r.body, "Policy exceptions to approve") || !strings.Contains(r.body, "bill-01") {
			t.Fatal("the request is not in the other editor's waiting list")
		}
		if r := editor.get("/app/waiting"); strings.Contains(r.body, "Policy exceptions to approve") {
			t.Fatal("the requester is asked to approve her own request")
		}
		other := e.browser().login("editor2")
		if r := other.get(page); !strings.Contains(r.body, page+"/approve") {
			t.Fatal("the other editor is not offered the approval")
		}
		if r := other.post(page+"/approve", url.Values{"note": {"Until the appliance is replaced"}}); r.status != http.StatusSeeOther {
			t.Fatalf("approval: %d", r.status)
		}
		if ev := e.lastEvent(); ev.Action != "exception.approved" || ev.ObjectID != id {
			t.Fatalf("audit event %s %s", ev.Action, ev.ObjectID)
		}

		viewer := e.browser().login("viewer")
		if r := viewer.get("/app/policies/password"); !strings.Contains(r.body, "bill-01") || !strings.Contains(r.body, "in force") ||
			strings.Contains(r.body, "/app/exceptions/new") {
			t.Fatalf("policy page for a viewer: %d", r.status)
		}
		if r := viewer.get("/app/exceptions?state=approved&policy=password"); !strings.Contains(r.body, "bill-01") {
			t.Fatal("filtered list lacks the exception")
		}
		if r := viewer.get("/app/exceptions?state=rejected"); strings.Contains(r.body, "bill-01") {
			t.Fatal("the rejected filter shows an approved exception")
		}
		if r := viewer.get(page); r.status != http.StatusOK || strings.Contains(r.body, "/revoke") || strings.Contains(r.body, "/renew") {
			t.Fatalf("viewer's page: %d, forms shown", r.status)
		}

		auditor := e.browser().login("auditor")
		year := today.Format("2006")
		if r := auditor.get("/app/exports/policy_exceptions.csv?from=" + year + "-01-01&to=" + year + "-12-31"); r.status != http.StatusOK || !strings.Contains(r.body, "bill-01") {
			t.Fatalf("export of this year: %d %s", r.status, r.body)
		}
		bundle := auditor.get("/app/exports/evidence.zip?from=" + year + "-01-01&to=" + year + "-12-31")
		zr, err := zip.NewReader(strings.NewReader(bundle.body), int64(len(bundle.body)))
		if err != nil {
			t.Fatalf("evidence.zip: %d %v", bundle.status, err)
		}
		inBundle := false
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, "policy_exceptions.csv") {
				rc, _ := f.Open()
				body, _ := io.ReadAll(rc)
				rc.Close()
				inBundle = strings.Contains(string(body), "bill-01")
			}
		}
		if !inBundle {
			t.Fatal("evidence.zip has no policy_exceptions.csv with the exception")
		}
		before := today.AddDate(0, 0, -1).Format(time.DateOnly)
		if r := auditor.get("/app/exports/policy_exceptions.csv?from=" + today.AddDate(-1, 0, 0).Format(time.DateOnly) + "&to=" + before); strings.Contains(r.body, "bill-01") {
			t.Fatalf("export of a period before the approval: %s", r.body)
		}

		// The renewal form starts from the exception; a refused one keeps
		// what was typed.
		if r := editor.get(page + "/renew"); r.status != http.StatusOK || !strings.Contains(r.body, "Legacy billing host bill-01") || !strings.Contains(r.body, `action="`+page+`/renew"`) {
			t.Fatalf("renewal form: %d", r.status)
		}
		renewalForm := url.Values{"scope": {"bill-01 and bill-02"}, "reason": {"Replacement delayed"}, "compensating_controls": {"As before"}, "expires_on": {before}}
		if r := editor.post(page+"/renew", renewalForm); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "bill-01 and bill-02") || !strings.Contains(r.body, `id="expires_on-error"`) {
			t.Fatalf("refused renewal: %d %s", r.status, r.body)
		}
		renewalForm.Set("expires_on", today.AddDate(0, 4, 0).Format(time.DateOnly))
		r = editor.post(page+"/renew", renewalForm)
		if r.status != http.StatusSeeOther || r.header.Get("Location") == page {
			t.Fatalf("renewal: %d %s", r.status, r.header.Get("Location"))
		}
		formRenewal := strings.TrimPrefix(r.header.Get("Location"), "/app/exceptions/")
		if r := other.post("/app/exceptions/"+formRenewal+"/reject", url.Values{"note": {"One renewal through the API instead"}}); r.status != http.StatusSeeOther {
			t.Fatalf("rejecting the renewal: %d", r.status)
		}
		if r := viewer.get(page); !strings.Contains(r.body, "/app/exceptions/"+formRenewal) {
			t.Fatal("the exception's page does not link its renewal")
		}

		// The API: list, validation, renewal, revocation.
		if code, out := e.api("viewer", http.MethodGet, "/api/v1/exceptions?policy=password&state=approved", nil); code != http.StatusOK || len(out["items"].([]any)) != 1 {
			t.Fatalf("list: %d %v", code, out)
		}
		code, out := e.api("editor", http.MethodPost, "/api/v1/exceptions", map[string]any{"policy": "nope", "scope": "x", "reason": "x",
			"compensating_controls": "x", "expires_on": today.AddDate(2, 0, 0).Format(time.DateOnly)})
		fields, _ := out["error"].(map[string]any)["fields"].(map[string]any)
		if code != http.StatusUnprocessableEntity || fields["expires_on"] == nil || fields["policy"] == nil {
			t.Fatalf("bad request: %d %v", code, out)
		}
		if code, out := e.api("viewer", http.MethodPost, "/api/v1/exceptions", map[string]any{}); code != http.StatusForbidden {
			t.Fatalf("viewer request: %d %v", code, out)
		}
		code, renewal := e.api("editor", http.MethodPost, "/api/v1/exceptions/"+id+"/renew", map[string]any{"scope": "Legacy billing host bill-01",
			"reason": "Replacement delayed", "compensating_controls": "As before", "expires_on": today.AddDate(0, 5, 0).Format(time.DateOnly)})
		if code != http.StatusCreated || fmt.Sprint(renewal["renews"]) != id || renewal["policy"] != "password" {
			t.Fatalf("renewal: %d %v", code, renewal)
		}
		renewalID := fmt.Sprint(int64(renewal["id"].(float64)))
		if code, out := e.api("admin", http.MethodPost, "/api/v1/exceptions/"+renewalID+"/approve", map[string]any{"note": "ok"}); code != http.StatusOK || out["in_force"] != true {
			t.Fatalf("renewal approval: %d %v", code, out)
		}
		if _, out := e.api("viewer", http.MethodGet, "/api/v1/exceptions/"+id, nil); out["state"] != "superseded" {
			t.Fatalf("renewed exception: %v", out)
		}
		if code, out := e.api("editor", http.MethodPost, "/api/v1/exceptions/"+renewalID+"/revoke", map[string]any{}); code != http.StatusUnprocessableEntity {
			t.Fatalf("revocation without a note: %d %v", code, out)
		}
		if r := editor.post("/app/exceptions/"+renewalID+"/revoke", url.Values{"note": {""}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="revoke-note-error"`) {
			t.Fatalf("revocation form without a note: %d %s", r.status, r.body)
		}
		if code, out := e.api("editor", http.MethodPost, "/api/v1/exceptions/"+renewalID+"/revoke", map[string]any{"note": "Appliance replaced"}); code != http.StatusOK || out["state"] != "revoked" {
			t.Fatalf("revocation: %d %v", code, out)
		}
		if code, _ := e.api("viewer", http.MethodGet, "/api/v1/exceptions/999999", nil); code != http.StatusNotFound {
			t.Fatalf("missing exception: %d", code)
		}
		if r := viewer.get("/app/exceptions/x"); r.status != http.StatusNotFound {
			t.Fatalf("page of a bad id: %d", r.status)
		}
	})
}
