package privacy_test

import (
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/seed"
)

func TestActiveSinceIsAFieldOfActiveSubprocessors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		base := privacy.SubprocessorInput{Purpose: "Hosting", Countries: "US", TransferMechanism: "eu_scc"}
		in := base
		in.Name, in.InUse, in.ActiveSince = "AWS", true, "2020-05-01"
		p, err := f.svc.CreateSubprocessor(f.ctx, f.by, in)
		if err != nil || p.Status != privacy.Active || p.ActiveSince == nil || p.ActiveSince.Format(time.DateOnly) != "2020-05-01" {
			t.Fatalf("in use since 2020: %+v %v", p, err)
		}
		in = base
		in.Name, in.InUse = "Today Inc", true
		if p, err := f.svc.CreateSubprocessor(f.ctx, f.by, in); err != nil || p.ActiveSince.Format(time.DateOnly) != "2026-03-10" {
			t.Fatalf("in use without a date: %+v %v", p, err)
		}
		for name, c := range map[string]privacy.SubprocessorInput{
			"proposed": {Name: "Later", InUse: false, ActiveSince: "2020-01-01"},
			"future":   {Name: "Future", InUse: true, ActiveSince: "2027-01-01"},
			"not date": {Name: "Bad", InUse: true, ActiveSince: "May 2020"},
		} {
			c.Purpose, c.Countries, c.TransferMechanism = base.Purpose, base.Countries, base.TransferMechanism
			if _, err := f.svc.CreateSubprocessor(f.ctx, f.by, c); fieldOf(err) != "active_since" {
				t.Errorf("%s: %v, want active_since refused", name, err)
			}
		}
		edit := privacy.SubprocessorInputOf(p)
		edit.ActiveSince = "2019-11-30"
		got, err := f.svc.UpdateSubprocessor(f.ctx, f.by, p.ID, edit)
		if err != nil || got.ActiveSince.Format(time.DateOnly) != "2019-11-30" {
			t.Fatalf("corrected date: %+v %v", got, err)
		}
		edit.ActiveSince = ""
		if got, err := f.svc.UpdateSubprocessor(f.ctx, f.by, p.ID, edit); err != nil || got.ActiveSince.Format(time.DateOnly) != "2019-11-30" {
			t.Fatalf("an empty date keeps the stored one: %+v %v", got, err)
		}
	})
}

func TestDemoSubprocessorsCarryTheirOwnDates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		data, err := seed.Files.ReadFile("privacy-demo.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := f.svc.SeedDemo(f.ctx, f.by, data); !ok || err != nil {
			t.Fatalf("seed: %v %v", ok, err)
		}
		subs, err := f.svc.Subprocessors(f.ctx, privacy.Active)
		if err != nil || len(subs) == 0 {
			t.Fatal(subs, err)
		}
		for _, p := range subs {
			if p.ActiveSince == nil || !p.ActiveSince.Before(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("%s active since %v, want its real date, not the import date", p.Name, p.ActiveSince)
			}
		}
	})
}
