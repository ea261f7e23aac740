package org_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/seed"
)

func seedProfile(t *testing.T) *org.Organization {
	data, err := seed.Files.ReadFile("organization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o, err := org.ParseProfile(data)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSeedProfileHasTheSecurityPageFacts(t *testing.T) {
	o := seedProfile(t)
	if o.Name != "PostHog" || o.DPOName != "Charles Cook" || o.DPOTitle != "VP Operations" || o.SecurityEmail != "security@posthog.com" {
		t.Fatalf("profile: %+v", o)
	}
	if len(o.Regions()) != 2 || !strings.Contains(o.Regions()[0], "Germany") {
		t.Fatalf("regions: %v", o.Regions())
	}
	if len(o.LegalEntities) != 1 || o.LegalEntities[0].Name != "Hiberly Ltd." || o.LegalEntities[0].Country != "GB" {
		t.Fatalf("legal entities: %+v", o.LegalEntities)
	}
	if o.LegalEntities[0].Role != "UK entity" || !strings.Contains(o.LegalEntities[0].AuthorityRegistration, "Information Commissioner") {
		t.Fatalf("the UK entity: %+v", o.LegalEntities[0])
	}
	if len(o.GDPRRoles) != 2 || o.GDPRRoles[0].Mode != "PostHog Cloud" || !strings.Contains(o.GDPRRoles[0].Role, "Processor") ||
		!strings.Contains(o.GDPRRoles[1].Statement, "We do not have access to any of their user data") {
		t.Fatalf("GDPR roles: %+v", o.GDPRRoles)
	}
	for name, got := range map[string]string{"ccpa": o.CCPAStatement, "addendum": o.CCPAAddendumURL, "ownership": o.DataOwnership,
		"never sold": o.NeverSold, "report": o.SecurityReport, "reward": o.BountyReward, "approach": o.Approach,
		"best practices": o.BestPractices, "privacy email": o.PrivacyEmail, "dpo email": o.DPOEmail} {
		if got == "" {
			t.Errorf("the seed leaves %s empty", name)
		}
	}
	if !strings.Contains(o.NeverSold, "never sold") || !strings.Contains(o.DataOwnership, "own the data they send") ||
		!strings.Contains(o.CCPAStatement, "Service Provider") || !strings.Contains(o.BountyReward, "swag") {
		t.Errorf("statements: %q %q %q %q", o.NeverSold, o.DataOwnership, o.CCPAStatement, o.BountyReward)
	}
	c := o.Certifications
	if len(c) != 1 || c[0].Framework != "SOC 2" || c[0].Type != "Type 1" || c[0].ReportDate == nil || c[0].ReportDate.Format("2006-01") != "2023-04" {
		t.Fatalf("certifications: %+v", c)
	}
}

func TestParseProfileRefusesBadFiles(t *testing.T) {
	for src, want := range map[string]string{
		"website: x\n":            "name is required",
		"name: X\ncolour: blue\n": "colour",
		"name: [unterminated\n":   "organization profile",
	} {
		if _, err := org.ParseProfile([]byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want mention of %q", src, err, want)
		}
	}
}

func TestSeedOnceKeepsLaterEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := org.NewService(st.DB, func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
		if o, err := svc.Get(ctx); o != nil || !errors.Is(err, org.ErrNoProfile) {
			t.Fatalf("before seeding: %v %v, want ErrNoProfile", o, err)
		}
		if o, err := svc.Current(ctx); err != nil || o.ID != 0 || o.Name != "" {
			t.Fatalf("current before seeding: %+v %v, want an empty profile", o, err)
		}
		if created, err := svc.Seed(ctx, audit.System("seed"), seedProfile(t)); err != nil || !created {
			t.Fatalf("first seed: %v %v", created, err)
		}
		st.DB.Exec("UPDATE organizations SET privacy_email = 'privacy@example.com'")
		if created, err := svc.Seed(ctx, audit.System("seed"), seedProfile(t)); err != nil || created {
			t.Fatalf("second seed: %v %v", created, err)
		}
		o, err := svc.Get(ctx)
		if err != nil || o.PrivacyEmail != "privacy@example.com" || len(o.LegalEntities) != 1 || len(o.Certifications) != 1 {
			t.Fatalf("after second seed: %+v %v", o, err)
		}
	})
}

