package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// uploadDocument adds a trust document through the API.
func (e *env) uploadDocument(t *testing.T, title, access, validUntil string, autoApprove bool, pdf []byte) string {
	t.Helper()
	fields := documentFields(title, access, validUntil)
	if autoApprove {
		fields["auto_approve"] = "true"
	}
	status, body := e.apiUpload("editor", "/api/v1/documents", fields, "report.pdf", pdf)
	if status != http.StatusCreated {
		t.Fatalf("upload %s: %d %v", title, status, body)
	}
	return body["slug"].(string)
}

// submitRequestForm posts /trust/request and returns the response.
func submitRequestForm(v *browser, email string, policies, documents []string) response {
	v.get("/trust/request")
	return v.post("/trust/request", url.Values{"name": {"Dana Reviewer"}, "email": {email}, "company": {"Customer Ltd"},
		"nda_version": {"1"}, "accept_nda": {"true"}, "policies": policies, "documents": documents})
}

// confirmRequest opens the newest confirmation link mailed to email.
func confirmRequest(t *testing.T, e *env, smtp notify.SMTP, mb *notifytest.Mailbox, v *browser, email string) response {
	t.Helper()
	e.deliver(smtp)
	_, body := parseMail(t, mb.For(email)[len(mb.For(email))-1])
	r := v.postRaw(linkOf(t, body, "/trust/request/confirm/"), url.Values{}, nil)
	e.deliver(smtp)
	return r
}

// verifyUpload posts a file to /trust/verify.
func verifyUpload(e *env, data []byte) response {
	v := e.browser()
	v.get("/trust/verify")
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("csrf", v.csrf())
	fw, _ := w.CreateFormFile("file", "file.pdf")
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/trust/verify", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return v.do(req)
}

// pdfPagesContain runs pdftotext, checks that every page holds want and
// returns the pages' text (nil when pdftotext is missing and not required).
func pdfPagesContain(t *testing.T, pdf []byte, want string) []string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CHARTER_REQUIRE_BROWSER") != "" {
			t.Fatal("pdftotext is not installed (apt-get install poppler-utils)")
		}
		t.Log("pdftotext is not installed; skipping the text checks")
		return nil
	}
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-raw", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(strings.TrimRight(string(out), "\f"), "\f")
	for i, p := range pages {
		if !strings.Contains(p, want) {
			t.Errorf("page %d of %d lacks %s: %q", i+1, len(pages), want, p)
		}
	}
	return pages
}

// packetManifest is manifest.json as served: the manifest itself, whose
// bytes manifest.sig signs.
type packetManifest struct {
	PacketID string `json:"packet_id"`
	Policies []struct{ Slug, SHA256 string }
	Files    []struct{ Name, SHA256 string }
	// Documents keep the original's SHA-256 apart from the stamped
	// copy's.
	Documents []struct {
		Slug          string
		SHA256        string `json:"sha256"`
		StampedSHA256 string `json:"stamped_sha256"`
		File          string
	}
}

