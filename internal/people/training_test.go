package people_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestTrainingCyclesAndCompliance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		if seeded, _ := f.people.SeedCourses(f.ctx, f.hr); seeded {
			t.Fatal("courses seeded twice")
		}
		f.hire(t, "ana@example.com", "2024-01-01")
		f.ackAll(t, "ana@example.com")
		if got := stateOf(t, f, "ana@example.com"); got != people.Compliant {
			t.Fatalf("trained, checked, acknowledged: %s", got)
		}
		// The course recurs every 12 months: the 2025-12-01 completion
		// expires on 2026-12-01.
		*f.clock = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		d, _ := f.people.Detail(f.ctx, "ana@example.com")
		if d.Summary.State != people.Overdue || d.Training[0].Current || !d.Training[0].Expires.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("after expiry: %s %+v", d.Summary.State, d.Training[0])
		}
		if _, err := f.people.RecordTraining(f.ctx, f.hr, "ana@example.com", people.TrainingInput{Course: "security AWARENESS", CompletedOn: "2026-12-02", Source: "KnowBe4"}); err != nil {
			t.Fatal(err)
		}
		d, _ = f.people.Detail(f.ctx, "ana@example.com")
		if d.Summary.State != people.Compliant || len(d.Completions) != 2 || d.Completions[0].Source != "KnowBe4" {
			t.Fatalf("after the new cycle: %s, %d completions", d.Summary.State, len(d.Completions))
		}
		// A second, once-only course is owed by the new-hire deadline.
		if _, err := f.people.CreateCourse(f.ctx, f.hr, people.CourseInput{Name: "Secure coding", RecurrenceMonths: ptr(0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.people.CreateCourse(f.ctx, f.hr, people.CourseInput{Name: "secure coding ", RecurrenceMonths: ptr(0)}); !apperr.Is(err, apperr.Conflict) && err != nil {
			t.Fatalf("duplicate course: %v", err)
		}
		if got := stateOf(t, f, "ana@example.com"); got != people.Overdue {
			t.Fatalf("missing a once-only course long after starting: %s", got)
		}
		for _, c := range []struct {
			in    people.TrainingInput
			field string
		}{
			{people.TrainingInput{Course: "", CompletedOn: "2026-01-01"}, "course"},
			{people.TrainingInput{Course: "Secure coding", CompletedOn: "2026-13-01"}, "completed_on"},
			{people.TrainingInput{Course: "Secure coding", CompletedOn: "2027-06-01"}, "completed_on"},
			{people.TrainingInput{Course: "Basket weaving", CompletedOn: "2026-01-01"}, "course"},
		} {
			_, err := f.people.RecordTraining(f.ctx, f.hr, "ana@example.com", c.in)
			if e, ok := apperr.As(err); !ok || e.Fields[c.field] == "" {
				t.Errorf("%+v: %v, want a message for %s", c.in, err, c.field)
			}
		}
		if _, err := f.people.CreateCourse(f.ctx, f.hr, people.CourseInput{Name: "", RecurrenceMonths: ptr(99)}); err == nil {
			t.Fatal("invalid course accepted")
		}
	})
}

func TestImportTraining(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.hire(t, "ana@example.com", "2024-01-01")
		today := day0
		_, errs := people.ParseTrainingCSV(check.New(), strings.NewReader("email,course,completed_on\nana@example.com,,2025-01-01\nbad,Security awareness,2025-01-01\n"), today)
		if len(errs) != 2 || errs[0].Column != "course" || errs[1].Column != "email" {
			t.Fatalf("form errors: %v", errs)
		}
		rows, errs := people.ParseTrainingCSV(check.New(), strings.NewReader("email,course,completed_on,source\nana@example.com,Security awareness,2024-11-30,LMS\nzed@example.com,Security awareness,2024-11-30,LMS\nana@example.com,Juggling,2024-11-30,\n"), today)
		if errs != nil {
			t.Fatal(errs)
		}
		res, err := f.people.ImportTraining(f.ctx, f.hr, rows)
		if !apperr.Is(err, apperr.Invalid) || len(res.Errors) != 2 || res.Errors[0].Line != 3 || res.Errors[1].Column != "course" {
			t.Fatalf("register errors: %v %v", res.Errors, err)
		}
		rows, _ = people.ParseTrainingCSV(check.New(), strings.NewReader("email,course,completed_on\nana@example.com,Security awareness,2024-11-30\n"), today)
		if res, err = f.people.ImportTraining(f.ctx, f.hr, rows); err != nil || res.Created != 1 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if res, err = f.people.ImportTraining(f.ctx, f.hr, rows); err != nil || res.Unchanged != 1 {
			t.Fatalf("again: %+v %v", res, err)
		}
		d, _ := f.people.Detail(f.ctx, "ana@example.com")
		if len(d.Completions) != 2 || d.Completions[1].Source != "import" {
			t.Fatalf("completions: %+v", d.Completions)
		}
	})
}

func ptr[T any](v T) *T { return &v }
