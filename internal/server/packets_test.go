package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// requestPacket fills the public request form and confirms through the
// emailed link.
func requestPacket(t *testing.T, e *env, smtp notify.SMTP, mb *notifytest.Mailbox, email string, policies ...string) {
	t.Helper()
	requestPacketFor(t, e, smtp, mb, email, "Customer Ltd", policies...)
}

// requestPacketFor is requestPacket for a recipient of the given company.
func requestPacketFor(t *testing.T, e *env, smtp notify.SMTP, mb *notifytest.Mailbox, email, company string, policies ...string) {
	t.Helper()
	visitor := e.browser()
	page := visitor.get("/trust/request")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Non-disclosure agreement") {
		t.Fatalf("request form: %d", page.status)
	}
	form := url.Values{"name": {"Dana Reviewer"}, "email": {email}, "company": {company}, "role": {"Security analyst"},
		"reason": {"Vendor review"}, "nda_version": {"1"}, "accept_nda": {"true"}, "policies": policies}
	if r := visitor.post("/trust/request", form); r.status != http.StatusOK || !strings.Contains(r.body, "Check your email") {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	e.deliver(smtp)
	_, body := parseMail(t, mb.For(email)[len(mb.For(email))-1])
	confirm := linkOf(t, body, "/trust/request/confirm/")
	if r := visitor.postRaw(confirm, url.Values{}, nil); r.status != http.StatusOK || !strings.Contains(r.body, "Request confirmed") {
		t.Fatalf("confirm: %d", r.status)
	}
	e.deliver(smtp)
}

// approveNewest approves the newest pending request in the dashboard and
// returns the packet link emailed to the requester.
func approveNewest(t *testing.T, e *env, smtp notify.SMTP, mb *notifytest.Mailbox, email string, form url.Values) string {
	t.Helper()
	code, list := e.api("editor", http.MethodGet, "/api/v1/packet-requests?status=pending", nil)
	items := list["items"].([]any)
	if code != http.StatusOK || len(items) == 0 {
		t.Fatalf("queue: %d %v", code, list)
	}
	id := int64(items[0].(map[string]any)["id"].(float64))
	ed := e.browser().login("editor")
	if r := ed.post(fmt.Sprintf("/app/packets/requests/%d/approve", id), form); r.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	e.deliver(smtp)
	mails := mb.For(email)
	_, body := parseMail(t, mails[len(mails)-1])
	return packetPath(t, body)
}

func packetPath(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, "http://charter.test/p/")
	if i < 0 {
		t.Fatalf("no packet link in %q", body)
	}
	return strings.TrimPrefix(strings.Fields(body[i:])[0], "http://charter.test")
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestPacketRequestToVerifiedDownload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		mb, smtp := notifytest.Start(t)
		requestPacket(t, e, smtp, mb, "dana@customer.example")
		if len(mb.For("editor@example.com")) != 1 {
			t.Fatal("the team was not told of the request")
		}
		link := approveNewest(t, e, smtp, mb, "dana@customer.example", url.Values{"expiry_days": {"30"}})

		recipient := e.browser()
		page := recipient.get(link)
		// The NDA accepted on the request form holds: the page does not ask
		// again.
		if page.status != http.StatusOK || !strings.Contains(page.body, "Dana Reviewer") || strings.Contains(page.body, "accept-nda") {
			t.Fatalf("packet page: %d", page.status)
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"} {
			if page.header.Get(h) != want {
				t.Errorf("%s: %q", h, page.header.Get(h))
			}
		}
		pdf := recipient.get(link + "/packet.pdf")
		if pdf.status != http.StatusOK || pdf.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.body, "%PDF-") {
			t.Fatalf("download: %d %s", pdf.status, pdf.header.Get("Content-Type"))
		}
		one := recipient.get(link + "/policies/backup.pdf")
		if one.status != http.StatusOK || !strings.HasPrefix(one.body, "%PDF-") {
			t.Fatalf("one policy: %d", one.status)
		}
		manifest := recipient.get(link + "/manifest.json")
		var signed packetManifest
		if err := json.Unmarshal([]byte(manifest.body), &signed); err != nil || len(signed.Files) != 21 {
			t.Fatalf("manifest: %v %s", err, manifest.body)
		}
		if signed.Files[0].Name != "packet.pdf" || signed.Files[0].SHA256 != sha256Hex([]byte(pdf.body)) {
			t.Fatal("the manifest's hash does not match the downloaded file")
		}
		checkPDFText(t, []byte(pdf.body), "dana@customer.example")

		// A new NDA version is asked for on the packet page before the
		// next download.
		admin := e.browser().login("admin")
		if r := admin.post("/app/packets/nda", url.Values{"body": {strings.Repeat("The recipient keeps these documents confidential. ", 3)}}); r.status != http.StatusSeeOther {
			t.Fatalf("publish NDA: %d %s", r.status, r.body)
		}
		if r := recipient.get(link); !strings.Contains(r.body, "accept-nda") {
			t.Fatal("a new NDA version is not asked for")
		}
		if r := recipient.get(link + "/policies/backup.pdf"); r.status != http.StatusForbidden {
			t.Fatalf("download before the new NDA: %d", r.status)
		}
		if r := recipient.postRaw(link+"/nda", url.Values{"nda_version": {"2"}, "accept_nda": {"yes"}}, nil); r.status != http.StatusSeeOther {
			t.Fatalf("accept NDA: %d %s", r.status, r.body)
		}

		// /trust/verify: the issued file verifies, a changed byte does not.
		verify := func(data []byte) response {
			v := e.browser()
			v.get("/trust/verify")
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			w.WriteField("csrf", v.csrf())
			fw, _ := w.CreateFormFile("file", "packet.pdf")
			fw.Write(data)
			w.Close()
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/trust/verify", &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			return v.do(req)
		}
		if r := verify([]byte(pdf.body)); r.status != http.StatusOK || !strings.Contains(r.body, "Issued by PostHog") || !strings.Contains(r.body, "dana@customer.example") {
			t.Fatalf("verify issued: %d %s", r.status, r.body)
		}
		changed := []byte(pdf.body)
		changed[len(changed)/3] ^= 0x01
		if r := verify(changed); !strings.Contains(r.body, "Not issued by PostHog") {
			t.Fatalf("verify changed: %d", r.status)
		}

		// The packet page in the dashboard lists every access; revoking
		// takes effect on the very next request.
		ed := e.browser().login("editor")
		pid := signedPacketID(t, manifest.body)
		if r := ed.get("/app/packets/" + pid); !strings.Contains(r.body, "Downloaded") || !strings.Contains(r.body, "manifest.json") {
			t.Fatal("the access log is not on the packet page")
		}
		if r := ed.post("/app/packets/"+pid+"/revoke", nil); r.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.status)
		}
		// A withdrawn link serves nothing of the packet: it says so, in the
		// company's name, and offers to request the same again.
		for _, path := range []string{link, link + "/packet.pdf", link + "/manifest.json", link + "/manifest.sig"} {
			r := recipient.get(path)
			if r.status != http.StatusGone || !strings.Contains(r.body, "withdrawn") || !strings.Contains(r.body, "PostHog") ||
				strings.Contains(r.body, "%PDF") || strings.Contains(r.body, "sha256") {
				t.Fatalf("%s after revoking: %d %s", path, r.status, r.body)
			}
			if !strings.Contains(r.body, `id="request-again" href="/trust/request?company=Customer&#43;Ltd&amp;email=dana%40customer.example&amp;name=Dana&#43;Reviewer&amp;policies=acceptable-use`) {
				t.Fatalf("%s: no request again link: %s", path, r.body)
			}
		}
	})
}

