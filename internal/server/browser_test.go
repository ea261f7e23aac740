package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
// connections. It ends with the test: no fixed deadline of its own, so a
// loaded machine is slower but never fails (go test -timeout bounds it).
func browserContext(t *testing.T) context.Context {
	opts := []cdp.ExecAllocatorOption{
		cdp.ExecPath(chromium(t)), cdp.Headless, cdp.NoSandbox, cdp.DisableGPU, cdp.NoFirstRun, cdp.NoDefaultBrowserCheck,
		cdp.Flag("disable-background-networking", true), cdp.Flag("disable-component-update", true),
		cdp.Flag("disable-sync", true), cdp.Flag("disable-quic", true), cdp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := cdp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := cdp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	return ctx
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

	// The customer opens the link, accepts the NDA and downloads the PDF.
	dir := t.TempDir()
	progress := cdp.Events(ctx, cdpbrowser.DownloadProgress)
	err = cdp.Do(ctx,
		cdp.Navigate(e.ts.URL+link),
		cdp.WaitVisible(`#accept-nda`),
		cdp.Click(`input[name="accept_nda"]`),
		cdp.Click(`#accept-nda`),
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
