package people_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// history applies random changes through the services, remembering what
// it needs to pick the next one.
type history struct {
	f         *fixture
	rnd       *rand.Rand
	emails    []string
	published map[string][]string // version numbers published, by slug
	slugs     []string
	courses   []string
	log       []string
	steps     int // in all sequences, to make names and texts unique
}

func (h *history) day(offset int) string {
	return h.f.clock.AddDate(0, 0, offset).Format(time.DateOnly)
}

func (h *history) employee() string { return h.emails[h.rnd.Intn(len(h.emails))] }

// tolerated are the refusals a random change may meet (acknowledging as an
// offboarded employee, a training date before a start date and the like).
func tolerated(err error) bool {
	return err == nil || apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict)
}

// step applies one random change.
func (h *history) step(t *testing.T) {
	t.Helper()
	f, r := h.f, h.rnd
	h.steps++
	var err error
	op := r.Intn(100)
	if len(h.emails) == 0 {
		op = 0
	}
	switch {
	case op < 12: // hire, through one of the three paths
		email := fmt.Sprintf("p%d@example.com", h.steps)
		in := people.Input{Email: email, Name: "P " + email, StartDate: h.day(r.Intn(460) - 400)}
		switch r.Intn(3) {
		case 0:
			_, err = f.people.Create(f.ctx, f.hr, in)
		case 1:
			_, _, err = f.people.Upsert(f.ctx, f.hr, email, in)
		default:
			_, err = f.people.ImportEmployees(f.ctx, f.hr, []people.ImportRow{{Line: 2, Input: in}})
		}
		h.emails = append(h.emails, email)
		h.log = append(h.log, "hire "+email+" "+in.StartDate)
	case op < 18: // departure (in the past or the future), or a return
		email, end := h.employee(), h.day(r.Intn(60)-30)
		if r.Intn(4) == 0 {
			end = ""
		}
		_, err = f.people.Update(f.ctx, f.hr, email, people.Patch{EndDate: &end})
		h.log = append(h.log, "end "+email+" "+end)
	case op < 24: // start date moved, through an edit or a re-import
		email, start := h.employee(), h.day(r.Intn(460)-400)
		if r.Intn(2) == 0 {
			_, err = f.people.Update(f.ctx, f.hr, email, people.Patch{StartDate: &start})
		} else {
			var e *people.Employee
			if e, err = f.people.Get(f.ctx, email); err == nil {
				in := people.InputOf(e)
				in.StartDate = start
				_, err = f.people.ImportEmployees(f.ctx, f.hr, []people.ImportRow{{Line: 2, Input: in}})
			}
		}
		h.log = append(h.log, "start "+email+" "+start)
	case op < 44: // acknowledgement of the current version
		email, slug := h.employee(), h.slugs[r.Intn(len(h.slugs))]
		_, err = f.people.Acknowledge(f.ctx, f.hr, email, slug, people.MethodAPI)
		h.log = append(h.log, "ack "+email+" "+slug)
	case op < 52: // historical acknowledgement of any published version
		email, slug := h.employee(), h.slugs[r.Intn(len(h.slugs))]
		versions := h.published[slug]
		var major, minor int
		fmt.Sscanf(versions[r.Intn(len(versions))], "%d.%d", &major, &minor)
		_, err = f.people.ImportAcknowledgements(f.ctx, f.hr, []people.AckImportRow{{Line: 2, Email: email, Policy: slug,
			Major: major, Minor: minor, AcknowledgedAt: f.clock.Add(-time.Hour)}})
		h.log = append(h.log, fmt.Sprintf("import ack %s %s %d.%d", email, slug, major, minor))
	case op < 57, op < 62: // a major or a minor version published
		slug, material := h.slugs[r.Intn(len(h.slugs))], op < 57
		var v *policy.Version
		body := fmt.Sprintf("text %d of %s", h.steps, slug)
		if v, err = f.policies.CreateDraft(f.ctx, f.ed, slug, policy.Draft{Body: body, ChangeSummary: "change", Material: &material}); err == nil {
			if _, err = f.policies.Approve(f.ctx, f.ed2, slug, v.Number()); err == nil {
				_, err = f.policies.Publish(f.ctx, f.ed, slug, v.Number())
			}
		}
		if err != nil {
			t.Fatalf("publishing %s: %v", slug, err)
		}
		h.published[slug] = append(h.published[slug], v.Number())
		h.log = append(h.log, "publish "+slug+" "+v.Number())
	case op < 72: // training completed, recorded or imported
		email, course, on := h.employee(), h.courses[r.Intn(len(h.courses))], h.day(-r.Intn(500))
		in := people.TrainingInput{Course: course, CompletedOn: on}
		if r.Intn(2) == 0 {
			_, err = f.people.RecordTraining(f.ctx, f.hr, email, in)
		} else {
			_, err = f.people.ImportTraining(f.ctx, f.hr, []people.TrainingImportRow{{Line: 2, Email: email, Input: in}})
		}
		h.log = append(h.log, "training "+email+" "+course+" "+on)
	case op < 80: // background check
		email := h.employee()
		in := people.CheckInput{Status: string(people.CheckStatuses[r.Intn(len(people.CheckStatuses))]), Provider: "Checkr"}
		switch people.CheckStatus(in.Status) {
		case people.CheckInProgress:
			in.InitiatedOn = h.day(-10)
		case people.CheckClear, people.CheckConsider, people.CheckAdverse:
			in.InitiatedOn, in.CompletedOn = h.day(-10), h.day(-5)
		case people.CheckExempt:
			in.Provider, in.ExemptionReason = "", "not permitted"
		}
		_, err = f.people.SetBackgroundCheck(f.ctx, f.hr, email, in)
		h.log = append(h.log, "check "+email+" "+in.Status)
	case op < 82: // a new course
		months := []int{0, 1, 6, 12, 24}[r.Intn(5)]
		name := fmt.Sprintf("Course %d", h.steps)
		_, err = f.people.CreateCourse(f.ctx, f.hr, people.CourseInput{Name: name, RecurrenceMonths: &months})
		h.courses = append(h.courses, name)
		h.log = append(h.log, fmt.Sprintf("course %s every %d", name, months))
	default: // days pass
		d := r.Intn(45)
		*f.clock = f.clock.AddDate(0, 0, d)
		h.log = append(h.log, fmt.Sprintf("%d days pass", d))
	}
	if !tolerated(err) {
		t.Fatalf("%s: %v", h.log[len(h.log)-1], err)
	}
}

