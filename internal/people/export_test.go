package people

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The oracle of the kept compliance state: every employee's summary and
// the overview computed from the records on each call, as they were before
// the state was kept (issue 22). Tests compare the service's answers with
// these.

// RecomputedSummaries computes every employee's summary from the records,
// by email.
func RecomputedSummaries(ctx context.Context, s *Service) (map[string]Summary, error) {
	db := s.db.WithContext(ctx)
	var emps []Employee
	if err := db.Find(&emps).Error; err != nil {
		return nil, err
	}
	f, err := loadFacts(db, nil)
	if err != nil {
		return nil, err
	}
	sums := s.recomputedSummaries(emps, f)
	out := make(map[string]Summary, len(emps))
	for i := range emps {
		out[emps[i].Email] = sums[i]
	}
	return out, nil
}

func (s *Service) recomputedSummaries(emps []Employee, f *facts) []Summary {
	reqs, courses, latest, satisfied, checkByEmployee := f.reqs, f.courses, f.latest, f.satisfied, f.checks
	today := s.today()
	type counts struct{ Satisfied, Late int }
	late := map[int64]bool{} // policies whose version deadline has passed
	for _, r := range reqs {
		if r.PublishedAt.UTC().AddDate(0, 0, s.settings.NewVersionDays).Before(today) {
			late[r.PolicyID] = true
		}
	}
	byEmployee := make(map[int64]counts, len(satisfied))
	for id, set := range satisfied {
		c := counts{Satisfied: len(set)}
		for _, p := range set {
			if late[p] {
				c.Late++
			}
		}
		byEmployee[id] = c
	}
	lateRequired := len(late)
	out := make([]Summary, len(emps))
	for i := range emps {
		e := &emps[i]
		c := byEmployee[e.ID]
		check := checkByEmployee[e.ID]
		if check == "" {
			check = CheckNotStarted
		}
		sum := Summary{Required: len(reqs), Acknowledged: c.Satisfied, Check: check, Courses: len(courses)}
		trainingOverdue := false
		for _, course := range courses {
			st := s.standing(e, course, latest[[2]int64{e.ID, course.ID}], today)
			if st.Current {
				sum.Trained++
			}
			trainingOverdue = trainingOverdue || st.Overdue
		}
		hireDue := e.StartDate.AddDate(0, 0, s.settings.NewHireDays)
		switch {
		case !e.ActiveOn(today):
			sum.State = Offboarded
		case c.Satisfied >= len(reqs) && check.Complete() && sum.Trained == sum.Courses:
			sum.State = Compliant
		case hireDue.Before(today) && c.Late < lateRequired, !check.Complete() && s.checkDue(e.StartDate).Before(today), trainingOverdue:
			sum.State = Overdue
		default:
			sum.State = Due
		}
		out[i] = sum
	}
	return out
}

// RecomputedOverview computes the overview from the records.
func RecomputedOverview(ctx context.Context, s *Service) (*Overview, error) {
	db := s.db.WithContext(ctx)
	var emps []Employee
	if err := db.Select("id", "start_date", "end_date").Find(&emps).Error; err != nil {
		return nil, err
	}
	f, err := loadFacts(db, nil)
	if err != nil {
		return nil, err
	}
	sums := s.recomputedSummaries(emps, f)
	o := &Overview{ByState: map[State]int{}}
	for _, sum := range sums {
		o.ByState[sum.State]++
		if sum.State != Offboarded {
			o.Active++
		}
	}
	if o.Active > 0 {
		o.FullyCompliant = 100 * float64(o.ByState[Compliant]) / float64(o.Active)
	}
	today := s.today()
	for _, c := range f.courses {
		n := 0
		for i := range emps {
			if emps[i].ActiveOn(today) && s.standing(&emps[i], c, f.latest[[2]int64{emps[i].ID, c.ID}], today).Overdue {
				n++
			}
		}
		if n > 0 {
			o.OverdueByCourse = append(o.OverdueByCourse, CourseCount{Course: c.Name, Overdue: n})
		}
	}
	hiredBefore := today.AddDate(0, 0, -s.settings.NewHireDays)
	overdue := map[int64]int{}
	var lateReqs []Requirement
	for _, r := range f.reqs {
		if r.PublishedAt.UTC().AddDate(0, 0, s.settings.NewVersionDays).Before(today) {
			lateReqs = append(lateReqs, r)
		}
	}
	for i := range emps {
		e := &emps[i]
		if !e.ActiveOn(today) || !e.StartDate.Before(hiredBefore) {
			continue
		}
		for _, r := range lateReqs {
			if !slices.Contains(f.satisfied[e.ID], r.PolicyID) {
				overdue[r.PolicyID]++
			}
		}
	}
	for _, r := range lateReqs {
		if n := overdue[r.PolicyID]; n > 0 {
			o.OverdueByPolicy = append(o.OverdueByPolicy, PolicyCount{Slug: r.Slug, Title: r.Title, Major: r.Major, Overdue: n})
		}
	}
	sort.SliceStable(o.OverdueByPolicy, func(i, j int) bool { return o.OverdueByPolicy[i].Overdue > o.OverdueByPolicy[j].Overdue })
	return o, nil
}

// KeptCompliance lists the kept items and states and the recorded
// fingerprint, one line each in a fixed order, for comparing with what a
// rebuild writes.
func KeptCompliance(ctx context.Context, s *Service) (string, error) {
	db := s.db.WithContext(ctx)
	var items []complianceItem
	if err := db.Order("employee_id, kind, ref_id").Find(&items).Error; err != nil {
		return "", err
	}
	var states []complianceState
	if err := db.Order("employee_id").Find(&states).Error; err != nil {
		return "", err
	}
	var b strings.Builder
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	for _, it := range items {
		fmt.Fprintf(&b, "item %d %s %d %s %s\n", it.EmployeeID, it.Kind, it.RefID, day(it.OutstandingFrom), day(it.OverdueFrom))
	}
	for _, st := range states {
		fmt.Fprintf(&b, "state %d %s %s\n", st.EmployeeID, day(st.OutstandingFrom), day(st.OverdueFrom))
	}
	fp, err := storedFingerprint(db)
	fmt.Fprintf(&b, "fingerprint %s\n", fp)
	return b.String(), err
}
