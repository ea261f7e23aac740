package people

import (
	"context"
	"slices"
	"sort"
)

// PolicyCount is how many active employees are overdue on one policy.
type PolicyCount struct {
	Slug    string
	Title   string
	Major   int
	Overdue int
}

// CourseCount is how many active employees are overdue on one course.
type CourseCount struct {
	Course  string
	Overdue int
}

// Overview is the organization's compliance at a glance.
type Overview struct {
	Active          int
	ByState         map[State]int
	FullyCompliant  float64 // percent of active employees, 0–100
	OverdueByPolicy []PolicyCount
	OverdueByCourse []CourseCount
}

// Overview summarises compliance in a fixed number of queries whatever
// the number of employees.
func (s *Service) Overview(ctx context.Context) (*Overview, error) {
	db := s.db.WithContext(ctx)
	var emps []Employee
	if err := db.Select("id", "start_date", "end_date").Find(&emps).Error; err != nil {
		return nil, err
	}
	f, err := loadFacts(db)
	if err != nil {
		return nil, err
	}
	sums, err := s.summariesWith(db, emps, f)
	if err != nil {
		return nil, err
	}
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

	// Overdue on policy p: active, past the new-hire deadline, p past its
	// version deadline, and p not among the employee's satisfied set.
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
		set := f.satisfied[e.ID]
		for _, r := range lateReqs {
			if !slices.Contains(set, r.PolicyID) {
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
