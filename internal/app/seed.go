package app

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
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
	if a.Config.Demo {
		if err := a.seedDemo(ctx, by, out); err != nil {
			return err
		}
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
	return nil
}
