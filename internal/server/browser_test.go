package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store/storetest"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdp "github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// chromium returns Debian's chromium, or skips: .ci/run installs it and
// sets CHARTER_REQUIRE_BROWSER so that CI fails instead of skipping.
func chromium(t *testing.T) string {
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CHARTER_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is not installed but CHARTER_REQUIRE_BROWSER is set")
		}
		t.Skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
	}
	return p
}

// browserContext starts a headless Chromium that makes no outside
// connections. It has no fixed deadline of its own, so a loaded machine is
// slower but never fails. A step that waits for what never comes (a click
// lost to a navigation, a page that answered an error) would still wait
// until go test's -timeout, which prints goroutines but not the test or
// the page: so the steps stop hangMargin before that deadline, the test
// fails, and its cleanup logs the page the tab was on.
func browserContext(t *testing.T) context.Context {
	// chromedp's defaults (after Puppeteer's) keep a headless browser
	// steady on a loaded or small machine: shared memory in /tmp rather
	// than a container's small /dev/shm, where a full one crashes the
	// renderer and leaves the page blank; no throttling of background
	// tabs or their timers; no hang monitor.
	opts := append(slices.Clone(cdp.DefaultExecAllocatorOptions[:]),
		cdp.ExecPath(chromium(t)), cdp.NoSandbox, cdp.DisableGPU,
		cdp.Flag("disable-component-update", true), cdp.Flag("disable-quic", true), cdp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := cdp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := cdp.NewContext(actx)
	// Started on the tab's own context: the browser lives as long as it.
	if err := cdp.Do(tab); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancelSteps := tab, context.CancelFunc(func() {})
	if deadline, ok := t.Deadline(); ok {
		ctx, cancelSteps = context.WithDeadline(tab, deadline.Add(-hangMargin))
	}
	t.Cleanup(func() {
		if t.Failed() {
			logPage(t, tab)
		}
		cancelSteps()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// hangMargin is what is left, after a browser step gave up, for the
// failing test's cleanup and the tests after it (each of which then gives
// up at once) to end and print their results.
const hangMargin = 2 * time.Minute

// logPage logs the address and text of the page a failed test's tab is on.
// It is a diagnosis, so it gets a bound of its own.
func logPage(t *testing.T, tab context.Context) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	url, err := cdp.Run(ctx, cdp.Location())
	if err != nil {
		t.Logf("the browser's page could not be read: %v", err)
		return
	}
	text, err := cdp.Run(ctx, cdp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		t.Logf("the browser was on %s, whose text could not be read: %v", url, err)
		return
	}
	if len(text) > 1500 {
		text = text[:1500] + " …"
	}
	// The address last: CI shows a failure's last lines.
	t.Logf("the page showed:\n%s", text)
	t.Logf("%s failed with the browser on %s", t.Name(), url)
}

func TestBrowserSignInReadAndDraft(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))

	err := cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+"/app/policies"),
		cdp.WaitVisible(`input[name="email"]`),
		cdp.SendKeys(`input[name="email"]`, "editor@example.com"),
		cdp.SendKeys(`input[name="password"]`, testPassword),
		cdp.Submit(`input[name="password"]`),
		cdp.WaitVisible(`table tbody tr`),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	loc, err := cdp.Run(ctx, cdp.Location())
	if err != nil || !strings.HasSuffix(loc, "/app/policies") {
		t.Fatalf("after sign-in at %q (%v), want the page asked for", loc, err)
	}
	rows, err := cdp.Run(ctx, cdp.Evaluate[int](`document.querySelectorAll("table tbody tr").length`))
	if err != nil || rows != 20 {
		t.Fatalf("%d policy rows (%v), want 20", rows, err)
	}
	// The stylesheet loads under the CSP.
	border, err := cdp.Run(ctx, cdp.Evaluate[string](`getComputedStyle(document.querySelector("header.top")).borderBottomStyle`))
	if err != nil || border != "solid" {
		t.Fatalf("stylesheet not applied: %q %v", border, err)
	}

	err = cdp.Do(ctx,
		cdp.Click(`a[href="/app/policies/backup"]`),
		cdp.WaitVisible(`code.hash`),
	)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := cdp.Run(ctx, cdp.Text(`code.hash`))
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(strings.TrimSpace(hash)) {
		t.Fatalf("policy page hash %q (%v)", hash, err)
	}

	err = cdp.Do(ctx,
		cdp.Click(`a[href="/app/policies/backup/versions/new"]`),
		cdp.WaitVisible(`#change_summary`),
		cdp.SendKeys(`#change_summary`, "Monthly restore tests"),
		cdp.SendKeys(`#body`, "\nRestores are tested monthly.\n"),
		cdp.Click(`input[name="material"][value="minor"]`),
		cdp.Click(`form.editor button:not([name="preview"])`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("saving a draft: %v", err)
	}
	flash, err := cdp.Run(ctx, cdp.Text(`.flash`))
	if err != nil || !strings.Contains(flash, "Draft 1.1 saved") {
		t.Fatalf("flash %q (%v)", flash, err)
	}
}

func TestBrowserAcknowledgeOnAPhone(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))
	link := sendLink(t, e, e.browser().login("editor"), "ana@example.com")

	err := cdp.Do(ctx,
		cdp.EmulateViewport(390, 844, cdp.EmulateScale(3)),
		cdp.Navigate(e.ts.URL+link),
		cdp.WaitVisible(`details.ack-policy[open] input[name="agree"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing overflows the phone's width.
	overflow, err := cdp.Run(ctx, cdp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Fatalf("page wider than the phone (%v)", err)
	}
	err = cdp.Do(ctx,
		cdp.Click(`details.ack-policy[open] input[name="agree"]`),
		cdp.Click(`details.ack-policy[open] button[type="submit"]`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatal(err)
	}
	flash, err := cdp.Run(ctx, cdp.Text(`.flash`))
	if err != nil || !strings.Contains(flash, "acknowledgement is recorded") {
		t.Fatalf("flash %q (%v)", flash, err)
	}
	var n int64
	e.st.DB.Table("acknowledgements").Where("method = 'link'").Count(&n)
	if n != 1 {
		t.Fatalf("%d acknowledgements recorded", n)
	}

	// A material change to that policy: on the phone, Ana sees what
	// changed since her version, then acknowledges all 20 at once.
	var slug, body string
	e.st.DB.Table("acknowledgements a").Joins("JOIN policies p ON p.id = a.policy_id").Select("p.slug").Scan(&slug)
	e.st.DB.Table("policy_versions v").Joins("JOIN policies p ON p.id = v.policy_id").Where("p.slug = ?", slug).Select("v.body").Scan(&body)
	lines := strings.Split(body, "\n")
	lines[len(lines)/2] = "A new rule, long enough to need wrapping on a phone: " + strings.Repeat("every team member reads it in full ", 6)
	base := "/api/v1/policies/" + slug + "/versions"
	if status, b := e.api("editor", http.MethodPost, base, map[string]any{"body": strings.Join(lines, "\n"), "change_summary": "A new rule", "material": true}); status != http.StatusCreated {
		t.Fatalf("draft: %d %v", status, b)
	}
	e.api("editor2", http.MethodPost, base+"/2.0/approve", nil)
	if status, b := e.api("admin", http.MethodPost, base+"/2.0/publish", nil); status != http.StatusOK {
		t.Fatalf("publish: %d %v", status, b)
	}
	changed := `details#` + slug
	if err = cdp.Do(ctx, cdp.Navigate(e.ts.URL+link), cdp.WaitVisible(`details.ack-policy[open]`)); err != nil {
		t.Fatal(err)
	}
	if open, err := cdp.Run(ctx, cdp.Evaluate[bool](`document.querySelector("`+changed+`").open`)); err != nil {
		t.Fatal(err)
	} else if !open {
		if err := cdp.Do(ctx, cdp.Click(changed+` > summary`)); err != nil {
			t.Fatal(err)
		}
	}
	if err = cdp.Do(ctx, cdp.WaitVisible(changed+` table.ack-diff tr.d-add`)); err != nil {
		t.Fatal(err)
	}
	text, err := cdp.Run(ctx, cdp.Text(changed+` .ack-changes`))
	if err != nil || !strings.Contains(text, "What changed since version 1.0") || !strings.Contains(text, "2.0: A new rule") || !strings.Contains(text, "unchanged lines") {
		t.Fatalf("what changed reads %q (%v)", text, err)
	}
	overflow, err = cdp.Run(ctx, cdp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Fatalf("the diff makes the page wider than the phone (%v)", err)
	}
	err = cdp.Do(ctx,
		cdp.Click(`#all input[name="agree"]`),
		cdp.Click(`#all button[type="submit"]`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if flash, err := cdp.Run(ctx, cdp.Text(`.flash`)); err != nil || !strings.Contains(flash, "acknowledgements of 20 policies are recorded") {
		t.Fatalf("flash after acknowledging all %q (%v)", flash, err)
	}
	e.st.DB.Table("acknowledgements").Where("method = 'link'").Count(&n)
	if n != 21 {
		t.Fatalf("%d acknowledgements recorded, want 21", n)
	}
}

func TestBrowserTrustPageSubscribeAndConfirm(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))
	e.seedPrivacy()
	mb, smtp := notifytest.Start(t)

	err := cdp.Do(ctx,
		cdp.EmulateViewport(390, 844, cdp.EmulateScale(3)),
		cdp.Navigate(e.ts.URL+"/trust"),
		cdp.WaitVisible(`#subprocessors`),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, err := cdp.Run(ctx, cdp.Text(`main`))
	if err != nil || !strings.Contains(text, "SOC 2 Type 1") || !strings.Contains(text, "Charles Cook") || !strings.Contains(text, "Amazon Web Services") {
		t.Fatalf("/trust reads %q (%v)", text, err)
	}
	overflow, err := cdp.Run(ctx, cdp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Fatalf("/trust is wider than the phone (%v)", err)
	}
	err = cdp.Do(ctx,
		cdp.Click(`#subprocessors a[href="/trust/subprocessors"]`),
		cdp.WaitVisible(`#current`),
		cdp.Click(`a[href="/trust/subscribe"]`),
		cdp.WaitVisible(`#email`),
		cdp.SendKeys(`#email`, "reviewer@customer.example"),
		cdp.Submit(`#email`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("subscribing: %v", err)
	}
	if flash, _ := cdp.Run(ctx, cdp.Text(`.flash`)); !strings.Contains(flash, "confirmation link") {
		t.Fatalf("after subscribing: %q", flash)
	}
	e.deliver(smtp)
	mails := mb.For("reviewer@customer.example")
	if len(mails) != 1 {
		t.Fatalf("%d confirmation emails", len(mails))
	}
	_, body := parseMail(t, mails[0])
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+linkOf(t, body, "/trust/subscribe/confirm/")),
		cdp.WaitVisible(`main form button`),
		cdp.Click(`main form button`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("confirming: %v", err)
	}
	if h, _ := cdp.Run(ctx, cdp.Text(`h1`)); h != "Subscription confirmed" {
		t.Fatalf("after confirming: %q", h)
	}
	var confirmed int64
	e.st.DB.Table("subscribers").Where("email = ? AND confirmed_at IS NOT NULL", "reviewer@customer.example").Count(&confirmed)
	if confirmed != 1 {
		t.Fatal("the subscription is not confirmed in the database")
	}
}

func TestBrowserPolicyPacketFromRequestToDownload(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))
	mb, smtp := notifytest.Start(t)

	// The customer asks for the policies.
	err := cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+"/trust"),
		cdp.Click(`#policies a[href="/trust/request"]`),
		cdp.WaitVisible(`#name`),
		cdp.SendKeys(`#name`, "Dana Reviewer"),
		cdp.SendKeys(`#email`, "dana@customer.example"),
		cdp.SendKeys(`#company`, "Customer Ltd"),
		cdp.SendKeys(`#reason`, "Annual vendor review"),
		cdp.Click(`input[name="accept_nda"]`),
		cdp.Submit(`#name`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("requesting: %v", err)
	}
	e.deliver(smtp)
	_, body := parseMail(t, mb.For("dana@customer.example")[0])
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+linkOf(t, body, "/trust/request/confirm/")),
		cdp.WaitVisible(`main form button`),
		cdp.Click(`main form button`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("confirming: %v", err)
	}

	// An editor approves it in the dashboard.
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+"/app/packets"),
		cdp.WaitVisible(`input[name="email"]`),
		cdp.SendKeys(`input[name="email"]`, "editor@example.com"),
		cdp.SendKeys(`input[name="password"]`, testPassword),
		cdp.Submit(`input[name="password"]`),
		cdp.WaitVisible(`a[href^="/app/packets/requests/"]`),
		cdp.Click(`a[href^="/app/packets/requests/"]`),
		cdp.WaitVisible(`#approve`),
		cdp.Click(`#approve`),
		cdp.WaitVisible(`#revoke`),
	)
	if err != nil {
		t.Fatalf("approving: %v", err)
	}
	e.deliver(smtp)
	mails := mb.For("dana@customer.example")
	_, body = parseMail(t, mails[len(mails)-1])
	link := packetPath(t, body)

	// The customer opens the link and downloads the PDF: the NDA was
	// accepted with the request, once.
	dir := t.TempDir()
	progress := cdp.Events(ctx, cdpbrowser.DownloadProgress)
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+link),
		cdp.WaitVisible(`#download-packet`),
		cdp.Func(func(ctx context.Context, _ *cdp.Target) error {
			_, err := cdp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &[]bool{true}[0]})
			return err
		}),
		cdp.Click(`#download-packet`),
	)
	if err != nil {
		t.Fatalf("downloading: %v", err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatal(err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
	}
	pdf, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("downloaded %d bytes: %v", len(pdf), err)
	}
	checkPDFText(t, pdf, "dana@customer.example")
	manifest := e.browser().get(link + "/manifest.json")
	if !strings.Contains(manifest.body, sha256Hex(pdf)) {
		t.Fatal("the manifest does not list the downloaded file's SHA-256")
	}
}

