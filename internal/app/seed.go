package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/org"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/policies"
	"github.com/charter-registry/charter/seed"
)

// Bootstrap loads the seed (the twenty policies, the organization profile,
// the training course and the NDA), the demo registers when the settings
// ask for them, and, on a database without users, creates the first admin
// and prints its password once. Running it again changes nothing.
func (a *App) Bootstrap(ctx context.Context, out io.Writer) error {
	by := audit.System("system:seed")
	profile, err := a.SeedProfile(ctx, by, out)
	if err != nil {
		return err
	}
	courseSeeded, err := a.People.SeedCourses(ctx, by)
	if err != nil {
		return fmt.Errorf("seeding courses: %w", err)
	}
	// After an upgrade or a change of the deadline settings, what each
	// employee owes is computed again before the first request.
	if _, err := a.People.EnsureCompliance(ctx); err != nil {
		return fmt.Errorf("computing compliance: %w", err)
	}
	if a.Config.Demo {
		if err := a.seedDemo(ctx, by, out); err != nil {
			return err
		}
	}
	// An install that predates snapshots (or whose promises were seeded
	// before them) gets its first one now; with one in force already and
	// nothing changed since, this writes nothing.
	if _, err := a.Snapshots.RecordNow(ctx); err != nil {
		return fmt.Errorf("recording the public promises: %w", err)
	}
	if courseSeeded {
		fmt.Fprintf(out, "Added the %q training course (every %d months).\n", people.DefaultCourse.Name, people.DefaultCourse.RecurrenceMonths)
	}
	if profile != "" {
		fmt.Fprintf(out, "Loaded the organization profile of %s.\n", profile)
	}
	n, err := a.Users.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw := auth.GeneratePassword()
	if _, err := a.Users.Create(ctx, by, auth.NewUser{Email: a.Config.AdminEmail, Name: "Administrator", Role: auth.Admin, Password: pw}); err != nil {
		return fmt.Errorf("creating the first admin: %w", err)
	}
	fmt.Fprintf(out, "\n  First admin created. This password is shown only once:\n\n    email:    %s\n    password: %s\n\n", a.Config.AdminEmail, pw)
	return nil
}

// SeedProfile loads what every Charter starts with: the policies, each
// published as version 1.0, the organization profile, the NDA and the
// standard DPA (published as version 1, filled from the profile). It
// returns the company's name when it loaded the profile ("" when one was
// there already).
func (a *App) SeedProfile(ctx context.Context, by audit.Actor, out io.Writer) (string, error) {
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		return "", err
	}
	created, err := a.Policies.Seed(ctx, by, templates)
	if err != nil {
		return "", fmt.Errorf("seeding policies: %w", err)
	}
	if created > 0 {
		fmt.Fprintf(out, "Loaded %d policies, each published as version 1.0.\n", created)
	}
	data, err := seed.Files.ReadFile("organization.yaml")
	if err != nil {
		return "", err
	}
	profile, err := org.ParseProfile(data)
	if err != nil {
		return "", err
	}
	orgCreated, err := a.Org.Seed(ctx, by, profile)
	if err != nil {
		return "", fmt.Errorf("seeding the organization profile: %w", err)
	}
	nda, err := seed.Files.ReadFile("nda.md")
	if err != nil {
		return "", err
	}
	if ndaSeeded, err := a.Packets.SeedNDA(ctx, by, string(nda)); err != nil {
		return "", fmt.Errorf("setting the NDA: %w", err)
	} else if ndaSeeded {
		fmt.Fprintln(out, "Set the NDA for policy requests (seed/nda.md; admins change it at /app/packets/nda).")
	}
	// The standard DPA comes after the profile: its text names the company.
	if dpaSeeded, err := a.Privacy.SeedStandardDPA(ctx, by); err != nil {
		return "", fmt.Errorf("publishing the standard DPA: %w", err)
	} else if dpaSeeded {
		fmt.Fprintln(out, "Published the standard DPA, version 1 (editors change it at /app/privacy/standard-dpa).")
	}
	if !orgCreated {
		return "", nil
	}
	// The seed's default logo, so that the public pages are branded from
	// the start; an admin replaces it on the Organization page.
	logo, err := seed.Files.ReadFile("logo.png")
	if err != nil {
		return "", err
	}
	if _, err := a.Org.SetLogo(ctx, by, a.Files, "logo.png", bytes.NewReader(logo)); err != nil {
		return "", fmt.Errorf("setting the default logo: %w", err)
	}
	return profile.Name, nil
}

