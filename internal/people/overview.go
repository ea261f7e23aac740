package people

import (
	"context"
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

	reqs := f.reqs
	if len(reqs) == 0 {
		return o, nil
	}
	// Overdue on policy p: active, past the new-hire deadline, p past its
	// version deadline, and not acknowledged.
	hiredBefore := today.AddDate(0, 0, -s.settings.NewHireDays)
	eligible := 0
	for i := range emps {
		if emps[i].ActiveOn(today) && emps[i].StartDate.Before(hiredBefore) {
			eligible++
		}
	}
	pairs := make([][]any, len(reqs))
	for i, r := range reqs {
		pairs[i] = []any{r.PolicyID, r.Major}
	}
	var acked []struct {
		PolicyID int64
		N        int
	}
	err = db.Table("acknowledgements a").Select("a.policy_id, COUNT(DISTINCT a.employee_id) AS n").
		Joins("JOIN employees e ON e.id = a.employee_id").
		Where("(a.policy_id, a.major) IN ? AND e.start_date < ? AND (e.end_date IS NULL OR e.end_date > ?)", pairs, hiredBefore, today).
		Group("a.policy_id").Scan(&acked).Error
	if err != nil {
		return nil, err
	}
	done := map[int64]int{}
	for _, a := range acked {
		done[a.PolicyID] = a.N
	}
	for _, r := range reqs {
		if !r.PublishedAt.UTC().AddDate(0, 0, s.settings.NewVersionDays).Before(today) {
			continue
		}
		if n := eligible - done[r.PolicyID]; n > 0 {
			o.OverdueByPolicy = append(o.OverdueByPolicy, PolicyCount{Slug: r.Slug, Title: r.Title, Major: r.Major, Overdue: n})
		}
	}
	sort.SliceStable(o.OverdueByPolicy, func(i, j int) bool { return o.OverdueByPolicy[i].Overdue > o.OverdueByPolicy[j].Overdue })
	return o, nil
}
