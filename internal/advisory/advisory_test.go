package advisory_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/advisory"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/seed"
)

func setup(t *testing.T, st *store.Store) (*advisory.Service, *privacy.Service) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC) }
	orgs := org.NewService(st.DB, now)
	data, _ := seed.Files.ReadFile("organization.yaml")
	profile, _ := org.ParseProfile(data)
	if _, err := orgs.Seed(ctx, audit.System("seed"), profile); err != nil {
		t.Fatal(err)
	}
	fs := files.InDatabase(st.DB)
	priv := privacy.NewService(st.DB, now, fs, orgs, privacy.Settings{BaseURL: "https://charter.test",
		TeamAddresses: func(context.Context) ([]string, error) { return nil, nil }})
	return advisory.NewService(st.DB, now, orgs, priv, advisory.Settings{BaseURL: "https://charter.test", IDPrefix: "POSTHOG-SA"}), priv
}

// Full is an advisory with every field of the seed's template filled.
func Full(incident int64) advisory.Input {
	return advisory.Input{IncidentID: incident, Title: "Stored XSS in dashboard names", Date: "2026-03-08", CVE: "CVE-2026-12345",
		Severity: "medium", Status: "fixed", Description: "A dashboard name could carry a **script**.", AffectedProducts: "Product analytics\nDashboards",
		AffectedRegions: "both", Resolution: "Names are now escaped. See the fix.", FixLinks: "https://github.com/example/repo/pull/1",
		DiscoveredOn: "2026-03-01", ReportedOn: "2026-03-02", FixedOn: "2026-03-03", DisclosedOn: "2026-03-08"}
}

func fieldOf(err error) string {
	e, ok := apperr.As(err)
	if !ok {
		return ""
	}
	for k := range e.Fields {
		return k
	}
	return ""
}

func TestAdvisoryRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, _ := setup(t, st)
		ctx := context.Background()
		by := audit.System("editor@example.com")
		if _, err := svc.Create(ctx, by, Full(0)); fieldOf(err) != "incident_id" || !strings.Contains(err.Error(), "declare an incident first") {
			t.Fatalf("no incident: %v", err)
		}
		inc, err := svc.DeclareIncident(ctx, by, advisory.IncidentInput{Title: "XSS report", Severity: "medium"})
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct {
			edit  func(*advisory.Input)
			field string
		}{
			"malformed CVE":    {func(in *advisory.Input) { in.CVE = "CVE-26-1" }, "cve"},
			"timeline order":   {func(in *advisory.Input) { in.FixedOn = "2026-02-01" }, "fixed_on"},
			"unknown incident": {func(in *advisory.Input) { in.IncidentID = 9999 }, "incident_id"},
			"severity":         {func(in *advisory.Input) { in.Severity = "severe" }, "severity"},
			"region":           {func(in *advisory.Input) { in.AffectedRegions = "APAC" }, "affected_regions"},
			"fix link":         {func(in *advisory.Input) { in.FixLinks = "javascript:alert(1)" }, "fix_links"},
		} {
			in := Full(inc.ID)
			c.edit(&in)
			if _, err := svc.Create(ctx, by, in); fieldOf(err) != c.field {
				t.Errorf("%s: %v, want field %s", name, err, c.field)
			}
		}
		// One step: declare the incident with the advisory.
		in := Full(0)
		in.DeclareIncident = &advisory.IncidentInput{Title: "Dashboard XSS", Severity: "medium"}
		a, err := svc.Create(ctx, by, in)
		if err != nil || a.PublicID != "POSTHOG-SA-2026-0001" || a.Published() {
			t.Fatalf("create: %+v %v", a, err)
		}
		if list, _ := svc.List(ctx, advisory.Filter{PublishedOnly: true}); len(list) != 0 {
			t.Fatal("a draft is listed publicly")
		}
		if _, err := svc.Get(ctx, a.PublicID, true); !apperr.Is(err, apperr.NotFound) {
			t.Fatal("a draft is reachable publicly")
		}
		dup := Full(a.IncidentID)
		if _, err := svc.Create(ctx, by, dup); fieldOf(err) != "cve" {
			t.Fatalf("duplicate CVE: %v", err)
		}
	})
}

