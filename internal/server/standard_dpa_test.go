package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// standardDPAText is a version's text long enough to be one.
func standardDPAText(marker string) string {
	return "# Data Processing Agreement\n\n" + marker + "\n\n" + strings.Repeat("The Processor processes Customer Personal Data only on documented instructions. ", 5)
}

func TestStandardDPAVersionsThroughAPIAndDashboard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		code, list := e.api("viewer", http.MethodGet, "/api/v1/standard-dpa", nil)
		items, _ := list["items"].([]any)
		if code != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["status"] != "published" {
			t.Fatalf("list: %d %v", code, list)
		}
		code, cur := e.api("viewer", http.MethodGet, "/api/v1/standard-dpa/current", nil)
		if code != http.StatusOK || cur["version"] != float64(1) || !strings.Contains(cur["body"].(string), "PostHog") || len(cur["sha256"].(string)) != 64 {
			t.Fatalf("current: %d %v", code, cur)
		}
		if code, _ := e.api("viewer", http.MethodPost, "/api/v1/standard-dpa", map[string]any{"body": standardDPAText("v2"), "change_summary": "x"}); code != http.StatusForbidden {
			t.Fatalf("viewer drafted: %d", code)
		}
		code, body := e.api("editor", http.MethodPost, "/api/v1/standard-dpa", map[string]any{"body": "short", "change_summary": ""})
		fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
		if code != http.StatusUnprocessableEntity || fields["body"] == nil || fields["change_summary"] == nil {
			t.Fatalf("bad draft: %d %v", code, body)
		}
		if code, body := e.api("editor", http.MethodPost, "/api/v1/standard-dpa", map[string]any{"body": standardDPAText("v2"), "change_summary": "x", "status": "published"}); code != http.StatusUnprocessableEntity {
			t.Fatalf("unknown field: %d %v", code, body)
		}
		code, draft := e.api("editor", http.MethodPost, "/api/v1/standard-dpa", map[string]any{"body": standardDPAText("v2"), "change_summary": "Second version."})
		if code != http.StatusCreated || draft["version"] != float64(2) || draft["status"] != "draft" {
			t.Fatalf("draft: %d %v", code, draft)
		}
		if code, _ := e.api("editor2", http.MethodPost, "/api/v1/standard-dpa", map[string]any{"body": standardDPAText("v3"), "change_summary": "Third."}); code != http.StatusConflict {
			t.Fatalf("a second open draft: %d", code)
		}
		if code, body := e.api("editor", http.MethodPut, "/api/v1/standard-dpa/2", map[string]any{"body": standardDPAText("v2 revised"), "change_summary": "Second version."}); code != http.StatusOK || !strings.Contains(body["body"].(string), "v2 revised") {
			t.Fatalf("edit the draft: %d %v", code, body)
		}
		if code, body := e.api("editor", http.MethodPut, "/api/v1/standard-dpa/2", map[string]any{"body": "", "change_summary": "x"}); code != http.StatusUnprocessableEntity {
			t.Fatalf("empty text: %d %v", code, body)
		}
		if code, body := e.api("editor", http.MethodPost, "/api/v1/standard-dpa/2/approve", nil); code != http.StatusForbidden || !strings.Contains(fmt.Sprint(body), "another user must approve") {
			t.Fatalf("self-approval: %d %v", code, body)
		}
		if code, _ := e.api("editor2", http.MethodPost, "/api/v1/standard-dpa/2/publish", nil); code != http.StatusConflict {
			t.Fatalf("publishing a draft: %d", code)
		}
		if code, body := e.api("editor2", http.MethodPost, "/api/v1/standard-dpa/2/approve", nil); code != http.StatusOK || body["status"] != "approved" {
			t.Fatalf("approval: %d %v", code, body)
		}
		if code, body := e.api("editor", http.MethodPost, "/api/v1/standard-dpa/2/publish", nil); code != http.StatusOK || body["status"] != "published" {
			t.Fatalf("publish: %d %v", code, body)
		}
		if code, body := e.api("viewer", http.MethodGet, "/api/v1/standard-dpa/1", nil); code != http.StatusOK || body["status"] != "superseded" {
			t.Fatalf("version 1: %d %v", code, body)
		}
		if code, _ := e.api("editor", http.MethodPut, "/api/v1/standard-dpa/2", map[string]any{"body": standardDPAText("changed"), "change_summary": "x"}); code != http.StatusConflict {
			t.Fatalf("editing a published version: %d", code)
		}
		for _, path := range []string{"/api/v1/standard-dpa/99", "/api/v1/standard-dpa/x", "/api/v1/standard-dpa/-1"} {
			if code, _ := e.api("viewer", http.MethodGet, path, nil); code != http.StatusNotFound {
				t.Errorf("%s: %d", path, code)
			}
		}

		// The same on the dashboard: draft 3, refused self-approval, approve, publish.
		ed, ed2 := e.browser().login("editor"), e.browser().login("editor2")
		if r := ed.get("/app/privacy/standard-dpa"); r.status != http.StatusOK || !strings.Contains(r.body, "Draft a new version") {
			t.Fatalf("list page: %d", r.status)
		}
		if r := ed.get("/app/privacy/standard-dpa/new"); r.status != http.StatusOK || !strings.Contains(r.body, "v2") {
			t.Fatalf("new form starts from the text in force: %d", r.status)
		}
		if r := ed.post("/app/privacy/standard-dpa", url.Values{"body": {"short"}, "change_summary": {""}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "body-error") {
			t.Fatalf("bad draft: %d", r.status)
		}
		if r := ed.post("/app/privacy/standard-dpa", url.Values{"body": {standardDPAText("v3")}, "change_summary": {"Third."}, "preview": {"1"}}); r.status != http.StatusOK || !strings.Contains(r.body, "Preview") {
			t.Fatalf("preview: %d", r.status)
		}
		if r := ed.post("/app/privacy/standard-dpa", url.Values{"body": {standardDPAText("v3")}, "change_summary": {"Third."}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/privacy/standard-dpa/3" {
			t.Fatalf("draft: %d %s", r.status, r.header.Get("Location"))
		}
		if r := ed.get("/app/privacy/standard-dpa/3"); r.status != http.StatusOK || !strings.Contains(r.body, "Approve") {
			t.Fatalf("draft page: %d", r.status)
		}
		if r := ed2.get("/app/privacy/standard-dpa/3/edit"); r.status != http.StatusOK || !strings.Contains(r.body, "Save draft") {
			t.Fatalf("edit form: %d", r.status)
		}
		if r := ed.post("/app/privacy/standard-dpa/3/approve", nil); r.status != http.StatusForbidden || !strings.Contains(r.body, "another user must approve") {
			t.Fatalf("self-approval: %d", r.status)
		}
		if r := ed2.post("/app/privacy/standard-dpa/3/edit", url.Values{"body": {standardDPAText("v3 edited")}, "change_summary": {"Third."}}); r.status != http.StatusSeeOther {
			t.Fatalf("edit: %d", r.status)
		}
		if r := ed2.post("/app/privacy/standard-dpa/3/approve", nil); r.status != http.StatusForbidden {
			t.Fatalf("approval by the last editor: %d", r.status)
		}
		if r := e.browser().login("admin").post("/app/privacy/standard-dpa/3/approve", nil); r.status != http.StatusSeeOther {
			t.Fatalf("approval: %d", r.status)
		}
		if r := ed.post("/app/privacy/standard-dpa/3/publish", nil); r.status != http.StatusSeeOther {
			t.Fatalf("publish: %d", r.status)
		}
		if r := ed.get("/app/privacy/standard-dpa/2/edit"); r.status != http.StatusConflict {
			t.Fatalf("edit form of a superseded version: %d", r.status)
		}
		if r := ed.get("/app/privacy/standard-dpa/nope"); r.status != http.StatusNotFound {
			t.Fatalf("unknown version page: %d", r.status)
		}
		if r := e.browser().get("/trust/dpa"); r.status != http.StatusOK || !strings.Contains(r.body, "v3 edited") || !strings.Contains(r.body, `<dd id="dpa-version">3`) {
			t.Fatalf("/trust/dpa after publishing 3: %d", r.status)
		}
	})
}

