package people_test

import (
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/people"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

func TestCheckInputNamesFields(t *testing.T) {
	cases := []struct {
		in    people.CheckInput
		field string
	}{
		{people.CheckInput{Status: "passed"}, "status"},
		{people.CheckInput{Status: "in_progress"}, "initiated_on"},
		{people.CheckInput{Status: "clear", InitiatedOn: "2025-01-01"}, "completed_on"},
		{people.CheckInput{Status: "clear", InitiatedOn: "2025-01-10", CompletedOn: "2025-01-01"}, "completed_on"},
		{people.CheckInput{Status: "in_progress", InitiatedOn: "2025-01-10", CompletedOn: "2025-01-11"}, "completed_on"},
		{people.CheckInput{Status: "exempt"}, "exemption_reason"},
		{people.CheckInput{Status: "clear", InitiatedOn: "2025-01-01", CompletedOn: "2025-01-02", ExemptionReason: "x"}, "exemption_reason"},
		{people.CheckInput{Status: "not_started", InitiatedOn: "01/01/2025"}, "initiated_on"},
	}
	for _, c := range cases {
		if _, errs := c.in.Parse(check.New()); errs[c.field] == "" {
			t.Errorf("%+v: no error for %s (%v)", c.in, c.field, errs)
		}
	}
	if _, errs := (people.CheckInput{Status: "exempt", ExemptionReason: "not permitted in DE"}).Parse(check.New()); errs != nil {
		t.Fatalf("exempt with reason: %v", errs)
	}
}

func TestBackgroundCheckDecidesCompliance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		if _, err := f.people.Create(f.ctx, f.hr, people.Input{Email: "dee@example.com", Name: "Dee", StartDate: "2026-01-20"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.people.RecordTraining(f.ctx, f.hr, "dee@example.com", people.TrainingInput{Course: "Security awareness", CompletedOn: "2026-01-05"}); err != nil {
			t.Fatal(err)
		}
		f.ackAll(t, "dee@example.com")
		d, _ := f.people.Detail(f.ctx, "dee@example.com")
		if d.Summary.State != people.Due || d.Check.Status != people.CheckNotStarted || d.CheckOverdue {
			t.Fatalf("before the start date without a check: %+v %+v", d.Summary, d.Check)
		}
		*f.clock = day0.AddDate(0, 0, 16) // past the start date
		if got := stateOf(t, f, "dee@example.com"); got != people.Overdue {
			t.Fatalf("after the start date without a check: %s", got)
		}
		if _, err := f.people.SetBackgroundCheck(f.ctx, f.hr, "dee@example.com", people.CheckInput{Status: "in_progress", Provider: "Checkr", InitiatedOn: "2026-01-15"}); err != nil {
			t.Fatal(err)
		}
		if got := stateOf(t, f, "dee@example.com"); got != people.Overdue {
			t.Fatalf("in progress past the due date: %s", got)
		}
		if _, err := f.people.SetBackgroundCheck(f.ctx, f.hr, "dee@example.com", people.CheckInput{Status: "exempt", ExemptionReason: "Not permitted for this role in Germany"}); err != nil {
			t.Fatal(err)
		}
		if got := stateOf(t, f, "dee@example.com"); got != people.Compliant {
			t.Fatalf("exempt: %s", got)
		}
		var ev audit.Event
		st.DB.Where("action = ?", "background_check.updated").Order("seq DESC").First(&ev)
		if ev.ObjectID != "dee@example.com" || !strings.Contains(ev.BeforeJSON, `"in_progress"`) || !strings.Contains(ev.AfterJSON, `"exempt"`) {
			t.Fatalf("audit: %+v", ev)
		}
		if _, err := f.people.SetBackgroundCheck(f.ctx, f.hr, "nobody@example.com", people.CheckInput{Status: "clear"}); !apperr.Is(err, apperr.Invalid) && !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown employee: %v", err)
		}
	})
}