func TestPublishTellsSubscribersAndKeepsRevisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, priv := setup(t, st)
		ctx := context.Background()
		anon := audit.Actor{Label: "anonymous"}
		if err := priv.Subscribe(ctx, anon, "reader@customer.example"); err != nil {
			t.Fatal(err)
		}
		var m notify.Message
		st.DB.Where("to_addr = ?", "reader@customer.example").Take(&m)
		token := regexp.MustCompile(`/trust/subscribe/confirm/([A-Za-z0-9_-]{43})`).FindStringSubmatch(m.Body)[1]
		if err := priv.Confirm(ctx, anon, token); err != nil {
			t.Fatal(err)
		}
		by := audit.System("editor@example.com")
		inc, _ := svc.DeclareIncident(ctx, by, advisory.IncidentInput{Title: "XSS", Severity: "medium"})
		a, err := svc.Create(ctx, by, Full(inc.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Publish(ctx, by, a.PublicID); err != nil {
			t.Fatal(err)
		}
		in := Full(inc.ID)
		in.Status = "resolved"
		if _, err := svc.Update(ctx, by, a.PublicID, in); err != nil {
			t.Fatal(err)
		}
		var mails []notify.Message
		st.DB.Where("kind = ?", "advisory").Order("id").Find(&mails)
		if len(mails) != 2 || !strings.Contains(mails[0].Subject, "published") || !strings.Contains(mails[1].Subject, "status changed to resolved") || mails[1].ListUnsubscribe == "" {
			t.Fatalf("emails: %+v", mails)
		}
		// The unsubscribe link in an advisory email works.
		unsub := regexp.MustCompile(`/trust/unsubscribe/([A-Za-z0-9_-]{43})`).FindStringSubmatch(mails[1].ListUnsubscribe)[1]
		if err := priv.Unsubscribe(ctx, anon, unsub); err != nil {
			t.Fatal(err)
		}
		revs, _ := svc.Revisions(ctx, a.ID)
		if len(revs) != 3 {
			t.Fatalf("%d revisions, want 3 (created, published, updated)", len(revs))
		}
		got, _ := svc.Get(ctx, a.PublicID, true)
		o := got.ToOSV("https://charter.test/trust/advisories/" + a.PublicID)
		raw, _ := json.Marshal(o)
		for _, want := range []string{`"schema_version":"1.9.0"`, `"id":"x_POSTHOG-SA-2026-0001"`, `"advisory_id":"POSTHOG-SA-2026-0001"`, `"aliases":["CVE-2026-12345"]`, `"type":"FIX"`, `"severity":"Medium"`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("OSV lacks %s: %s", want, raw)
			}
		}
	})
}

func TestIDPrefixFor(t *testing.T) {
	for company, want := range map[string]string{
		"PostHog":           "POSTHOG-SA",
		"Acme Corp. (GmbH)": "ACMECORPGMBH-SA",
		"42 Labs":           "42LABS-SA",
		"Zoë":               "ZO-SA",
		"":                  "CHARTER-SA",
		"日本":                "CHARTER-SA",
	} {
		if got := advisory.IDPrefixFor(company); got != want {
			t.Errorf("IDPrefixFor(%q) = %q, want %q", company, got, want)
		}
	}
}

// TestVocabulariesPassTheRules: every severity, status and region the
// forms offer passes the inputs' rules.
func TestVocabulariesPassTheRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, _ := setup(t, st)
		ctx := context.Background()
		by := audit.System("editor@example.com")
		var inc *advisory.Incident
		for _, sev := range advisory.Severities {
			for _, status := range advisory.IncidentStatuses {
				i, err := svc.DeclareIncident(ctx, by, advisory.IncidentInput{Title: "I", Severity: sev, Status: status})
				if err != nil {
					t.Fatalf("incident %s %s: %v", sev, status, err)
				}
				inc = i
			}
		}
		for _, status := range advisory.Statuses {
			for _, region := range advisory.Regions {
				in := Full(inc.ID)
				in.CVE, in.Status, in.AffectedRegions = "", status, region
				if _, err := svc.Create(ctx, by, in); err != nil {
					t.Fatalf("advisory %s %s: %v", status, region, err)
				}
			}
		}
		_, err := svc.Create(ctx, by, advisory.Input{IncidentID: inc.ID, Date: "2026-02-30", Severity: "severe", Status: "open", AffectedRegions: "APAC",
			DeclareIncident: &advisory.IncidentInput{}})
		e, _ := apperr.As(err)
		want := []string{"title", "date", "severity", "status", "description", "affected_regions", "fixed_on"}
		if e == nil || len(e.Fields) != len(want) {
			t.Fatalf("fields: %v", err)
		}
		for _, f := range want {
			if e.Fields[f] == "" {
				t.Errorf("no message for %s: %v", f, e.Fields)
			}
		}
		// An incident declared with the advisory names its fields incident_*.
		in := Full(0)
		in.DeclareIncident = &advisory.IncidentInput{Severity: "severe", Status: "open"}
		_, err = svc.Create(ctx, by, in)
		if e, _ := apperr.As(err); e == nil || len(e.Fields) != 3 || e.Fields["incident_title"] != "is required" || e.Fields["incident_severity"] == "" || e.Fields["incident_status"] == "" {
			t.Fatalf("declared incident: %v", err)
		}
		r, err := svc.SubmitReport(ctx, audit.Actor{Label: "anonymous"}, advisory.ReportInput{Email: "Finder@Researcher.example", Summary: "IDOR", Details: "x"}, "")
		if err != nil || r.Email != "finder@researcher.example" {
			t.Fatalf("report: %+v %v", r, err)
		}
		for _, status := range advisory.ReportStatuses {
			if _, err := svc.UpdateReport(ctx, by, r.Reference, advisory.ReportUpdate{Status: status}); err != nil {
				t.Fatalf("triage %s: %v", status, err)
			}
		}
		if _, err := svc.SubmitReport(ctx, audit.Actor{Label: "anonymous"}, advisory.ReportInput{Email: "nobody"}, ""); fieldOf(err) == "" {
			t.Fatalf("empty report: %v", err)
		} else if e, _ := apperr.As(err); len(e.Fields) != 3 || e.Fields["email"] != "must be an email address we can reply to" {
			t.Fatalf("empty report: %v", e.Fields)
		}
	})
}