func TestPacketDocumentsRequestApproveAndDownload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *config.Config) { c.PacketAutoApproveDomains = []string{"trusted.example"} })
		mb, smtp := notifytest.Start(t)
		year := e.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly)
		original := documenttest.PDF(t, "SOC 2 report", 3)
		report := e.uploadDocument(t, "SOC 2 Type II report", "on_request", year, false, original)
		internal := e.uploadDocument(t, "Internal findings", "internal", year, false, documenttest.PDF(t, "Findings", 1))
		public := e.uploadDocument(t, "ISO certificate", "public", year, false, documenttest.PDF(t, "ISO", 1))
		lapsing := e.uploadDocument(t, "Pentest summary", "on_request", e.clock.Now().AddDate(0, 0, -1).Format(time.DateOnly), true,
			documenttest.PDF(t, "Pentest", 1))

		// The form offers on-request documents in force, pre-selected
		// from /trust's link; not the internal, public or lapsed ones.
		v := e.browser()
		form := v.get("/trust/request?document=" + report)
		if form.status != http.StatusOK || !strings.Contains(form.body, `value="`+report+`" checked`) ||
			strings.Contains(form.body, "Internal findings") || strings.Contains(form.body, `value="`+public+`"`) || strings.Contains(form.body, `value="`+lapsing+`"`) {
			t.Fatalf("request form: %d %s", form.status, form.body)
		}
		for _, slug := range []string{"no-such-document", internal, public, lapsing} {
			r := submitRequestForm(e.browser(), "dana@customer.example", nil, []string{slug})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Documents cannot be requested: "+slug) {
				t.Fatalf("%s: %d", slug, r.status)
			}
		}

		// Two policies and the report, from an allow-listed domain: the
		// report is not auto-approvable, so the whole request waits.
		if r := submitRequestForm(v, "dana@trusted.example", []string{"backup", "encryption"}, []string{report}); r.status != http.StatusOK {
			t.Fatalf("request: %d %s", r.status, r.body)
		}
		if r := confirmRequest(t, e, smtp, mb, v, "dana@trusted.example"); !strings.Contains(r.body, "Our team will review") {
			t.Fatalf("a request with a document that needs a person was approved at once: %s", r.body)
		}
		_, list := e.api("editor", http.MethodGet, "/api/v1/packet-requests?status=pending", nil)
		id := int64(list["items"].([]any)[0].(map[string]any)["id"].(float64))
		_, detail := e.api("editor", http.MethodGet, fmt.Sprintf("/api/v1/packet-requests/%d", id), nil)
		if fmt.Sprint(detail["documents"]) != "["+report+"]" || fmt.Sprint(detail["policies"]) != "[backup encryption]" {
			t.Fatalf("request detail: %v", detail)
		}
		ed := e.browser().login("editor")
		page := ed.get(fmt.Sprintf("/app/packets/requests/%d", id))
		if !strings.Contains(page.body, "each file can be downloaded N times") || !strings.Contains(page.body, `name="documents" value="`+report+`" checked`) {
			t.Fatalf("approver's page: %s", page.body)
		}
		// Not requested: refused by name.
		if r := ed.post(fmt.Sprintf("/app/packets/requests/%d/approve", id), url.Values{"exact": {"yes"}, "documents": {public}}); r.status != http.StatusUnprocessableEntity ||
			!strings.Contains(r.body, "was not requested") {
			t.Fatalf("approve an unrequested document: %d", r.status)
		}
		if r := ed.post(fmt.Sprintf("/app/packets/requests/%d/approve", id), url.Values{"exact": {"yes"}, "expiry_days": {"7"}, "download_limit": {"1"},
			"policies": {"backup", "encryption"}, "documents": {report}}); r.status != http.StatusSeeOther {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		if code, _ := e.api("editor", http.MethodPost, fmt.Sprintf("/api/v1/packet-requests/%d/approve", id), map[string]any{}); code != http.StatusConflict {
			t.Fatalf("approved twice: %d", code)
		}
		e.deliver(smtp)
		_, mail := parseMail(t, mb.For("dana@trusted.example")[len(mb.For("dana@trusted.example"))-1])
		if !strings.Contains(mail, "2 policies, 1 document") || !strings.Contains(mail, "at most 1 downloads of each file") {
			t.Fatalf("approval mail: %s", mail)
		}
		link := packetPath(t, mail)

		// The NDA was accepted with the request: the page lists the
		// document and serves it at once.
		recipient := e.browser()
		pg := recipient.get(link)
		if pg.status != http.StatusOK || strings.Contains(pg.body, "accept-nda") || !strings.Contains(pg.body, "SOC 2 Type II report") ||
			!strings.Contains(pg.body, "policies only") {
			t.Fatalf("packet page: %d %s", pg.status, pg.body)
		}
		doc := recipient.get(link + "/documents/" + report + ".pdf")
		if doc.status != http.StatusOK || !strings.HasPrefix(doc.body, "%PDF-") || doc.body == string(original) {
			t.Fatalf("document: %d", doc.status)
		}
		pdfPagesContain(t, []byte(doc.body), "dana@trusted.example")
		backup := recipient.get(link + "/policies/backup.pdf")
		if backup.status != http.StatusOK {
			t.Fatalf("policy: %d", backup.status)
		}

		// The per-file limit: that file answers a branded page saying so,
		// while the page and the manifest still open and say what is left.
		again := recipient.get(link + "/documents/" + report + ".pdf")
		if again.status != http.StatusGone || !strings.Contains(again.body, "download limit is reached") || !strings.Contains(again.body, "This file (SOC 2 Type II report)") ||
			!strings.Contains(again.body, "PostHog") ||
			!strings.Contains(again.body, "document="+report) || !strings.Contains(again.body, `id="request-again"`) {
			t.Fatalf("past the file's limit: %d %s", again.status, again.body)
		}
		pg = recipient.get(link)
		if pg.status != http.StatusOK || strings.Count(pg.body, "limit reached") != 2 || !strings.Contains(pg.body, "1 left") ||
			!strings.Contains(pg.body, `href="/trust/request?company=Customer&#43;Ltd&amp;document=`+report) {
			t.Fatalf("page after a file's limit: %d %s", pg.status, pg.body)
		}
		man := recipient.get(link + "/manifest.json")
		var m packetManifest
		if err := json.Unmarshal([]byte(man.body), &m); err != nil || man.status != http.StatusOK {
			t.Fatalf("manifest: %d %v", man.status, err)
		}
		if len(m.Policies) != 2 || len(m.Documents) != 1 || len(m.Files) != 4 {
			t.Fatalf("manifest: %s", man.body)
		}
		d := m.Documents[0]
		if d.Slug != report || d.SHA256 != sha256Hex(original) || d.StampedSHA256 != sha256Hex([]byte(doc.body)) || d.File != "documents/"+report+".pdf" {
			t.Fatalf("manifest document: %+v", d)
		}
		hashes := map[string]string{}
		for _, f := range m.Files {
			hashes[f.Name] = f.SHA256
		}
		if hashes["documents/"+report+".pdf"] != sha256Hex([]byte(doc.body)) || hashes["policies/backup.pdf"] != sha256Hex([]byte(backup.body)) {
			t.Fatalf("manifest files: %v", hashes)
		}
		// /trust/verify says which document a stamped copy is of; the
		// original upload was never issued to anyone.
		if r := verifyUpload(e, []byte(doc.body)); !strings.Contains(r.body, "Issued by PostHog") || !strings.Contains(r.body, "stamped copy of <strong>SOC 2 Type II report, version 2026") ||
			!strings.Contains(r.body, "dana@trusted.example") {
			t.Fatalf("verify the document: %s", r.body)
		}
		if r := verifyUpload(e, original); !strings.Contains(r.body, "Not issued by PostHog") {
			t.Fatalf("verify the original: %s", r.body)
		}
		// The approver's page lists the document with both hashes, and
		// each file's downloads.
		if r := ed.get("/app/packets/" + m.PacketID); !strings.Contains(r.body, "SHA-256 of the stamped copy") || !strings.Contains(r.body, "<td>documents/"+report+".pdf</td>") {
			t.Fatalf("admin packet page: %s", r.body)
		}

		// Expired: the page says so, branded, and offers the same request.
		e.clock.Advance(8 * 24 * time.Hour)
		for _, path := range []string{link, link + "/manifest.json", link + "/policies/encryption.pdf"} {
			r := recipient.get(path)
			if r.status != http.StatusGone || !strings.Contains(r.body, "expired") || !strings.Contains(r.body, "PostHog") ||
				!strings.Contains(r.body, "policies=backup&amp;policies=encryption") || !strings.Contains(r.body, "document="+report) {
				t.Fatalf("%s expired: %d %s", path, r.status, r.body)
			}
		}
		// The link it offers fills the form in.
		prefilled := recipient.get("/trust/request?company=Customer+Ltd&email=dana%40trusted.example&name=Dana+Reviewer&policies=backup&document=" + report)
		if !strings.Contains(prefilled.body, `value="dana@trusted.example"`) || !strings.Contains(prefilled.body, `value="backup" checked`) ||
			!strings.Contains(prefilled.body, `value="`+report+`" checked`) {
			t.Fatalf("prefilled form: %s", prefilled.body)
		}
		// An unknown token says nothing of any packet.
		if r := recipient.get("/p/" + strings.Repeat("A", 43)); r.status != http.StatusNotFound || strings.Contains(r.body, "request-again") {
			t.Fatalf("unknown token: %d", r.status)
		}
	})
}

