package people

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// State is an employee's compliance state.
type State string

// The states, in the order a list shows them.
const (
	Compliant  State = "compliant"
	Due        State = "due"
	Overdue    State = "overdue"
	Offboarded State = "offboarded"
)

// States lists every state.
var States = []State{Compliant, Due, Overdue, Offboarded}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, x := range States {
		if x == s {
			return true
		}
	}
	return false
}

// Requirement is what every active employee owes for one policy: an
// acknowledgement of its latest major version (any minor of it will do).
type Requirement struct {
	PolicyID    int64
	Slug        string
	Title       string
	Major       int
	PublishedAt time.Time // when major.0 was published
}

// requirements reads, in one query, the latest published major version of
// every policy.
func requirements(db *gorm.DB) ([]Requirement, error) {
	var rows []Requirement
	err := db.Table("policy_versions v").
		Select("v.policy_id, p.slug, p.title, v.major, v.published_at").
		Joins("JOIN policies p ON p.id = v.policy_id").
		Where("v.minor = 0 AND v.status IN ('published', 'superseded')").
		Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	latest := map[int64]Requirement{}
	for _, r := range rows {
		if cur, ok := latest[r.PolicyID]; !ok || r.Major > cur.Major {
			latest[r.PolicyID] = r
		}
	}
	out := make([]Requirement, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	sortRequirements(out)
	return out, nil
}

// dueFor is when an employee who started on start owes requirement r: the
// later of the new-hire and the new-version deadlines.
func (s *Service) dueFor(start time.Time, r Requirement) time.Time {
	hire := start.AddDate(0, 0, s.settings.NewHireDays)
	version := r.PublishedAt.UTC().AddDate(0, 0, s.settings.NewVersionDays)
	if hire.After(version) {
		return hire
	}
	return version
}

// Summary is an employee's compliance at a glance.
type Summary struct {
	State        State
	Required     int // requirements owed in all
	Acknowledged int // of which satisfied
	Check        CheckStatus
	Courses      int // courses required
	Trained      int // of which current
}

// summaries computes each employee's state from the facts, read in a
// fixed number of queries whatever the number of employees.
func (s *Service) summaries(db *gorm.DB, emps []Employee) ([]Summary, error) {
	f, err := loadFacts(db)
	if err != nil {
		return nil, err
	}
	return s.summariesWith(db, emps, f)
}

// facts are what every employee's state is computed from, read once in
// five queries whatever the number of employees.
type facts struct {
	reqs      []Requirement
	courses   []Course
	latest    map[[2]int64]time.Time // latest completion by (employee, course)
	satisfied map[int64][]int64      // policies satisfied, by employee
	checks    map[int64]CheckStatus  // background check, by employee
}

func loadFacts(db *gorm.DB) (*facts, error) {
	var f facts
	var err error
	if f.reqs, err = requirements(db); err != nil {
		return nil, err
	}
	if f.courses, err = courseList(db); err != nil {
		return nil, err
	}
	if f.latest, err = latestTraining(db); err != nil {
		return nil, err
	}
	if f.satisfied, err = satisfiedSets(db, f.reqs); err != nil {
		return nil, err
	}
	var checks []BackgroundCheck
	if err := db.Select("employee_id", "status").Find(&checks).Error; err != nil {
		return nil, err
	}
	f.checks = make(map[int64]CheckStatus, len(checks))
	for _, c := range checks {
		f.checks[c.EmployeeID] = c.Status
	}
	return &f, nil
}

func (s *Service) summariesWith(_ *gorm.DB, emps []Employee, f *facts) ([]Summary, error) {
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
		// Overdue: some requirement is past both its deadlines, or the
		// background check or a training is past its own.
		case hireDue.Before(today) && c.Late < lateRequired, !check.Complete() && s.checkDue(e.StartDate).Before(today), trainingOverdue:
			sum.State = Overdue
		default:
			sum.State = Due
		}
		out[i] = sum
	}
	return out, nil
}

// Acknowledgement records that an employee acknowledged a policy version.
// Rows are never updated or deleted (database triggers enforce it).
type Acknowledgement struct {
	ID             int64
	EmployeeID     int64
	PolicyID       int64
	VersionID      int64
	Major          int
	Minor          int
	SHA256         string `gorm:"column:sha256"`
	AcknowledgedAt time.Time
	Method         string
	ClientIP       string `gorm:"column:client_ip"`
	UserAgent      string
	CreatedAt      time.Time
}

// Obligation is one requirement as it stands for one employee.
type Obligation struct {
	Requirement
	Due          time.Time
	Overdue      bool
	Acknowledged *Acknowledgement // the acknowledgement that satisfies it, if any
}

// Detail is an employee with everything they owe and have done.
type Detail struct {
	Employee     Employee
	Summary      Summary
	Check        BackgroundCheck
	CheckDue     time.Time
	CheckOverdue bool
	Training     []CourseStanding
	Completions  []CompletionRow // every cycle, newest first
	Obligations  []Obligation
	History      []AcknowledgementRow // newest first
}

