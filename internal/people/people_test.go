package people_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/charter-registry/charter/policies"
	"github.com/charter-registry/charter/seed"
)

// day0 is when the policies are seeded (published as 1.0).
var day0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

type fixture struct {
	ctx      context.Context
	st       *store.Store
	clock    *time.Time
	people   *people.Service
	policies *policy.Service
	hr       audit.Actor
	ed, ed2  audit.Actor
}

func setup(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	clock := day0
	now := func() time.Time { return clock }
	f := &fixture{ctx: context.Background(), st: st, clock: &clock, hr: audit.System("test:hr")}
	f.people = people.NewService(st.DB, now, people.DefaultSettings)
	f.policies = policy.NewService(st.DB, now)
	f.policies.OnNewMajor(f.people.RequirementsChanged)
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.policies.Seed(f.ctx, audit.System("seed"), templates); err != nil {
		t.Fatal(err)
	}
	if _, err := f.people.SeedCourses(f.ctx, audit.System("seed")); err != nil {
		t.Fatal(err)
	}
	users := auth.NewService(st.DB, now)
	for i, email := range []string{"ed@example.com", "ed2@example.com"} {
		u, err := users.Create(f.ctx, audit.System("test"), auth.NewUser{Email: email, Role: auth.Editor, Password: "a long unusual passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.ed = u.Actor("", "", "")
		} else {
			f.ed2 = u.Actor("", "", "")
		}
	}
	return f
}

// hire adds an employee whose background check is clear and whose
// security training is current (until 2026-12-01), so that their state
// depends on acknowledgements alone.
func (f *fixture) hire(t *testing.T, email, start string) *people.Employee {
	t.Helper()
	e, err := f.people.Create(f.ctx, f.hr, people.Input{Email: email, Name: strings.Split(email, "@")[0], StartDate: start, Department: "Engineering"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.people.SetBackgroundCheck(f.ctx, f.hr, email, people.CheckInput{Status: "clear", Provider: "Checkr",
		InitiatedOn: "2023-01-02", CompletedOn: "2023-01-09"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.people.RecordTraining(f.ctx, f.hr, email, people.TrainingInput{Course: "Security awareness", CompletedOn: "2025-12-01"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) publish(t *testing.T, slug string, material bool) {
	t.Helper()
	// Each version's text differs: an unchanged text is refused.
	body := fmt.Sprintf("changed %s, %d", f.clock, time.Now().UnixNano())
	v, err := f.policies.CreateDraft(f.ctx, f.ed, slug, policy.Draft{Body: body, ChangeSummary: "change", Material: &material})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.policies.Approve(f.ctx, f.ed2, slug, v.Number()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.policies.Publish(f.ctx, f.ed, slug, v.Number()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) ackAll(t *testing.T, email string) {
	t.Helper()
	list, _ := f.policies.List(f.ctx, policy.ListOptions{})
	for _, p := range list {
		if _, err := f.people.Acknowledge(f.ctx, f.hr, email, p.Slug, people.MethodAPI); err != nil {
			t.Fatal(err)
		}
	}
}

func stateOf(t *testing.T, f *fixture, email string) people.State {
	t.Helper()
	d, err := f.people.Detail(f.ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.people.List(f.ctx, people.ListFilter{Query: email})
	if err != nil || len(rows) != 1 {
		t.Fatalf("list for %s: %d rows, %v", email, len(rows), err)
	}
	if rows[0].Summary.State != d.Summary.State {
		t.Fatalf("%s: list says %s, detail says %s", email, rows[0].Summary.State, d.Summary.State)
	}
	return d.Summary.State
}

func TestInputValidationNamesColumns(t *testing.T) {
	cases := []struct {
		in   people.Input
		cols []string
	}{
		{people.Input{}, []string{"email", "name", "start_date"}},
		{people.Input{Email: "x", Name: "X", StartDate: "2026-13-01"}, []string{"email", "start_date"}},
		{people.Input{Email: "a@x.io", Name: "A", StartDate: "2026-02-01", EndDate: "2026-01-01"}, []string{"end_date"}},
		{people.Input{Email: "a@x.io", Name: "A", StartDate: "2026-02-01", Country: "Germany", EmploymentType: "intern"}, []string{"country", "employment_type"}},
		{people.Input{Email: "a@x.io", Name: "A", StartDate: "2026-02-01", ManagerEmail: "A@x.io"}, []string{"manager_email"}},
	}
	for _, c := range cases {
		_, errs := c.in.Parse(check.New())
		if len(errs) != len(c.cols) {
			t.Errorf("%+v: errors %v, want %v", c.in, errs, c.cols)
		}
		for _, col := range c.cols {
			if errs[col] == "" {
				t.Errorf("%+v: no error for %s (%v)", c.in, col, errs)
			}
		}
	}
	e, errs := people.Input{Email: " Ana@Example.COM ", Name: " Ana ", StartDate: "2026-02-01", Country: "de", EmploymentType: "Contractor"}.Parse(check.New())
	if errs != nil || e.Email != "ana@example.com" || e.Country != "DE" || e.EmploymentType != people.Contractor {
		t.Fatalf("normalised: %+v %v", e, errs)
	}
}

func TestRegisterCreateUpdateUpsertOffboard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "ana@example.com", "2025-06-01")
		if _, err := f.people.Create(f.ctx, f.hr, people.Input{Email: "ANA@example.com", Name: "Ana", StartDate: "2025-06-01"}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("duplicate: %v", err)
		}
		in := people.Input{Name: "Ben Okafor", Title: "SRE", Department: "Infrastructure", Country: "NG", StartDate: "2024-03-04"}
		_, out, err := f.people.Upsert(f.ctx, f.hr, "ben@example.com", in)
		if err != nil || out != people.Created {
			t.Fatalf("upsert new: %v %v", out, err)
		}
		var events int64
		st.DB.Model(&audit.Event{}).Count(&events)
		if _, out, err = f.people.Upsert(f.ctx, f.hr, "BEN@example.com", in); err != nil || out != people.Unchanged {
			t.Fatalf("upsert same: %v %v", out, err)
		}
		var after int64
		st.DB.Model(&audit.Event{}).Count(&after)
		if after != events {
			t.Fatalf("an unchanged upsert wrote %d audit events", after-events)
		}
		in.Title = "Staff SRE"
		if _, out, _ = f.people.Upsert(f.ctx, f.hr, "ben@example.com", in); out != people.Updated {
			t.Fatalf("upsert changed: %v", out)
		}
		end := "2026-01-02"
		e, err := f.people.Update(f.ctx, f.hr, "ben@example.com", people.Patch{EndDate: &end})
		if err != nil || e.EndDate == nil || e.Title != "Staff SRE" {
			t.Fatalf("offboard: %+v %v", e, err)
		}
		var ev audit.Event
		st.DB.Order("seq DESC").First(&ev)
		if ev.Action != "employee.offboarded" || !strings.Contains(ev.BeforeJSON, `"end_date":""`) {
			t.Fatalf("offboarding audit: %+v", ev)
		}
		bad := "not-a-date"
		if _, err := f.people.Update(f.ctx, f.hr, "ben@example.com", people.Patch{StartDate: &bad}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad patch: %v", err)
		}
		taken := "ana@example.com"
		if _, err := f.people.Update(f.ctx, f.hr, "ben@example.com", people.Patch{Email: &taken}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("email taken: %v", err)
		}
		if _, err := f.people.Update(f.ctx, f.hr, "nobody@example.com", people.Patch{}); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown: %v", err)
		}
		if got := stateOf(t, f, "ben@example.com"); got != people.Offboarded {
			t.Fatalf("offboarded employee is %s", got)
		}
		deps, _ := f.people.Departments(f.ctx)
		if strings.Join(deps, ",") != "Engineering,Infrastructure" {
			t.Fatalf("departments %v", deps)
		}
	})
}

func TestMajorVersionsAreOwedAndMinorOnesAreNot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "old@example.com", "2024-01-01")
		*f.clock = day0.AddDate(0, 0, 1)
		if got := stateOf(t, f, "old@example.com"); got != people.Due {
			t.Fatalf("before acknowledging: %s, want due", got)
		}
		f.ackAll(t, "old@example.com")
		if got := stateOf(t, f, "old@example.com"); got != people.Compliant {
			t.Fatalf("after acknowledging all: %s", got)
		}
		// Acknowledging again writes nothing.
		if _, err := f.people.Acknowledge(f.ctx, f.hr, "old@example.com", "backup", people.MethodAPI); err != nil {
			t.Fatal(err)
		}
		var n int64
		st.DB.Model(&people.Acknowledgement{}).Count(&n)
		if n != 20 {
			t.Fatalf("%d acknowledgements, want 20", n)
		}

		f.publish(t, "backup", false) // 1.1: minor
		if got := stateOf(t, f, "old@example.com"); got != people.Compliant {
			t.Fatalf("after a minor version: %s, want still compliant", got)
		}
		f.publish(t, "backup", true) // 2.0: major
		d, _ := f.people.Detail(f.ctx, "old@example.com")
		if d.Summary.State != people.Due || d.Summary.Acknowledged != 19 {
			t.Fatalf("after a major version: %+v", d.Summary)
		}
		var backup people.Obligation
		for _, o := range d.Obligations {
			if o.Slug == "backup" {
				backup = o
			}
		}
		if backup.Major != 2 || backup.Acknowledged != nil || !backup.Due.Equal(f.clock.AddDate(0, 0, 30)) {
			t.Fatalf("backup obligation: %+v", backup)
		}
		*f.clock = f.clock.AddDate(0, 0, 31)
		if got := stateOf(t, f, "old@example.com"); got != people.Overdue {
			t.Fatalf("31 days after the major version: %s, want overdue", got)
		}
		if _, err := f.people.Acknowledge(f.ctx, f.hr, "old@example.com", "backup", people.MethodLink); err != nil {
			t.Fatal(err)
		}
		if got := stateOf(t, f, "old@example.com"); got != people.Compliant {
			t.Fatalf("after acknowledging 2.0: %s", got)
		}
		if err := st.DB.Exec("UPDATE acknowledgements SET method = 'api'").Error; err == nil {
			t.Fatal("an acknowledgement was updated")
		}
		if err := st.DB.Exec("DELETE FROM acknowledgements").Error; err == nil {
			t.Fatal("an acknowledgement was deleted")
		}
	})
}

func TestNewHiresHaveTheirOwnDeadline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		*f.clock = day0.AddDate(0, 2, 0) // policies published long ago
		f.hire(t, "new@example.com", f.clock.Format(time.DateOnly))
		d, _ := f.people.Detail(f.ctx, "new@example.com")
		if d.Summary.State != people.Due || !d.Obligations[0].Due.Equal(time.Date(2026, 4, 4, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("new hire: %s due %s", d.Summary.State, d.Obligations[0].Due)
		}
		*f.clock = f.clock.AddDate(0, 0, 31)
		if got := stateOf(t, f, "new@example.com"); got != people.Overdue {
			t.Fatalf("31 days after starting: %s", got)
		}
		if _, err := f.people.Acknowledge(f.ctx, f.hr, "new@example.com", "no-such-policy", people.MethodAPI); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown policy: %v", err)
		}
		end := f.clock.Format(time.DateOnly)
		if _, err := f.people.Update(f.ctx, f.hr, "new@example.com", people.Patch{EndDate: &end}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.people.Acknowledge(f.ctx, f.hr, "new@example.com", "backup", people.MethodAPI); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("offboarded employee acknowledging: %v", err)
		}
	})
}

func TestListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "zoe@example.com", "2025-01-01")
		f.hire(t, "yan@example.com", "2025-01-01")
		f.people.Upsert(f.ctx, f.hr, "xi@example.com", people.Input{Name: "Xi 100%_", Department: "Sales", StartDate: "2025-01-01"})
		f.ackAll(t, "zoe@example.com")
		*f.clock = day0.AddDate(0, 2, 0)
		cases := []struct {
			f    people.ListFilter
			want string
		}{
			{people.ListFilter{}, "xi,yan,zoe"},
			{people.ListFilter{Department: "Sales"}, "xi"},
			{people.ListFilter{Query: "ZO"}, "zoe"},
			{people.ListFilter{Query: "100%_"}, "xi"},
			{people.ListFilter{State: people.Compliant}, "zoe"},
			{people.ListFilter{State: people.Overdue}, "xi,yan"},
			{people.ListFilter{State: people.Due}, ""},
		}
		for _, c := range cases {
			rows, err := f.people.List(f.ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, strings.Split(r.Email, "@")[0])
			}
			if strings.Join(got, ",") != c.want {
				t.Errorf("%+v: %v, want %s", c.f, got, c.want)
			}
		}
		if _, err := f.people.List(f.ctx, people.ListFilter{State: "happy"}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad state: %v", err)
		}
	})
}

