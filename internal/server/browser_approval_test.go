package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store/storetest"
	cdp "github.com/chromedp/chromedp"
)

// signIn signs the browser of ctx in as email and waits until a signed-in
// page (one with the sign-out form) has loaded.
func signIn(ctx context.Context, base, email string) error {
	return cdp.Do(ctx,
		cdp.Navigate(base+"/app/"),
		cdp.WaitVisible(`input[name="email"]`),
		cdp.SendKeys(`input[name="email"]`, email),
		cdp.SendKeys(`input[name="password"]`, testPassword),
		cdp.Submit(`input[name="password"]`),
		cdp.WaitReady(`form[action="/logout"]`),
	)
}

// Issue 21's first "Done when": editor A submits a draft; editor B finds
// it in "waiting for you" and has an email; A is offered no Approve
// button; B approves from the list and the version is approved.
func TestBrowserDraftReachesAnotherEditor(t *testing.T) {
	ctxA := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))
	editorA, editorB := e.emails["editor"], e.emails["editor2"]

	err := signIn(ctxA, e.ts.URL, editorA)
	if err == nil {
		err = cdp.Do(ctxA,
			cdp.Navigate(e.ts.URL+"/app/policies/backup/versions/new"),
			cdp.WaitVisible(`#change_summary`),
			cdp.SendKeys(`#change_summary`, "Hourly snapshots"),
			cdp.SendKeys(`#body`, "\nSnapshots are taken hourly.\n"),
			cdp.Click(`input[name="material"][value="minor"]`),
			cdp.SetValue(`#approver`, editorB),
			cdp.Click(`form.editor button:not([name="preview"])`),
			cdp.WaitVisible(`.flash`),
		)
	}
	if err != nil {
		t.Fatalf("A submitting the draft: %v", err)
	}
	loc, err := cdp.Run(ctxA, cdp.Location())
	if err != nil || !strings.HasSuffix(loc, "/app/policies/backup/versions/1.1") {
		t.Fatalf("after submitting at %q (%v)", loc, err)
	}
	approveForms := `document.querySelectorAll('form[action$="/approve"]').length`
	if n, err := cdp.Run(ctxA, cdp.Evaluate[int](approveForms)); err != nil || n != 0 {
		t.Fatalf("the author is offered %d Approve button(s) (%v)", n, err)
	}

	var mail []notify.Message
	if err := e.st.DB.Where("kind = ?", "approval_request").Find(&mail).Error; err != nil {
		t.Fatal(err)
	}
	if len(mail) != 1 || mail[0].ToAddr != editorB || !strings.Contains(mail[0].Body, "/app/policies/backup/versions/1.1") {
		t.Fatalf("approval emails %+v, want one to %s with the link", mail, editorB)
	}

	// B signs in in a browser context of their own (own cookies).
	ctxB, cancel := cdp.NewContext(ctxA, cdp.WithNewBrowserContext())
	defer cancel()
	err = signIn(ctxB, e.ts.URL, editorB)
	if err == nil {
		err = cdp.Do(ctxB,
			cdp.Navigate(e.ts.URL+"/app/waiting"),
			cdp.WaitVisible(`#w-approve`),
		)
	}
	if err != nil {
		t.Fatalf("B's waiting list: %v", err)
	}
	item, err := cdp.Run(ctxB, cdp.Text(`section[aria-labelledby="w-approve"] tbody tr`))
	if err != nil || !strings.Contains(item, "Backup Policy 1.1") || !strings.Contains(item, "today") {
		t.Fatalf("waiting item %q (%v)", item, err)
	}
	err = cdp.Do(ctxB,
		cdp.Click(`section[aria-labelledby="w-approve"] form[action="/app/policies/backup/versions/1.1/approve"] button`),
		cdp.WaitVisible(`.flash`),
	)
	if err != nil {
		t.Fatalf("B approving from the list: %v", err)
	}
	loc, err = cdp.Run(ctxB, cdp.Location())
	if err != nil || !strings.HasSuffix(loc, "/app/waiting") {
		t.Fatalf("after approving at %q (%v), want back on the list", loc, err)
	}
	status, body := e.api("viewer", "GET", "/api/v1/policies/backup/versions/1.1", nil)
	if status != 200 || body["status"] != "approved" || body["approved_by"] != editorB {
		t.Fatalf("version after B approved: %d %v", status, body)
	}
}