func signedPacketID(t *testing.T, manifest string) string {
	var m packetManifest
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	return m.PacketID
}

// checkPDFText runs pdftotext: the recipient's email on every page, the
// contents and all twenty titles.
func checkPDFText(t *testing.T, pdf []byte, email string) {
	t.Helper()
	pages := pdfPagesContain(t, pdf, email)
	if pages == nil {
		return
	}
	if !strings.Contains(pages[1], "Contents") {
		t.Error("no table of contents")
	}
	for _, title := range []string{"Acceptable Use Policy", "Asset Management Policy", "Backup Policy", "Business Continuity Plan", "Code of Conduct",
		"Data Classification Policy", "Data Deletion Policy", "Data Protection Policy", "Disaster Recovery Plan", "Encryption Policy",
		"Incident Response Plan", "Information Security Policy", "Password Policy", "Physical Security Policy", "Responsible Disclosure Policy",
		"Risk Assessment Policy", "Software Development Lifecycle Policy", "System Access Control Policy", "Vendor Management Policy",
		"Vulnerability Management Policy"} {
		if !strings.Contains(pages[1], title) {
			t.Errorf("the contents lack %s", title)
		}
	}
}

func TestPacketDownloadLimitAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		mb, smtp := notifytest.Start(t)
		requestPacket(t, e, smtp, mb, "lee@customer.example", "backup")
		link := approveNewest(t, e, smtp, mb, "lee@customer.example", url.Values{"expiry_days": {"7"}, "download_limit": {"5"}})
		recipient := e.browser()
		recipient.get(link)
		recipient.postRaw(link+"/nda", url.Values{"nda_version": {"1"}, "accept_nda": {"yes"}}, nil)
		var ok, gone atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				resp, err := http.Get(e.ts.URL + link + "/packet.pdf")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusGone:
					gone.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 5 || gone.Load() != 15 {
			t.Fatalf("%d succeeded, %d refused; want 5 and 15", ok.Load(), gone.Load())
		}
		// Out-of-range decisions are refused by field.
		requestPacket(t, e, smtp, mb, "max@customer.example")
		_, list := e.api("editor", http.MethodGet, "/api/v1/packet-requests?status=pending", nil)
		id := int64(list["items"].([]any)[0].(map[string]any)["id"].(float64))
		code, body := e.api("editor", http.MethodPost, fmt.Sprintf("/api/v1/packet-requests/%d/approve", id), map[string]any{"expiry_days": 120})
		if code != http.StatusUnprocessableEntity || body["error"].(map[string]any)["fields"].(map[string]any)["expiry_days"] == nil {
			t.Fatalf("120 days: %d %v", code, body)
		}
		code, body = e.api("editor", http.MethodPost, fmt.Sprintf("/api/v1/packet-requests/%d/deny", id), map[string]any{"reason": "Not a customer"})
		if code != http.StatusOK || body["status"] != "denied" {
			t.Fatalf("deny: %d %v", code, body)
		}
		// Another packet expires after its days.
		requestPacket(t, e, smtp, mb, "kim@customer.example")
		link2 := approveNewest(t, e, smtp, mb, "kim@customer.example", url.Values{"expiry_days": {"1"}})
		if r := e.browser().get(link2); r.status != http.StatusOK {
			t.Fatalf("fresh link: %d", r.status)
		}
		e.clock.Advance(25 * time.Hour)
		if r := e.browser().get(link2); r.status != http.StatusGone {
			t.Fatalf("expired link: %d", r.status)
		}
	})
}