func TestOverview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "a@example.com", "2025-01-01")
		f.hire(t, "b@example.com", "2025-01-01")
		f.hire(t, "c@example.com", "2025-01-01")
		f.hire(t, "new@example.com", "2026-03-01")
		end := "2025-12-31"
		f.people.Update(f.ctx, f.hr, "c@example.com", people.Patch{EndDate: &end})
		f.ackAll(t, "a@example.com")
		f.people.Acknowledge(f.ctx, f.hr, "b@example.com", "backup", people.MethodAPI)
		*f.clock = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) // policies 64 days old; "new" started 9 days ago
		o, err := f.people.Overview(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if o.Active != 3 || o.ByState[people.Compliant] != 1 || o.ByState[people.Overdue] != 1 || o.ByState[people.Due] != 1 || o.ByState[people.Offboarded] != 1 {
			t.Fatalf("states: %+v", o)
		}
		if int(o.FullyCompliant) != 33 {
			t.Fatalf("fully compliant %.1f%%", o.FullyCompliant)
		}
		// b is overdue on every policy but backup; a owes nothing; "new" is
		// within the new-hire window.
		if len(o.OverdueByPolicy) != 19 {
			t.Fatalf("%d policies with overdue employees, want 19", len(o.OverdueByPolicy))
		}
		for _, p := range o.OverdueByPolicy {
			if p.Overdue != 1 || p.Slug == "backup" {
				t.Fatalf("policy count: %+v", p)
			}
		}
	})
}

