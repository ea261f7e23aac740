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

// Overview summarises compliance from the kept obligations, in a fixed
// number of aggregate queries whatever the number of employees.
func (s *Service) Overview(ctx context.Context) (*Overview, error) {
	db := s.db.WithContext(ctx)
	reqs, courses, err := s.basis(db)
	if err != nil {
		return nil, err
	}
	today := s.today()
	var byState []struct {
		State State
		N     int
	}
	if err := db.Raw("SELECT "+stateSQL+" AS state, COUNT(*) AS n FROM employees e LEFT JOIN compliance_states s ON s.employee_id = e.id GROUP BY state",
		today, today, today).Scan(&byState).Error; err != nil {
		return nil, err
	}
	o := &Overview{ByState: map[State]int{}}
	for _, c := range byState {
		o.ByState[c.State] = c.N
		if c.State != Offboarded {
			o.Active += c.N
		}
	}
	if o.Active > 0 {
		o.FullyCompliant = 100 * float64(o.ByState[Compliant]) / float64(o.Active)
	}

	// Overdue on a policy or course: active, and its item overdue today.
	var overdue []struct {
		Kind  string
		RefID int64
		N     int
	}
	if err := db.Raw(`SELECT i.kind, i.ref_id, COUNT(*) AS n FROM compliance_items i JOIN employees e ON e.id = i.employee_id
		WHERE i.kind IN (?) AND i.overdue_from <= ? AND (e.end_date IS NULL OR e.end_date > ?) GROUP BY i.kind, i.ref_id`,
		[]string{itemPolicy, itemCourse}, today, today).Scan(&overdue).Error; err != nil {
		return nil, err
	}
	type item struct {
		kind string
		ref  int64
	}
	n := map[item]int{}
	for _, r := range overdue {
		n[item{r.Kind, r.RefID}] = r.N
	}
	for _, c := range courses {
		if k := n[item{itemCourse, c.ID}]; k > 0 {
			o.OverdueByCourse = append(o.OverdueByCourse, CourseCount{Course: c.Name, Overdue: k})
		}
	}
	// Those kept as owing every policy count for each policy whose
	// version deadline has passed too (their item is overdue from the day
	// after their new-hire deadline).
	owingEvery := n[item{itemPolicy, everyPolicy}]
	for _, r := range reqs {
		k := n[item{itemPolicy, r.PolicyID}]
		if !today.Before(dayAfter(s.versionDue(r))) {
			k += owingEvery
		}
		if k > 0 {
			o.OverdueByPolicy = append(o.OverdueByPolicy, PolicyCount{Slug: r.Slug, Title: r.Title, Major: r.Major, Overdue: k})
		}
	}
	sort.SliceStable(o.OverdueByPolicy, func(i, j int) bool { return o.OverdueByPolicy[i].Overdue > o.OverdueByPolicy[j].Overdue })
	return o, nil
}
