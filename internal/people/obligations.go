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
	hire, version := s.hireDue(start), s.versionDue(r)
	if hire.After(version) {
		return hire
	}
	return version
}

// hireDue is the new-hire deadline of an employee who started on start.
func (s *Service) hireDue(start time.Time) time.Time {
	return start.AddDate(0, 0, s.settings.NewHireDays)
}

// versionDue is the new-version deadline of requirement r.
func (s *Service) versionDue(r Requirement) time.Time {
	return r.PublishedAt.UTC().AddDate(0, 0, s.settings.NewVersionDays)
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

// facts are what obligations are computed from, read in five queries
// whatever the number of employees.
type facts struct {
	reqs      []Requirement
	courses   []Course
	latest    map[[2]int64]time.Time // latest completion by (employee, course)
	satisfied map[int64][]int64      // policies satisfied, by employee
	checks    map[int64]CheckStatus  // background check, by employee
}

// loadFacts reads the facts of the given employees (of all when ids is
// nil).
func loadFacts(db *gorm.DB, ids []int64) (*facts, error) {
	var f facts
	var err error
	if f.reqs, err = requirements(db); err != nil {
		return nil, err
	}
	if f.courses, err = courseList(db); err != nil {
		return nil, err
	}
	if f.latest, err = latestTraining(db, ids); err != nil {
		return nil, err
	}
	if f.satisfied, err = satisfiedSets(db, f.reqs, ids); err != nil {
		return nil, err
	}
	f.checks = map[int64]CheckStatus{}
	err = forEmployees(ids, func(where func(*gorm.DB) *gorm.DB) error {
		var checks []BackgroundCheck
		if err := where(db.Select("employee_id", "status")).Find(&checks).Error; err != nil {
			return err
		}
		for _, c := range checks {
			f.checks[c.EmployeeID] = c.Status
		}
		return nil
	})
	return &f, err
}

// forEmployees calls read with a filter on employee_id: once without one
// when ids is nil (everyone), else once per chunk of ids.
func forEmployees(ids []int64, read func(where func(*gorm.DB) *gorm.DB) error) error {
	if ids == nil {
		return read(func(q *gorm.DB) *gorm.DB { return q })
	}
	return eachChunk(ids, func(chunk []int64) error {
		return read(func(q *gorm.DB) *gorm.DB { return q.Where("employee_id IN ?", chunk) })
	})
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
func satisfiedSets(db *gorm.DB, reqs []Requirement, ids []int64) (map[int64][]int64, error) {
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
	if err := forEmployees(ids, func(where func(*gorm.DB) *gorm.DB) error {
		var part []struct {
			EmployeeID int64
			Policies   string
		}
		err := where(db.Table("acknowledgements").Select("employee_id, "+agg+" AS policies").
			Where("(policy_id, major) IN ?", pairs)).Group("employee_id").Scan(&part).Error
		rows = append(rows, part...)
		return err
	}); err != nil {
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