// seedDemo loads the fictional demo team and demo privacy registers into
// empty registers (`make run`).
func (a *App) seedDemo(ctx context.Context, by audit.Actor, out io.Writer) error {
	team, err := seed.Files.ReadFile("demo-team.yaml")
	if err != nil {
		return err
	}
	loaded, err := a.People.SeedDemoTeam(ctx, by, team)
	if err != nil {
		return fmt.Errorf("loading the demo team: %w", err)
	}
	if loaded {
		fmt.Fprintln(out, "Loaded the fictional demo team (25 people at example.com).")
	}
	registers, err := seed.Files.ReadFile("privacy-demo.yaml")
	if err != nil {
		return err
	}
	loaded, err = a.Privacy.SeedDemo(ctx, by, registers)
	if err != nil {
		return fmt.Errorf("loading the demo privacy registers: %w", err)
	}
	if loaded {
		fmt.Fprintln(out, "Loaded demo sub-processors and DPAs.")
	}
	loaded, err = a.Documents.SeedDemo(ctx, by, a.demoDocuments())
	if err != nil {
		return fmt.Errorf("loading the demo trust documents: %w", err)
	}
	if loaded {
		fmt.Fprintln(out, "Loaded two sample trust documents (a public SOC 2 report and a penetration-test summary on request).")
		if err := a.linkDemoReport(ctx, by); err != nil {
			return err
		}
	}
	return nil
}

// demoReportSlug is the demo SOC 2 report, which the seed's SOC 2
// certification points at once it exists.
const demoReportSlug = "soc-2-type-1-report"

// demoDocuments are the sample documents of `make run`: the SOC 2 report
// the seed's page calls publicly available, and a penetration-test
// summary that goes through the request flow.
func (a *App) demoDocuments() []document.DemoDocument {
	today := a.Now().UTC()
	sample := "SAMPLE DOCUMENT - loaded by Charter's demo data, not a real report"
	return []document.DemoDocument{
		{Input: document.Input{Title: "SOC 2 Type 1 report", Slug: demoReportSlug, Kind: string(document.SOC2Report), Access: string(document.Public),
			Description: "The independent auditor's SOC 2 Type 1 report.", OwnerEmail: a.Config.AdminEmail},
			Version:  document.VersionInput{Version: "2023", IssuedOn: "2023-04-01"},
			Headline: sample,
			Body: []string{"This sample stands in for the company's SOC 2 Type 1 report until the real file is uploaded on the Documents page of the dashboard.",
				"Replace it with a new version there; the certification on the Organization page links to this document."}},
		{Input: document.Input{Title: "Penetration test summary", Kind: string(document.PentestSummary), Access: string(document.OnRequest),
			Description: "Summary of the latest external penetration test and the remediation of its findings.", OwnerEmail: a.Config.AdminEmail, AutoApprove: true},
			Version: document.VersionInput{Version: today.AddDate(0, -1, 0).Format("2006-01"), IssuedOn: today.AddDate(0, -1, 0).Format(time.DateOnly),
				ValidUntil: today.AddDate(0, 11, 0).Format(time.DateOnly)},
			Headline: sample,
			Body: []string{"This sample stands in for a penetration-test summary. Customers request it from /trust/request; the packet serves it stamped with their name on every page.",
				"Findings: none open. Scope: the hosted product and its public API."}},
	}
}

// linkDemoReport points the seed's SOC 2 certification at the demo
// report, when it names no document yet, so that /trust offers it.
func (a *App) linkDemoReport(ctx context.Context, by audit.Actor) error {
	o, err := a.Org.Get(ctx)
	if errors.Is(err, org.ErrNoProfile) {
		return nil
	} else if err != nil {
		return err
	}
	in := org.InputOf(o)
	changed := false
	for i, c := range in.Certifications {
		if c.Framework == "SOC 2" && c.Document == "" {
			in.Certifications[i].Document, changed = demoReportSlug, true
		}
	}
	if !changed {
		return nil
	}
	if _, err := a.Org.Update(ctx, by, in); err != nil {
		return fmt.Errorf("linking the demo SOC 2 report: %w", err)
	}
	return nil
}