// compare checks the service's answers, read from the kept state, against
// the recomputation from the records on the clock's day.
func (h *history) compare(t *testing.T, when string) {
	t.Helper()
	f := h.f
	want, err := people.RecomputedSummaries(f.ctx, f.people)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s, on %s, after:\n  %s\n%s", when, f.clock.Format(time.DateOnly), strings.Join(h.log, "\n  "), fmt.Sprintf(format, args...))
	}
	// The rows were kept by the changes themselves, not repaired by the
	// readers' check of what they were computed from.
	if stale, err := f.people.EnsureCompliance(f.ctx); err != nil || stale {
		fail("kept rows stale (%v)", err)
	}
	rows, err := f.people.List(f.ctx, people.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		fail("list has %d rows, want %d", len(rows), len(want))
	}
	byState := map[people.State][]string{}
	for _, r := range rows {
		if r.Summary != want[r.Email] {
			fail("%s: kept %+v, recomputed %+v", r.Email, r.Summary, want[r.Email])
		}
		byState[r.Summary.State] = append(byState[r.Summary.State], r.Email)
	}
	for _, s := range people.States {
		page, err := f.people.ListPage(f.ctx, people.ListFilter{State: s}, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Rows {
			got = append(got, r.Email)
		}
		if !reflect.DeepEqual(got, byState[s]) || page.Total != len(byState[s]) {
			fail("state %s: listed %v (total %d), want %v", s, got, page.Total, byState[s])
		}
	}
	active, err := f.people.ListPage(f.ctx, people.ListFilter{Active: true}, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rows) - len(byState[people.Offboarded]); active.Total != n {
		fail("active: total %d, want %d", active.Total, n)
	}
	for _, s := range people.States {
		if active.Counts[s] != len(byState[s]) {
			fail("counts %v, by state %v", active.Counts, byState)
		}
	}
	for range min(5, len(h.emails)) { // the detail computes its own state: a sample
		email := h.employee()
		d, err := f.people.Detail(f.ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if d.Summary != want[email] {
			fail("%s: detail %+v, recomputed %+v", email, d.Summary, want[email])
		}
	}
	got, err := f.people.Overview(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantOverview, err := people.RecomputedOverview(f.ctx, f.people)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantOverview) {
		fail("overview %+v, recomputed %+v", got, wantOverview)
	}
}

// TestKeptComplianceEqualsRecomputation applies random histories of hires,
// departures, start-date edits, acknowledgements (current and
// historical), major and minor publications, training, background checks,
// new courses and passing days, and checks after them, on several days,
// that the state read from the kept table is the state recomputed from
// the records, and that the table is what a rebuild writes.
func TestKeptComplianceEqualsRecomputation(t *testing.T) {
	const sequences, steps = 30, 40
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		list, err := f.policies.List(f.ctx, policy.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h := &history{f: f, published: map[string][]string{}, courses: []string{people.DefaultCourse.Name}}
		for _, p := range list {
			h.slugs = append(h.slugs, p.Policy.Slug)
			h.published[p.Policy.Slug] = []string{"1.0"}
		}
		sort.Strings(h.slugs)
		for seed := range int64(sequences) {
			// Each sequence goes on from the last one's records, so that
			// histories grow long; the seed alone decides its steps.
			h.rnd, h.log = rand.New(rand.NewSource(seed)), nil
			for i := range steps {
				h.step(t)
				if i%10 == 9 {
					h.compare(t, fmt.Sprintf("sequence %d, step %d", seed, i))
				}
			}
			now := *f.clock
			for _, d := range []int{-400, -31, -1, 1, 29, 30, 31, 90, 366, h.rnd.Intn(800) - 400} {
				*f.clock = now.AddDate(0, 0, d)
				h.compare(t, fmt.Sprintf("sequence %d, %+d days on", seed, d))
			}
			*f.clock = now
			kept, err := people.KeptCompliance(f.ctx, f.people)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.people.RebuildCompliance(f.ctx); err != nil {
				t.Fatal(err)
			}
			rebuilt, err := people.KeptCompliance(f.ctx, f.people)
			if err != nil {
				t.Fatal(err)
			}
			if kept != rebuilt {
				t.Fatalf("sequence %d: kept rows differ from a rebuild after:\n  %s\nkept:\n%s\nrebuilt:\n%s", seed, strings.Join(h.log, "\n  "), kept, rebuilt)
			}
		}
	})
}

