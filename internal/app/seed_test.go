package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// make run's demo brings a public SOC 2 report, which the seed's SOC 2
// certification points at, and a document on request, so that a new user
// sees the documents on /trust and can try the request flow at once.
func TestDemoSeedsSampleTrustDocumentsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		cfg := apptest.Config(t)
		cfg.Demo = true
		if err := cfg.Finish(); err != nil {
			t.Fatal(err)
		}
		a, err := app.New(cfg, st, app.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var out bytes.Buffer
		if err := a.Bootstrap(ctx, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "sample trust documents") {
			t.Errorf("bootstrap output does not mention the sample documents:\n%s", out.String())
		}
		shared, err := a.Documents.Shared(ctx)
		if err != nil {
			t.Fatal(err)
		}
		levels := map[string]document.Access{}
		for _, d := range shared {
			levels[d.Slug] = d.Access
		}
		if levels["soc-2-type-1-report"] != document.Public || levels["penetration-test-summary"] != document.OnRequest {
			t.Errorf("shared documents: %v", levels)
		}
		o, err := a.Org.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Certifications) == 0 || o.Certifications[0].DocumentSlug != "soc-2-type-1-report" {
			t.Errorf("the SOC 2 certification does not point at the demo report: %+v", o.Certifications)
		}
		out.Reset()
		if err := a.Bootstrap(ctx, &out); err != nil {
			t.Fatal(err)
		}
		all, err := a.Documents.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || strings.Contains(out.String(), "sample trust documents") {
			t.Errorf("a second bootstrap added documents: %d documents, output:\n%s", len(all), out.String())
		}
	})
}
