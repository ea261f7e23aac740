package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/store/storetest"
	cdp "github.com/chromedp/chromedp"
)

// TestBrowserScreenshots opens the pages README and docs/screenshots show
// (the overview, what waits for you, a list, a form with errors, the employee's
// acknowledgement page, the exceptions, answers and webhooks, a day's
// promises) at 1280×900 as a user would: each must fit the
// screen's width. With CHARTER_UPDATE_DOCS set it writes the screenshots
// to docs/screenshots.
func TestBrowserScreenshots(t *testing.T) {
	ctx := browserContext(t)
	e := newEnv(t, storetest.SQLite(t))
	fillRegisters(t, e)
	if status, _ := e.api("editor", http.MethodPut, "/api/v1/employees/carla@example.com", map[string]any{"name": "Carla Mendes", "start_date": "2025-06-01"}); status != http.StatusCreated {
		t.Fatalf("hire: %d", status)
	}
	link := sendLink2(t, e.browser().login("editor"), "carla@example.com")

	err := cdp.Do(ctx,
		cdp.EmulateViewport(1280, 900),
		cdp.Navigate(e.ts.URL+"/login"),
		cdp.WaitVisible(`input[name="email"]`),
		cdp.SendKeys(`input[name="email"]`, "admin@example.com"),
		cdp.SendKeys(`input[name="password"]`, testPassword),
		cdp.Submit(`input[name="password"]`),
		cdp.WaitVisible(`.who form`),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	shots := []struct {
		file string
		open []cdp.Action[cdp.Void]
	}{
		{"overview.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + "/app/"), cdp.WaitVisible(`h1`)}},
		{"waiting.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + "/app/waiting"), cdp.WaitVisible(`h1`)}},
		{"people.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + "/app/people"), cdp.WaitVisible(`table tbody tr`)}},
		{"form-errors.png", []cdp.Action[cdp.Void]{
			cdp.Navigate(e.ts.URL + "/app/people/new"),
			cdp.WaitVisible(`#email`),
			cdp.SendKeys(`#email`, "legal@acme"),
			cdp.Submit(`#email`),
			cdp.WaitVisible(`.form-summary`),
		}},
		{"acknowledgement.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + link), cdp.WaitVisible(`details.ack-policy`)}},
		{"exceptions.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + "/app/exceptions"), cdp.WaitVisible(`table tbody tr`)}},
		{"answers.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + "/app/answers"), cdp.WaitVisible(`table tbody tr`)}},
		{"webhooks.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + "/app/webhooks"), cdp.WaitVisible(`h1`)}},
		{"trust-as-of.png", []cdp.Action[cdp.Void]{cdp.Navigate(e.ts.URL + "/trust/as-of/" + e.clock.Now().Format(time.DateOnly)), cdp.WaitVisible(`h1`)}},
	}
	for _, s := range shots {
		if err := cdp.Do(ctx, s.open...); err != nil {
			t.Fatalf("%s: %v", s.file, err)
		}
		overflow, err := cdp.Run(ctx, cdp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatalf("%s: %v", s.file, err)
		}
		png, err := cdp.Run(ctx, cdp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("%s: %v", s.file, err)
		}
		if overflow {
			t.Errorf("%s: the page is wider than 1280 px", s.file)
		}
		if len(png) < 1000 {
			t.Errorf("%s: a screenshot of %d bytes", s.file, len(png))
		}
		if os.Getenv("CHARTER_UPDATE_DOCS") != "" {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", s.file), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