// TestComplianceRebuiltWhenSettingsChange: a service started with other
// deadline settings finds the kept rows computed from the old ones and
// computes them again; one started with the same settings does not.
func TestComplianceRebuiltWhenSettingsChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "ana@example.com", "2025-12-01")
		now := func() time.Time { return *f.clock }
		same := people.NewService(st.DB, now, people.DefaultSettings)
		if rebuilt, err := same.EnsureCompliance(f.ctx); err != nil || rebuilt {
			t.Fatalf("same settings: rebuilt %v, %v", rebuilt, err)
		}
		settings := people.DefaultSettings
		settings.NewHireDays, settings.BackgroundCheckDays = 90, 14
		other := people.NewService(st.DB, now, settings)
		if rebuilt, err := other.EnsureCompliance(f.ctx); err != nil || !rebuilt {
			t.Fatalf("other settings: rebuilt %v, %v", rebuilt, err)
		}
		got, err := other.List(f.ctx, people.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := people.RecomputedSummaries(f.ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Summary != want["ana@example.com"] {
			t.Fatalf("after the rebuild: %+v, want %+v", got, want)
		}
		// A change that bypasses the service (here: a policy service
		// without the hook publishing a major) is caught on the next read.
		if _, err := other.Acknowledge(f.ctx, f.hr, "ana@example.com", "backup", people.MethodAPI); err != nil {
			t.Fatal(err)
		}
		bare := policy.NewService(st.DB, now)
		body := "a new text"
		material := true
		v, err := bare.CreateDraft(f.ctx, f.ed, "backup", policy.Draft{Body: body, ChangeSummary: "change", Material: &material})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bare.Approve(f.ctx, f.ed2, "backup", v.Number()); err != nil {
			t.Fatal(err)
		}
		if _, err := bare.Publish(f.ctx, f.ed, "backup", v.Number()); err != nil {
			t.Fatal(err)
		}
		if got, err = other.List(f.ctx, people.ListFilter{}); err != nil {
			t.Fatal(err)
		}
		if want, err = people.RecomputedSummaries(f.ctx, other); err != nil {
			t.Fatal(err)
		}
		if got[0].Summary != want["ana@example.com"] || got[0].Summary.Acknowledged != 0 {
			t.Fatalf("after a publication behind the service's back: %+v, want %+v", got[0].Summary, want)
		}
	})
}