func TestBrowserSignInWithTOTP(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t), requireMFA)
	secret, codes := enrolForTest(t, e, e.users, "editor@example.com")
	e.clock.Advance(30 * time.Second)

	signIn := func(code string) string {
		t.Helper()
		err := cdp.Do(ctx,
			cdp.Navigate(e.ts.URL+"/login"),
			cdp.WaitVisible(`input[name="email"]`),
			cdp.SendKeys(`input[name="email"]`, "editor@example.com"),
			cdp.SendKeys(`input[name="password"]`, testPassword),
			cdp.Submit(`input[name="password"]`),
			cdp.WaitVisible(`#code`),
			cdp.SendKeys(`#code`, code),
			cdp.Submit(`#code`),
			// The dashboard's header, or the code page's error.
			cdp.WaitVisible(cdp.CSS(`.who, .error-message`)),
		)
		if err != nil {
			t.Fatalf("signing in: %v", err)
		}
		loc, err := cdp.Run(ctx, cdp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	signOut := func() {
		t.Helper()
		if err := cdp.Do(ctx, cdp.Click(`.who form button`), cdp.WaitVisible(`input[name="email"]`)); err != nil {
			t.Fatalf("signing out: %v", err)
		}
	}
	code, _ := totp.GenerateCode(secret, e.clock.Now())
	if loc := signIn(code); !strings.HasSuffix(loc, "/app/") {
		t.Fatalf("with a fresh code the browser is at %s", loc)
	}
	signOut()
	if loc := signIn(code); !strings.HasSuffix(loc, "/login/mfa") {
		t.Fatalf("a replayed code led to %s", loc)
	}
	if msg, _ := cdp.Run(ctx, cdp.Text(`.error-message`)); !strings.Contains(msg, "already used") {
		t.Fatalf("replay message %q", msg)
	}
	if loc := signIn(codes[3]); !strings.HasSuffix(loc, "/app/") {
		t.Fatalf("a recovery code led to %s", loc)
	}
	signOut()
	if loc := signIn(codes[3]); !strings.HasSuffix(loc, "/login/mfa") {
		t.Fatalf("a used recovery code led to %s", loc)
	}
}

// downloadByClick clicks selector on the current page and returns the
// file the browser saved.
func downloadByClick(t *testing.T, ctx context.Context, selector string) []byte {
	t.Helper()
	dir := t.TempDir()
	progress := cdp.Events(ctx, cdpbrowser.DownloadProgress)
	err := cdp.Do(ctx,
		cdp.Func(func(ctx context.Context, _ *cdp.Target) error {
			_, err := cdp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &[]bool{true}[0]})
			return err
		}),
		cdp.Click(selector),
	)
	if err != nil {
		t.Fatalf("clicking %s: %v", selector, err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return b
		case cdpbrowser.DownloadProgressStateCanceled:
			t.Fatalf("the download of %s was cancelled", selector)
		}
	}
	t.Fatalf("no download from %s", selector)
	return nil
}