func TestUpdateReplacesRowsAndChecksDocuments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := org.NewService(st.DB, func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
		if _, err := svc.Seed(ctx, audit.System("seed"), seedProfile(t)); err != nil {
			t.Fatal(err)
		}
		o, _ := svc.Get(ctx)
		certID := o.Certifications[0].ID
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		st.DB.Exec(`INSERT INTO trust_documents (slug, title, kind, access, owner_email, created_at, updated_at)
			VALUES ('soc-2-report', 'SOC 2 report', 'soc2_report', 'on_request', 'ops@example.com', ?, ?)`, now, now)
		in := org.InputOf(o)
		in.GDPRRoles[1].Statement = "Self-hosters keep their data."
		in.GDPRRoles = append(in.GDPRRoles, org.GDPRRoleInput{Mode: "On-premises", Role: "None"})
		in.Certifications[0].Document = "soc-2-report"
		in.LegalEntities = []org.EntityInput{{Name: "PostHog Inc.", Country: "us", RegistrationNumber: "7654321"}}
		in.Certifications[0].Type = "Type 2"
		in.Certifications = append(in.Certifications, org.CertificationRow{Framework: "ISO 27001", ReportDate: "2026-06-01"})
		got, err := svc.Update(ctx, audit.System("admin"), in)
		if err != nil {
			t.Fatal(err)
		}
		o, _ = svc.Get(ctx)
		if len(o.LegalEntities) != 1 || o.LegalEntities[0].Name != "PostHog Inc." || o.LegalEntities[0].Country != "US" {
			t.Fatalf("entities: %+v", o.LegalEntities)
		}
		if len(o.Certifications) != 2 || o.Certifications[0].ID != certID || o.Certifications[0].Type != "Type 2" || o.Certifications[0].DocumentSlug != "soc-2-report" || got.Certifications[0].DocumentSlug != "soc-2-report" {
			t.Fatalf("certifications: %+v", o.Certifications)
		}
		if len(o.GDPRRoles) != 3 || o.GDPRRoles[1].Statement != "Self-hosters keep their data." || o.GDPRRoles[2].Mode != "On-premises" {
			t.Fatalf("GDPR roles: %+v", o.GDPRRoles)
		}
		cases := []struct {
			edit  func(*org.ProfileInput)
			field string
		}{
			{func(in *org.ProfileInput) { in.Name = "" }, "name"},
			{func(in *org.ProfileInput) { in.DPOEmail = "dpo at example" }, "dpo_email"},
			{func(in *org.ProfileInput) { in.DPOName, in.DPOPublic = "", true }, "dpo_name"},
			{func(in *org.ProfileInput) { in.LegalEntities[0].Country = "USA" }, "legal_entities[0].country"},
			{func(in *org.ProfileInput) { in.Certifications[1].ReportDate = "June 2026" }, "certifications[1].report_date"},
			{func(in *org.ProfileInput) { in.Certifications[1].ID = 99999 }, "certifications"},
			{func(in *org.ProfileInput) { in.Certifications[1].Document = "no-such-document" }, "certifications[1].document"},
			{func(in *org.ProfileInput) { in.GDPRRoles[0].Role = "" }, "gdpr_roles[0].role"},
			{func(in *org.ProfileInput) { in.GDPRRoles[1].Mode = in.GDPRRoles[0].Mode }, "gdpr_roles"},
			{func(in *org.ProfileInput) { in.CCPAAddendumURL = "javascript:alert(1)" }, "ccpa_addendum_url"},
			{func(in *org.ProfileInput) { in.BountyReward = strings.Repeat("x", 501) }, "bounty_reward"},
			{func(in *org.ProfileInput) {
				in.LegalEntities = append(in.LegalEntities, org.EntityInput{Name: in.LegalEntities[0].Name, Country: "GB"})
			}, "legal_entities"},
		}
		for _, c := range cases {
			in := org.InputOf(o)
			c.edit(&in)
			_, err := svc.Update(ctx, audit.System("admin"), in)
			e, ok := apperr.As(err)
			if !ok || e.Fields[c.field] == "" {
				t.Errorf("want an error on %s, got %v", c.field, err)
			}
		}
		after, _ := svc.Get(ctx)
		if len(after.LegalEntities) != 1 || len(after.Certifications) != 2 || len(after.GDPRRoles) != 3 {
			t.Fatal("a refused update changed the profile")
		}
	})
}