// signForm is a complete signing form for the version in force.
func signForm(version, email string) url.Values {
	return url.Values{"version": {version}, "signer_name": {"Dana Reyes"}, "signer_title": {"General Counsel"}, "company": {"Acme Corp"},
		"email": {email}, "data_region": {"EU (AWS, Germany)"},
		"transfer_mechanism": {"EU Standard Contractual Clauses (SCCs) for transfers from the UK, EU or EEA to the US-West environment"},
		"scc_module":         {"2"}, "authority": {"yes"}}
}

// signatureLink is the confirmation link in the newest email to addr.
func signatureLink(t *testing.T, st *store.Store, addr string) string {
	t.Helper()
	var m notify.Message
	if err := st.DB.Where("to_addr = ? AND kind = ?", addr, "dpa_signature_confirmation").Order("id DESC").Take(&m).Error; err != nil {
		t.Fatal(err)
	}
	return linkOf(t, m.Body, "/trust/dpa/sign/confirm/")
}

func TestSigningTheStandardDPAOnline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		visitor := e.browser()
		page := visitor.get("/trust/dpa")
		current, err := e.privacy.CurrentStandardDPA(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if page.status != http.StatusOK || !strings.Contains(page.body, current.SHA256) || !strings.Contains(page.body, "Sign the DPA") ||
			!strings.Contains(page.body, "Request a custom DPA") || !strings.Contains(page.body, "Module 2: controller to processor") {
			t.Fatalf("/trust/dpa: %d", page.status)
		}

		// Refusals name the field, store nothing and send nothing.
		refusals := []struct {
			name string
			edit func(url.Values)
			want string
		}{
			{"free mail", func(v url.Values) { v.Set("email", "dana@gmail.com") }, "Email must be your work email address"},
			{"no name", func(v url.Values) { v.Del("signer_name") }, "Name is required"},
			{"no title", func(v url.Values) { v.Set("signer_title", " ") }, "Title is required"},
			{"no company", func(v url.Values) { v.Del("company") }, "Company is required"},
			{"no authority", func(v url.Values) { v.Del("authority") }, "Authority to sign must be confirmed"},
			{"unknown region", func(v url.Values) { v.Set("data_region", "Mars") }, "Region must be one of the hosting regions"},
			{"module 4", func(v url.Values) { v.Set("scc_module", "4") }, "SCC module must be module 2"},
			{"unknown version", func(v url.Values) { v.Set("version", "7") }, "Version is not the version in force"},
			{"not a version", func(v url.Values) { v.Set("version", "1; DROP") }, "Version is not a version of the standard DPA"},
		}
		for _, c := range refusals {
			form := signForm("1", "dana@acme.example")
			c.edit(form)
			if r := visitor.post("/trust/dpa/sign", form); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, c.want) {
				t.Errorf("%s: %d, want 422 with %q", c.name, r.status, c.want)
			}
		}
		if n := countRows(st, "dpa_signatures"); n != 0 {
			t.Fatalf("%d signatures stored by refused forms", n)
		}
		if r := visitor.postRaw("/trust/dpa/sign", signForm("1", "dana@acme.example"), nil); r.status != http.StatusForbidden {
			t.Fatalf("without the CSRF token: %d", r.status)
		}

		// Two people of Acme sign; neither counts before confirming.
		for _, who := range []string{"dana@acme.example", "lee@acme.example"} {
			if r := visitor.post("/trust/dpa/sign", signForm("1", who)); r.status != http.StatusOK || !strings.Contains(r.body, "Check your email") {
				t.Fatalf("sign as %s: %d %s", who, r.status, r.body)
			}
		}
		if n := countRows(st, "dpas"); n != 0 {
			t.Fatalf("unconfirmed signatures made %d register entries", n)
		}
		dana, lee := signatureLink(t, st, "dana@acme.example"), signatureLink(t, st, "lee@acme.example")
		if r := visitor.get(dana); r.status != http.StatusOK || !strings.Contains(r.body, "Confirm and sign") || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("confirmation page: %d", r.status)
		}
		e.clock.Advance(time.Hour)
		r := visitor.post(dana, nil)
		if r.status != http.StatusOK || !strings.Contains(r.body, "Your DPA is signed") {
			t.Fatalf("confirm: %d %s", r.status, r.body)
		}
		for _, again := range []func() response{func() response { return visitor.get(dana) }, func() response { return visitor.post(dana, nil) }} {
			if r := again(); r.status != http.StatusGone {
				t.Fatalf("used link: %d", r.status)
			}
		}
		// Lee's signature of the same version for the same company is not a
		// second entry; nor is a third signer's.
		if r := visitor.post(lee, nil); r.status != http.StatusConflict || !strings.Contains(r.body, "already signed version 1") {
			t.Fatalf("second confirmation: %d %s", r.status, r.body)
		}
		if r := visitor.post("/trust/dpa/sign", signForm("1", "kim@acme.example")); r.status != http.StatusConflict || !strings.Contains(r.body, "already signed version 1") {
			t.Fatalf("third signature: %d", r.status)
		}

		// The register shows the signed entry, with version and signer.
		code, list := e.api("viewer", http.MethodGet, "/api/v1/dpas?status=signed&q=acme", nil)
		items, _ := list["items"].([]any)
		if code != http.StatusOK || len(items) != 1 {
			t.Fatalf("register: %d %v", code, list)
		}
		entry := items[0].(map[string]any)
		if entry["template_version"] != "1" || entry["their_signatory"] != "Dana Reyes, General Counsel" || entry["counterparty"] != "Acme Corp" ||
			entry["contact_email"] != "dana@acme.example" || entry["data_region"] != "EU (AWS, Germany)" || entry["signed_on"] == nil {
			t.Fatalf("register entry: %v", entry)
		}
		id := int64(entry["id"].(float64))
		if r := e.browser().login("viewer").get("/app/privacy/dpas?status=signed"); !strings.Contains(r.body, "standard DPA v1, signed online by Dana Reyes, General Counsel") {
			t.Fatalf("register page: %d", r.status)
		}
		if r := e.browser().login("viewer").get(fmt.Sprintf("/app/privacy/dpas/%d", id)); !strings.Contains(r.body, "from 127.0.0.1") {
			t.Fatalf("entry page does not name the signer's IP: %d", r.status)
		}

		// The countersigned PDF: auditors download it from the entry.
		if r := e.browser().login("viewer").get(fmt.Sprintf("/app/privacy/dpas/%d/file", id)); r.status != http.StatusForbidden {
			t.Fatalf("viewer downloaded the PDF: %d", r.status)
		}
		dl := e.browser().login("auditor").get(fmt.Sprintf("/app/privacy/dpas/%d/file", id))
		if dl.status != http.StatusOK || !strings.HasPrefix(dl.body, "%PDF") {
			t.Fatalf("auditor download: %d", dl.status)
		}
		pdf := []byte(dl.body)
		sum := sha256.Sum256(pdf)
		pdfSHA := hex.EncodeToString(sum[:])
		if !strings.Contains(r.body, pdfSHA) {
			t.Fatalf("the confirmation page does not show the PDF's SHA-256 %s", pdfSHA)
		}
		text := pdfText(t, pdf)
		for _, want := range []string{"Dana Reyes", "General Counsel", "Acme Corp", "dana@acme.example", "127.0.0.1", "PostHog", "Countersigned by",
			current.SHA256, "version 1", "Module 2: controller to processor", "EU (AWS, Germany)"} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF's text lacks %q", want)
			}
		}

		// /trust/verify identifies it, uploaded or by SHA-256; a changed copy is not.
		verify := func(name string, content []byte, sha string) response {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("csrf", visitor.csrf())
			if content != nil {
				fw, _ := w.CreateFormFile("file", name)
				fw.Write(content)
			} else {
				w.WriteField("sha256", sha)
			}
			w.Close()
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/trust/verify", &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			return visitor.do(req)
		}
		want := "the countersigned standard DPA of <strong>Acme Corp</strong>, version 1 (text SHA-256 <code class=\"hash\">" + current.SHA256 + "</code>), signed by Dana Reyes"
		if r := verify("dpa.pdf", pdf, ""); r.status != http.StatusOK || !strings.Contains(r.body, want) || strings.Contains(r.body, "Not issued") {
			t.Fatalf("verify upload: %d %s", r.status, r.body)
		}
		if r := verify("", nil, strings.ToUpper(pdfSHA)); r.status != http.StatusOK || !strings.Contains(r.body, want) {
			t.Fatalf("verify by SHA-256: %d", r.status)
		}
		changed := bytes.Clone(pdf)
		changed[len(changed)/2] ^= 1
		if r := verify("dpa.pdf", changed, ""); r.status != http.StatusOK || !strings.Contains(r.body, "Not issued") || strings.Contains(r.body, "countersigned standard DPA of") {
			t.Fatalf("verify a changed copy: %d", r.status)
		}

		// The signer's email carries the PDF; the outbox page says so.
		if r := e.browser().login("editor").get("/app/outbox"); r.status != http.StatusOK || !strings.Contains(r.body, "Attached: dpa-acme-corp-v1-countersigned.pdf") {
			t.Fatalf("outbox page: %d", r.status)
		}
		mb, cfg := notifytest.Start(t)
		store := files.InDatabase(st.DB)
		sender := notify.NewSender(st.DB, e.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg).
			AttachFrom(func(sum string) (io.ReadCloser, error) { return store.Open(sum) })
		if _, failed, err := sender.SendDue(context.Background()); err != nil || failed != 0 {
			t.Fatalf("delivery: %d failed, %v", failed, err)
		}
		var signed string
		for _, raw := range mb.For("dana@acme.example") {
			if strings.Contains(raw, "Your countersigned DPA") {
				signed = raw
			}
		}
		if !strings.Contains(signed, "Content-Disposition: attachment") || !strings.Contains(signed, "acme-corp-v1-countersigned.pdf") {
			t.Fatalf("signed email: %q", signed)
		}
	})
}

func TestDPASignatureLinkExpires(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	visitor := e.browser()
	visitor.get("/trust/dpa")
	if r := visitor.post("/trust/dpa/sign", signForm("1", "dana@initech.example")); r.status != http.StatusOK {
		t.Fatalf("sign: %d", r.status)
	}
	link := signatureLink(t, e.st, "dana@initech.example")
	e.clock.Advance(privacy.SignatureLinkTTL + time.Minute)
	if r := visitor.get(link); r.status != http.StatusGone {
		t.Fatalf("expired link page: %d", r.status)
	}
	if r := visitor.post(link, nil); r.status != http.StatusGone || countRows(e.st, "dpas") != 0 {
		t.Fatalf("expired link: %d", r.status)
	}
	if r := visitor.post("/trust/dpa/sign/confirm/"+strings.Repeat("A", 43), nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown link: %d", r.status)
	}
}

// pdfText is the text pdftotext finds in pdf.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed")
	}
	path := filepath.Join(t.TempDir(), "dpa.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