// AcknowledgementRow is an acknowledgement with its policy, for history.
type AcknowledgementRow struct {
	Acknowledgement
	Slug  string
	Title string
}

// Detail returns an employee with their obligations and history.
// Errors: ErrEmployeeNotFound.
func (s *Service) Detail(ctx context.Context, email string) (*Detail, error) {
	db := s.db.WithContext(ctx)
	e, err := byEmail(db, email)
	if err != nil {
		return nil, err
	}
	reqs, err := requirements(db)
	if err != nil {
		return nil, err
	}
	var history []AcknowledgementRow
	err = db.Table("acknowledgements a").Select("a.*, p.slug, p.title").
		Joins("JOIN policies p ON p.id = a.policy_id").
		Where("a.employee_id = ?", e.ID).Order("a.acknowledged_at DESC, a.id DESC").Scan(&history).Error
	if err != nil {
		return nil, err
	}
	today := s.today()
	d := &Detail{Employee: *e, History: history}
	satisfied := 0
	for _, r := range reqs {
		o := Obligation{Requirement: r, Due: s.dueFor(e.StartDate, r)}
		for i := range history {
			if h := &history[i]; h.PolicyID == r.PolicyID && h.Major == r.Major {
				o.Acknowledged = &h.Acknowledgement
				break
			}
		}
		if o.Acknowledged != nil {
			satisfied++
		} else {
			o.Overdue = o.Due.Before(today)
		}
		d.Obligations = append(d.Obligations, o)
	}
	check, err := checkOf(db, e.ID)
	if err != nil {
		return nil, err
	}
	d.Check, d.CheckDue = *check, s.checkDue(e.StartDate)
	d.CheckOverdue = !check.Status.Complete() && d.CheckDue.Before(today)
	courses, err := courseList(db)
	if err != nil {
		return nil, err
	}
	if err := db.Table("training_records r").Select("r.*, c.name AS course").Joins("JOIN courses c ON c.id = r.course_id").
		Where("r.employee_id = ?", e.ID).Order("r.completed_on DESC, r.id DESC").Scan(&d.Completions).Error; err != nil {
		return nil, err
	}
	trained, trainingOverdue := 0, false
	for _, c := range courses {
		var last time.Time
		for _, r := range d.Completions {
			if r.CourseID == c.ID && r.CompletedOn.After(last) {
				last = r.CompletedOn
			}
		}
		st := s.standing(e, c, last, today)
		d.Training = append(d.Training, st)
		if st.Current {
			trained++
		}
		trainingOverdue = trainingOverdue || st.Overdue
	}
	d.Summary = Summary{Required: len(reqs), Acknowledged: satisfied, State: Due, Check: check.Status, Courses: len(courses), Trained: trained}
	switch {
	case !e.ActiveOn(today):
		d.Summary.State = Offboarded
	case satisfied == len(reqs) && check.Status.Complete() && trained == len(courses):
		d.Summary.State = Compliant
	case d.CheckOverdue, trainingOverdue:
		d.Summary.State = Overdue
	default:
		for _, o := range d.Obligations {
			if o.Overdue {
				d.Summary.State = Overdue
			}
		}
	}
	return d, nil
}

// CompletionRow is a training record with its course's name.
type CompletionRow struct {
	TrainingRecord
	Course string
}

// courseList reads every course, by name.
func courseList(db *gorm.DB) ([]Course, error) {
	var out []Course
	return out, db.Order("name").Find(&out).Error
}

// satisfiedSets reads, in one query, the policies whose current
// requirement each employee has satisfied. The sets come back as one
// comma-separated list per employee: one pass over the acknowledgements
// serves both the per-employee states and the per-policy counts.
func satisfiedSets(db *gorm.DB, reqs []Requirement) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(reqs) == 0 {
		return out, nil
	}
	pairs := make([][]any, len(reqs))
	for i, r := range reqs {
		pairs[i] = []any{r.PolicyID, r.Major}
	}
	agg := "GROUP_CONCAT(DISTINCT policy_id)"
	if db.Dialector.Name() == "postgres" {
		agg = "STRING_AGG(DISTINCT policy_id::text, ',')"
	}
	var rows []struct {
		EmployeeID int64
		Policies   string
	}
	if err := db.Table("acknowledgements").Select("employee_id, "+agg+" AS policies").
		Where("(policy_id, major) IN ?", pairs).Group("employee_id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		parts := strings.Split(r.Policies, ",")
		set := make([]int64, 0, len(parts))
		for _, p := range parts {
			id, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("reading satisfied policies %q: %w", r.Policies, err)
			}
			set = append(set, id)
		}
		out[r.EmployeeID] = set
	}
	return out, nil
}