func TestPacketDocumentsAutoApprovalAndDocumentsOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *config.Config) { c.PacketAutoApproveDomains = []string{"trusted.example"} })
		mb, smtp := notifytest.Start(t)
		year := e.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly)
		cert := e.uploadDocument(t, "Insurance certificate", "on_request", year, true, documenttest.PDF(t, "Insurance", 2))

		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("doc-%d", i)
		}
		if r := submitRequestForm(e.browser(), "lee@trusted.example", nil, many); r.status != http.StatusUnprocessableEntity ||
			!strings.Contains(r.body, "at most 100 documents") {
			t.Fatalf("101 documents: %d", r.status)
		}

		// A document that allows auto-approval, alone, from an
		// allow-listed domain: approved at once, with no policy.
		v := e.browser()
		if r := submitRequestForm(v, "lee@trusted.example", nil, []string{cert}); r.status != http.StatusOK {
			t.Fatalf("request: %d %s", r.status, r.body)
		}
		if r := confirmRequest(t, e, smtp, mb, v, "lee@trusted.example"); !strings.Contains(r.body, "Your request is approved") {
			t.Fatalf("not auto-approved: %s", r.body)
		}
		_, mail := parseMail(t, mb.For("lee@trusted.example")[len(mb.For("lee@trusted.example"))-1])
		link := packetPath(t, mail)
		recipient := e.browser()
		pg := recipient.get(link)
		if pg.status != http.StatusOK || strings.Contains(pg.body, "download-packet") || !strings.Contains(pg.body, "Insurance certificate") {
			t.Fatalf("documents-only packet page: %s", pg.body)
		}
		var m packetManifest
		if err := json.Unmarshal([]byte(recipient.get(link+"/manifest.json").body), &m); err != nil || len(m.Policies) != 0 || len(m.Files) != 1 {
			t.Fatalf("documents-only manifest: %+v %v", m, err)
		}
		if r := recipient.get(link + "/documents/" + cert + ".pdf"); r.status != http.StatusOK {
			t.Fatalf("download: %d", r.status)
		}
		if r := recipient.get(link + "/documents/other.pdf"); r.status != http.StatusNotFound {
			t.Fatalf("a document not in the packet: %d", r.status)
		}

		// The same from another domain waits for a person; a pending
		// request has no packet, and a denied one cannot be approved.
		w := e.browser()
		submitRequestForm(w, "kim@customer.example", nil, []string{cert})
		if r := confirmRequest(t, e, smtp, mb, w, "kim@customer.example"); !strings.Contains(r.body, "Our team will review") {
			t.Fatalf("approved at once: %s", r.body)
		}
		_, list := e.api("editor", http.MethodGet, "/api/v1/packet-requests?status=pending", nil)
		id := int64(list["items"].([]any)[0].(map[string]any)["id"].(float64))
		if code, body := e.api("editor", http.MethodGet, fmt.Sprintf("/api/v1/packet-requests/%d", id), nil); code != http.StatusOK || body["packet"] != nil || body["no_policies"] != true {
			t.Fatalf("pending request: %v", body)
		}
		e.api("editor", http.MethodPost, fmt.Sprintf("/api/v1/packet-requests/%d/deny", id), map[string]any{"reason": "Not a customer"})
		if code, _ := e.api("editor", http.MethodPost, fmt.Sprintf("/api/v1/packet-requests/%d/approve", id), map[string]any{}); code != http.StatusConflict {
			t.Fatalf("approved a denied request: %d", code)
		}
	})
}
