package people

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Settings decide when something falls due and how links are made.
type Settings struct {
	// NewHireDays: a new hire owes acknowledgements this many days after
	// their start date.
	NewHireDays int
	// NewVersionDays: a new major version is owed this many days after its
	// publication.
	NewVersionDays int
	// BackgroundCheckDays: a background check must be complete this many
	// days after the start date (0: by the start date).
	BackgroundCheckDays int
	// AckLinkTTL is how long an acknowledgement link works.
	AckLinkTTL time.Duration
	// BaseURL prefixes the links in emails.
	BaseURL string
	// Mail renders the emails; NewService parses its own when nil (the
	// composition root passes the one it shares).
	Mail *notify.Templates
}

// DefaultSettings are the defaults of the settings.
var DefaultSettings = Settings{NewHireDays: 30, NewVersionDays: 30, AckLinkTTL: 30 * 24 * time.Hour, BaseURL: "http://localhost:8080"}

// Service keeps the employee register.
type Service struct {
	db        *gorm.DB
	now       func() time.Time
	settings  Settings
	check     *check.Validator
	hireBasis hireBasis
}

// NewService returns a Service on db with the given clock and settings.
func NewService(db *gorm.DB, now func() time.Time, settings Settings) *Service {
	if settings.Mail == nil {
		settings.Mail = notify.MustTemplates()
	}
	return &Service{db: db, now: now, settings: settings, check: check.New()}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// today is the current UTC calendar date.
func (s *Service) today() time.Time {
	y, m, d := s.now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func byEmail(tx *gorm.DB, email string) (*Employee, error) {
	var e Employee
	err := tx.Where("email = ?", notify.NormalizeAddress(email)).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrEmployeeNotFound
	}
	return &e, err
}

// Get returns an employee by email. Errors: ErrEmployeeNotFound.
func (s *Service) Get(ctx context.Context, email string) (*Employee, error) {
	return byEmail(s.db.WithContext(ctx), email)
}

// Create adds an employee. Errors: Invalid naming each field, ErrEmployeeExists.
func (s *Service) Create(ctx context.Context, by audit.Actor, in Input) (*Employee, error) {
	e, errs := in.Parse(s.check)
	if errs != nil {
		return nil, apperr.Fields(errs)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.insert(tx, by, &e); err != nil {
			return err
		}
		return s.hired(tx, e)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, ErrEmployeeExists
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

func (s *Service) insert(tx *gorm.DB, by audit.Actor, e *Employee) error {
	now := s.clock()
	e.CreatedAt, e.UpdatedAt = now, now
	// Written out rather than gorm's Create: a hire is the most frequent
	// write, and reflecting over the row cost as much as inserting it.
	id, err := store.InsertReturningID(tx, `INSERT INTO employees (email, name, title, department, manager_email, country, employment_type, start_date, end_date, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Email, e.Name, e.Title, e.Department, e.ManagerEmail, e.Country, e.EmploymentType, e.StartDate, e.EndDate, e.CreatedAt, e.UpdatedAt)
	if err != nil {
		return err
	}
	e.ID = id
	return audit.Append(tx, by, audit.Entry{At: now, Action: "employee.created", ObjectType: "employee", ObjectID: e.Email, After: state(e)})
}

// replace stores next over cur when they differ, and reports whether it wrote.
func (s *Service) replace(tx *gorm.DB, by audit.Actor, cur, next *Employee) (bool, error) {
	if same(cur, next) {
		return false, nil
	}
	before := state(cur)
	now := s.clock()
	next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, now
	if err := tx.Save(next).Error; err != nil {
		return false, err
	}
	action := "employee.updated"
	if cur.EndDate == nil && next.EndDate != nil {
		action = "employee.offboarded"
		// An offboarded employee's link dies at once.
		if err := sharelink.Revoke(tx, now, AckLinkPurpose, cur.ID); err != nil {
			return false, err
		}
	}
	return true, audit.Append(tx, by, audit.Entry{At: now, Action: action, ObjectType: "employee", ObjectID: next.Email,
		Before: before, After: state(next)})
}

// Patch names the fields to change; nil leaves a field as it is, "" clears
// an optional one.
type Patch struct {
	Email          *string
	Name           *string
	Title          *string
	Department     *string
	ManagerEmail   *string
	Country        *string
	EmploymentType *string
	StartDate      *string
	EndDate        *string
}

func (p Patch) apply(in Input) Input {
	for _, f := range []struct {
		src *string
		dst *string
	}{
		{p.Email, &in.Email}, {p.Name, &in.Name}, {p.Title, &in.Title}, {p.Department, &in.Department},
		{p.ManagerEmail, &in.ManagerEmail}, {p.Country, &in.Country}, {p.EmploymentType, &in.EmploymentType},
		{p.StartDate, &in.StartDate}, {p.EndDate, &in.EndDate},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return in
}

// Update changes the given fields of an employee. Setting end_date
// offboards them; every record is kept. Errors: ErrEmployeeNotFound,
// Invalid, ErrEmployeeExists (a new email already taken).
func (s *Service) Update(ctx context.Context, by audit.Actor, email string, p Patch) (*Employee, error) {
	var next Employee
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := byEmail(store.ForUpdate(tx), email)
		if err != nil {
			return err
		}
		var errs map[string]string
		if next, errs = p.apply(InputOf(cur)).Parse(s.check); errs != nil {
			return apperr.Fields(errs)
		}
		if _, err = s.replace(tx, by, cur, &next); err != nil {
			return err
		}
		if startMoved(cur, &next) {
			return s.refresh(tx, cur.ID)
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, ErrEmployeeExists
	}
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// Upsert makes the employee with this email exactly as described: created
// if new, replaced if different, untouched (and not audited) if the same.
// It is what HR-system syncs call. Errors: Invalid.
func (s *Service) Upsert(ctx context.Context, by audit.Actor, email string, in Input) (*Employee, Outcome, error) {
	in.Email = email
	e, errs := in.Parse(s.check)
	if errs != nil {
		return nil, 0, apperr.Fields(errs)
	}
	var out Outcome
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		out, err = s.upsert(tx, by, &e)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return &e, out, nil
}

// Outcome says what an upsert did.
type Outcome int

// The outcomes of an upsert.
const (
	Unchanged Outcome = iota
	Created
	Updated
)

func (s *Service) upsert(tx *gorm.DB, by audit.Actor, e *Employee) (Outcome, error) {
	cur, err := byEmail(store.ForUpdate(tx), e.Email)
	if errors.Is(err, ErrEmployeeNotFound) {
		if err := s.insert(tx, by, e); err != nil {
			return 0, err
		}
		return Created, s.hired(tx, *e)
	} else if err != nil {
		return 0, err
	}
	wrote, err := s.replace(tx, by, cur, e)
	if !wrote {
		*e = *cur
		return Unchanged, err
	}
	if err == nil && startMoved(cur, e) {
		err = s.refresh(tx, cur.ID)
	}
	return Updated, err
}

// startMoved reports whether an employee's start date, from which their
// deadlines count, changed; the end date moves no obligation (it decides
// only, on each day, whether they are offboarded).
func startMoved(cur, next *Employee) bool { return !cur.StartDate.Equal(next.StartDate) }

// Departments lists the departments in use, for filter menus.
func (s *Service) Departments(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&Employee{}).Where("department <> ''").Distinct().Order("department").Pluck("department", &out).Error
	return out, err
}

// ListFilter selects employees for the people list.
type ListFilter struct {
	Query      string // part of the name or email, case-insensitive
	Department string
	State      State // "" for all
	Active     bool  // only those not offboarded, as the overview counts them
}

// Row is an employee with their compliance summary.
type Row struct {
	Employee
	Summary Summary
}

// Page is one page of the people list.
type Page struct {
	Rows   []Row
	Total  int           // employees matching the filter
	Counts map[State]int // matching employees by state, before the state filter
}

// List returns every employee matching f, by name, each with their state.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Row, error) {
	p, err := s.ListPage(ctx, f, 0, math.MaxInt)
	if err != nil {
		return nil, err
	}
	return p.Rows, nil
}

// ListPage returns limit employees from offset among those matching f, by
// name, each with their state. The states come from the kept obligations,
// compared with today in SQL: the counts are one aggregate query, the page
// one indexed query, and only the page's rows are read, so the cost stays
// flat in the number of employees.
func (s *Service) ListPage(ctx context.Context, f ListFilter, offset, limit int) (*Page, error) {
	if f.State != "" && !f.State.Valid() {
		return nil, apperr.Field("state", "must be one of compliant, due, overdue, offboarded")
	}
	db := s.db.WithContext(ctx)
	reqs, courses, err := s.basis(db)
	if err != nil {
		return nil, err
	}
	today := s.today()
	matching := func() *gorm.DB {
		q := db.Table("employees e").Joins("LEFT JOIN compliance_states s ON s.employee_id = e.id")
		if f.Query != "" {
			like := "%" + store.EscapeLike(strings.ToLower(strings.TrimSpace(f.Query))) + "%"
			q = q.Where("(LOWER(e.name) LIKE ? ESCAPE '\\' OR e.email LIKE ? ESCAPE '\\')", like, like)
		}
		if f.Department != "" {
			q = q.Where("e.department = ?", f.Department)
		}
		return q
	}
	var counts []struct {
		State State
		N     int
	}
	if err := matching().Select(stateSQL+" AS state, COUNT(*) AS n", today, today, today).Group("state").Scan(&counts).Error; err != nil {
		return nil, err
	}
	p := &Page{Counts: map[State]int{}}
	for _, c := range counts {
		p.Counts[c.State] = c.N
		if (f.State == "" || c.State == f.State) && (!f.Active || c.State != Offboarded) {
			p.Total += c.N
		}
	}
	if offset >= p.Total {
		return p, nil
	}
	q := matching().Joins("LEFT JOIN background_checks b ON b.employee_id = e.id").
		Select("e.*, "+stateSQL+" AS state, COALESCE(b.status, ?) AS check_status", today, today, today, CheckNotStarted)
	if f.State != "" {
		q = q.Where(stateSQL+" = ?", today, today, today, f.State)
	}
	if f.Active {
		q = q.Where(stateSQL+" <> ?", today, today, today, Offboarded)
	}
	var rows []listRow
	if err := q.Order("e.name, e.email").Offset(offset).Limit(limit).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if p.Rows, err = s.summariesOf(db, rows, len(reqs), len(courses), today); err != nil {
		return nil, err
	}
	return p, nil
}

// stateSQL is the state of employee e on a day (given three times as
// parameters) from their compliance_states row s: the order of the cases
// is the order in which the states win.
const stateSQL = `CASE WHEN e.end_date IS NOT NULL AND e.end_date <= ? THEN 'offboarded'
	WHEN s.overdue_from <= ? THEN 'overdue'
	WHEN s.outstanding_from <= ? THEN 'due'
	ELSE 'compliant' END`

// listRow is an employee with their state and background check.
type listRow struct {
	Employee
	State       State
	CheckStatus CheckStatus
}

// summariesOf completes the rows' summaries with the counts of their
// outstanding items, read in one query (per chunk of rows).
func (s *Service) summariesOf(db *gorm.DB, rows []listRow, required, courses int, today time.Time) ([]Row, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	outstanding, err := outstandingCounts(db, ids, required, today)
	if err != nil {
		return nil, err
	}
	out := make([]Row, len(rows))
	for i := range rows {
		r := &rows[i]
		o := outstanding[r.ID]
		out[i] = Row{Employee: r.Employee, Summary: Summary{State: r.State, Required: required, Acknowledged: required - o.policies,
			Check: r.CheckStatus, Courses: courses, Trained: courses - o.courses}}
	}
	return out, nil
}

// outstanding counts an employee's policies and courses outstanding on a day.
type outstanding struct{ policies, courses int }

// required is the number of policy requirements, which the item standing
// for every policy (everyPolicy) counts for.
func outstandingCounts(db *gorm.DB, ids []int64, required int, today time.Time) (map[int64]outstanding, error) {
	out := make(map[int64]outstanding, len(ids))
	err := eachChunk(ids, func(chunk []int64) error {
		var counts []struct {
			EmployeeID int64
			Kind       string
			N          int
		}
		if err := db.Model(&complianceItem{}).Select("employee_id, kind, SUM(CASE WHEN ref_id = ? AND kind = ? THEN ? ELSE 1 END) AS n", everyPolicy, itemPolicy, required).
			Where("employee_id IN ? AND kind IN ? AND outstanding_from <= ?", chunk, []string{itemPolicy, itemCourse}, today).
			Group("employee_id, kind").Scan(&counts).Error; err != nil {
			return err
		}
		for _, c := range counts {
			o := out[c.EmployeeID]
			if c.Kind == itemPolicy {
				o.policies = c.N
			} else {
				o.courses = c.N
			}
			out[c.EmployeeID] = o
		}
		return nil
	})
	return out, err
}

// sortRequirements orders requirements by policy title (then slug).
func sortRequirements(rs []Requirement) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Title != rs[j].Title {
			return rs[i].Title < rs[j].Title
		}
		return rs[i].Slug < rs[j].Slug
	})
}