// The scenario: an editor uploads a SOC 2 report "on request"; a
// prospect requests it with two policies, confirms by email, is approved,
// accepts the NDA once (with the request), downloads the stamped report
// and the policies; the manifest lists all three with matching SHA-256
// and /trust/verify identifies each.
func TestBrowserDocumentPacketFromUploadToVerify(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))
	mb, smtp := notifytest.Start(t)
	report := filepath.Join(t.TempDir(), "soc2-report.pdf")
	if err := os.WriteFile(report, documenttest.PDF(t, "SOC 2 Type II report", 3), 0o600); err != nil {
		t.Fatal(err)
	}
	today := e.clock.Now().Format(time.DateOnly)

	// The editor uploads the report as "on request".
	err := cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+"/app/documents/new"),
		cdp.WaitVisible(`input[name="email"]`),
		cdp.SendKeys(`input[name="email"]`, "editor@example.com"),
		cdp.SendKeys(`input[name="password"]`, testPassword),
		cdp.Submit(`input[name="password"]`),
		cdp.WaitVisible(`#title`),
		cdp.SetValue(`#title`, "SOC 2 Type II report"),
		cdp.SetValue(`#owner_email`, "compliance@example.com"),
		cdp.Click(`input[name="access"][value="on_request"]`),
		cdp.SetValue(`#version`, "2026"),
		cdp.SetValue(`#issued_on`, today),
		cdp.SetValue(`#valid_until`, e.clock.Now().AddDate(1, 0, 0).Format(time.DateOnly)),
		cdp.SetUploadFiles(`#file`, []string{report}),
		cdp.Submit(`#title`),
		cdp.WaitNotPresent(`#file`),
	)
	if err != nil {
		t.Fatalf("uploading: %v", err)
	}

	// The prospect follows /trust's link and adds two policies.
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+"/trust"),
		cdp.Click(`a[href="/trust/request?document=soc-2-type-ii-report"]`),
		cdp.WaitVisible(`#name`),
		cdp.SendKeys(`#name`, "Dana Reviewer"),
		cdp.SendKeys(`#email`, "dana@customer.example"),
		cdp.SendKeys(`#company`, "Customer Ltd"),
		cdp.Click(`input[name="policies"][value="backup"]`),
		cdp.Click(`input[name="policies"][value="encryption"]`),
		cdp.Click(`input[name="accept_nda"]`),
		cdp.Submit(`#name`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("requesting: %v", err)
	}
	e.deliver(smtp)
	_, body := parseMail(t, mb.For("dana@customer.example")[0])
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+linkOf(t, body, "/trust/request/confirm/")),
		cdp.WaitVisible(`main form button`),
		cdp.Click(`main form button`),
		cdp.WaitVisible(`.flash`),
		// The editor (signed in above) approves it, with a limit of 2
		// downloads per file.
		cdp.Navigate(e.ts.URL+"/app/packets"),
		cdp.WaitVisible(`a[href^="/app/packets/requests/"]`),
		cdp.Click(`a[href^="/app/packets/requests/"]`),
		cdp.WaitVisible(`#approve`),
		cdp.SendKeys(`#download_limit`, "2"),
		cdp.Click(`#approve`),
		cdp.WaitVisible(`#revoke`),
	)
	if err != nil {
		t.Fatalf("confirming and approving: %v", err)
	}
	e.deliver(smtp)
	mails := mb.For("dana@customer.example")
	_, body = parseMail(t, mails[len(mails)-1])
	link := packetPath(t, body)

	// No second NDA: the downloads are there at once.
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+link),
		cdp.WaitVisible(`#download-soc-2-type-ii-report`),
	)
	nda, nerr := cdp.Run(ctx, cdp.Evaluate[int](`document.querySelectorAll("#accept-nda").length`))
	if err != nil || nerr != nil || nda != 0 {
		t.Fatalf("packet page: %v (NDA asked again: %d)", err, nda)
	}
	files := map[string][]byte{
		"documents/soc-2-type-ii-report.pdf": downloadByClick(t, ctx, `#download-soc-2-type-ii-report`),
		"policies/backup.pdf":                downloadByClick(t, ctx, `a[href$="/policies/backup.pdf"]`),
		"policies/encryption.pdf":            downloadByClick(t, ctx, `a[href$="/policies/encryption.pdf"]`),
	}
	pdfPagesContain(t, files["documents/soc-2-type-ii-report.pdf"], "dana@customer.example")

	var m packetManifest
	if err := json.Unmarshal([]byte(e.browser().get(link+"/manifest.json").body), &m); err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, f := range m.Files {
		listed[f.Name] = f.SHA256
	}
	for name, data := range files {
		if listed[name] != sha256Hex(data) {
			t.Errorf("%s: the manifest says %s, the download is %s", name, listed[name], sha256Hex(data))
		}
	}
	// /trust/verify identifies each file.
	for name, data := range files {
		path := filepath.Join(t.TempDir(), filepath.Base(name))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		err := cdp.Do(ctx,
			cdp.Navigate(e.ts.URL+"/trust/verify"),
			cdp.WaitVisible(`#file`),
			cdp.SetUploadFiles(`#file`, []string{path}),
			cdp.Submit(`#file`),
			cdp.WaitVisible(`#verdict`),
		)
		verdict, _ := cdp.Run(ctx, cdp.Text(`#verdict`))
		if err != nil || !strings.Contains(verdict, "Issued by") || !strings.Contains(verdict, name) || !strings.Contains(verdict, m.PacketID) {
			t.Fatalf("verify %s: %q %v", name, verdict, err)
		}
		if strings.HasPrefix(name, "documents/") && !strings.Contains(verdict, "stamped copy of SOC 2 Type II report, version 2026") {
			t.Fatalf("verify does not name the document: %q", verdict)
		}
	}
}