func TestDemoTeamShowsEveryState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		data, err := seed.Files.ReadFile("demo-team.yaml")
		if err != nil {
			t.Fatal(err)
		}
		*f.clock = day0.AddDate(0, 2, 0) // the policies' deadline has passed
		loaded, err := f.people.SeedDemoTeam(f.ctx, f.hr, data)
		if err != nil || !loaded {
			t.Fatalf("demo team: %v %v", loaded, err)
		}
		o, err := f.people.Overview(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if o.Active != 23 || o.ByState[people.Offboarded] != 2 {
			t.Fatalf("states: %+v", o.ByState)
		}
		if want, err := people.RecomputedOverview(f.ctx, f.people); err != nil || !reflect.DeepEqual(o, want) {
			t.Fatalf("kept overview %+v, recomputed %+v (%v)", o, want, err)
		}
		for _, s := range people.States {
			if o.ByState[s] == 0 {
				t.Errorf("no %s employee in the demo team: %v", s, o.ByState)
			}
		}
		if again, _ := f.people.SeedDemoTeam(f.ctx, f.hr, data); again {
			t.Fatal("demo team loaded into a non-empty roster")
		}
		if res, err := audit.Verify(f.ctx, st.DB); err != nil || res.Break != nil {
			t.Fatalf("audit: %+v %v", res, err)
		}
	})
}
