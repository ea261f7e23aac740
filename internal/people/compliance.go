package people

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// What each employee still owes is kept in compliance_items, one row per
// obligation not met (one for every policy when none is met), and their earliest dates in compliance_states (see
// migration 00030). The rows hold dates, not states, because deadlines
// pass without writes: the readers compare them with today in SQL. Every
// change that moves an employee's obligations rewrites that employee's
// rows in its own transaction (refresh, or hired for new employees); a
// change of what everyone owes (a new major version, a new course) or of
// the deadline settings rewrites all of them (rebuild).

// The kinds of obligation.
const (
	itemPolicy = "policy"
	itemCourse = "course"
	itemCheck  = "check"
)

// everyPolicy is the ref_id of the one policy item that stands for every
// current requirement, kept for someone who has acknowledged none of them
// (see obligations): a new hire then writes one row, not one per policy.
const everyPolicy = 0

// complianceItem is one obligation an employee has not met: outstanding
// from OutstandingFrom, overdue from OverdueFrom (both dates).
type complianceItem struct {
	EmployeeID      int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind            string `gorm:"primaryKey"`
	RefID           int64  `gorm:"primaryKey;autoIncrement:false"` // the policy's or course's id; 0 for the check
	OutstandingFrom time.Time
	OverdueFrom     time.Time
}

func (complianceItem) TableName() string { return "compliance_items" }

// complianceState is an employee's earliest dates over their items; an
// employee who owes nothing has no row.
type complianceState struct {
	EmployeeID      int64 `gorm:"primaryKey;autoIncrement:false"`
	OutstandingFrom time.Time
	OverdueFrom     time.Time
}

func (complianceState) TableName() string { return "compliance_states" }

// complianceBasis records what the rows were computed from.
type complianceBasis struct {
	ID          int64 `gorm:"primaryKey;autoIncrement:false"`
	Fingerprint string
	RebuiltAt   time.Time
}

func (complianceBasis) TableName() string { return "compliance_basis" }

// sinceEver is the OutstandingFrom of an obligation that is outstanding
// until it is met, whatever the day.
func sinceEver() time.Time { return time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC) }

// dayAfter is the first day on which a deadline of t has passed: deadlines
// are compared with the start of today (UTC), so whatever time of day t
// has, it has passed from the next calendar day on.
func dayAfter(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// obligations computes, from the facts, the items of each employee (only
// id and start date are read) and their states. It is the one place that
// says what is owed; the readers only compare its dates with today.
func (s *Service) obligations(emps []Employee, f *facts) ([]complianceItem, []complianceState) {
	var items []complianceItem
	states := make([]complianceState, 0, len(emps))
	for i := range emps {
		e := &emps[i]
		first := len(items)
		for _, r := range f.reqs {
			if !slices.Contains(f.satisfied[e.ID], r.PolicyID) {
				items = append(items, complianceItem{EmployeeID: e.ID, Kind: itemPolicy, RefID: r.PolicyID,
					OutstandingFrom: sinceEver(), OverdueFrom: dayAfter(s.dueFor(e.StartDate, r))})
			}
		}
		// Someone who owes every policy (every new hire) is kept as one
		// item for all of them, overdue from the day after the new-hire
		// deadline: a policy is overdue for them when that day and the
		// policy's own version deadline have both passed (the later of the
		// two is dueFor's). The state below is taken from the full list.
		policies := len(items) - first
		allPolicies := len(f.reqs) > 0 && policies == len(f.reqs)
		for _, c := range f.courses {
			// standing's dates do not depend on the day it is given.
			st := s.standing(e, c, f.latest[[2]int64{e.ID, c.ID}], time.Time{})
			switch {
			case st.LastCompleted == nil:
				items = append(items, complianceItem{EmployeeID: e.ID, Kind: itemCourse, RefID: c.ID,
					OutstandingFrom: sinceEver(), OverdueFrom: dayAfter(st.Due)})
			case st.Expires != nil:
				// Current through the expiry day, overdue from the next.
				lapse := dayAfter(*st.Expires)
				items = append(items, complianceItem{EmployeeID: e.ID, Kind: itemCourse, RefID: c.ID, OutstandingFrom: lapse, OverdueFrom: lapse})
			}
		}
		check := f.checks[e.ID]
		if check == "" {
			check = CheckNotStarted
		}
		if !check.Complete() {
			items = append(items, complianceItem{EmployeeID: e.ID, Kind: itemCheck,
				OutstandingFrom: sinceEver(), OverdueFrom: dayAfter(s.checkDue(e.StartDate))})
		}
		if len(items) == first {
			continue
		}
		st := complianceState{EmployeeID: e.ID, OutstandingFrom: items[first].OutstandingFrom, OverdueFrom: items[first].OverdueFrom}
		for _, it := range items[first+1:] {
			if it.OutstandingFrom.Before(st.OutstandingFrom) {
				st.OutstandingFrom = it.OutstandingFrom
			}
			if it.OverdueFrom.Before(st.OverdueFrom) {
				st.OverdueFrom = it.OverdueFrom
			}
		}
		states = append(states, st)
		if allPolicies {
			every := complianceItem{EmployeeID: e.ID, Kind: itemPolicy, RefID: everyPolicy,
				OutstandingFrom: sinceEver(), OverdueFrom: dayAfter(s.hireDue(e.StartDate))}
			items = append(append(items[:first], every), items[first+policies:]...)
		}
	}
	return items, states
}

// idChunk bounds the ids one IN list carries, within every database's
// parameter limit.
const idChunk = 1000

// eachChunk calls fn with successive chunks of ids.
func eachChunk(ids []int64, fn func([]int64) error) error {
	for i := 0; i < len(ids); i += idChunk {
		if err := fn(ids[i:min(i+idChunk, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

// complianceLockKey names the PostgreSQL advisory lock between rebuilds
// (exclusive) and the refreshes of a few employees (shared).
const complianceLockKey = "people.compliance"

// lockCompliance makes, on PostgreSQL, a refresh wait for a running
// rebuild (and a rebuild for running refreshes), and locks the employees'
// rows so that two transactions refreshing one employee run one after the
// other, the second reading what the first committed. SQLite's write
// transactions already run one at a time.
func lockCompliance(tx *gorm.DB, exclusive bool) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	return tx.Exec("SELECT "+fn+"(hashtext(?))", complianceLockKey).Error
}

// saveObligations inserts items and states, a few hundred rows per
// statement. The statements are written out rather than built by gorm's
// Create: a hire, the most frequent write, saves a row per policy, and
// reflecting over each row cost as much as the rest of the request.
func saveObligations(tx *gorm.DB, items []complianceItem, states []complianceState) error {
	for chunk := range slices.Chunk(items, 200) {
		args := make([]any, 0, 5*len(chunk))
		for _, it := range chunk {
			args = append(args, it.EmployeeID, it.Kind, it.RefID, it.OutstandingFrom, it.OverdueFrom)
		}
		q := "INSERT INTO compliance_items (employee_id, kind, ref_id, outstanding_from, overdue_from) VALUES " + store.Placeholders(len(chunk), 5)
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("saving compliance items: %w", err)
		}
	}
	for chunk := range slices.Chunk(states, 300) {
		args := make([]any, 0, 3*len(chunk))
		for _, st := range chunk {
			args = append(args, st.EmployeeID, st.OutstandingFrom, st.OverdueFrom)
		}
		q := "INSERT INTO compliance_states (employee_id, outstanding_from, overdue_from) VALUES " + store.Placeholders(len(chunk), 3)
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("saving compliance states: %w", err)
		}
	}
	return nil
}

// obligationCount counts the obligations items stand for: the item for
// every policy counts as required.
func obligationCount(items []complianceItem, required int) int {
	n := 0
	for _, it := range items {
		if it.Kind == itemPolicy && it.RefID == everyPolicy {
			n += required
		} else {
			n++
		}
	}
	return n
}

// refresh recomputes, in tx, the obligations of the given employees from
// their acknowledgements, training, background check and start date. Every
// change of those calls it before its transaction commits.
func (s *Service) refresh(tx *gorm.DB, ids ...int64) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	if err := lockCompliance(tx, false); err != nil {
		return err
	}
	var emps []Employee
	if err := eachChunk(ids, func(chunk []int64) error {
		var part []Employee
		err := store.ForUpdate(tx).Select("id", "start_date").Where("id IN ?", chunk).Order("id").Find(&part).Error
		emps = append(emps, part...)
		return err
	}); err != nil {
		return err
	}
	f, err := loadFacts(tx, ids)
	if err != nil {
		return err
	}
	if err := eachChunk(ids, func(chunk []int64) error {
		if err := tx.Where("employee_id IN ?", chunk).Delete(&complianceItem{}).Error; err != nil {
			return err
		}
		return tx.Where("employee_id IN ?", chunk).Delete(&complianceState{}).Error
	}); err != nil {
		return err
	}
	items, states := s.obligations(emps, f)
	return saveObligations(tx, items, states)
}

// hired stores, in tx, the obligations of employees just created: having
// done nothing yet, they owe every requirement, course and their check.
func (s *Service) hired(tx *gorm.DB, emps ...Employee) error {
	if len(emps) == 0 {
		return nil
	}
	if err := lockCompliance(tx, false); err != nil {
		return err
	}
	f, err := s.owedByAll(tx)
	if err != nil {
		return err
	}
	items, states := s.obligations(emps, f)
	return saveObligations(tx, items, states)
}

// hireBasis keeps the requirements and courses that the kept obligations
// were last rebuilt from, under their fingerprint: while the database
// records the same fingerprint, a hire (the most frequent write) reads one
// row instead of the policies' versions and the courses. The database
// stays the authority: every instance's rebuild changes the recorded
// fingerprint in the transaction that changes what everyone owes.
type hireBasis struct {
	mu          sync.Mutex
	fingerprint string
	reqs        []Requirement
	courses     []Course
}

// owedByAll returns the facts of an employee who has done nothing: the
// requirements and courses (only what obligations reads of them).
func (s *Service) owedByAll(tx *gorm.DB) (*facts, error) {
	stored, err := memoFingerprint(tx)
	if err != nil {
		return nil, err
	}
	s.hireBasis.mu.Lock()
	if stored != "" && stored == s.hireBasis.fingerprint {
		f := &facts{reqs: s.hireBasis.reqs, courses: s.hireBasis.courses}
		s.hireBasis.mu.Unlock()
		return f, nil
	}
	s.hireBasis.mu.Unlock()
	f := &facts{}
	if f.reqs, err = requirements(tx); err != nil {
		return nil, err
	}
	if f.courses, err = courseList(tx); err != nil {
		return nil, err
	}
	if fp := s.fingerprint(f.reqs, f.courses); fp == stored {
		s.hireBasis.mu.Lock()
		s.hireBasis.fingerprint, s.hireBasis.reqs, s.hireBasis.courses = fp, f.reqs, f.courses
		s.hireBasis.mu.Unlock()
	}
	return f, nil
}

// rebuild recomputes, in tx, everyone's obligations and records what they
// were computed from. It returns the number of obligations.
func (s *Service) rebuild(tx *gorm.DB) (int, error) {
	if err := lockCompliance(tx, true); err != nil {
		return 0, err
	}
	f, err := loadFacts(tx, nil)
	if err != nil {
		return 0, err
	}
	var emps []Employee
	if err := tx.Select("id", "start_date").Order("id").Find(&emps).Error; err != nil {
		return 0, err
	}
	for _, del := range []any{&complianceItem{}, &complianceState{}} {
		if err := tx.Session(&gorm.Session{AllowGlobalUpdate: true}).Delete(del).Error; err != nil {
			return 0, err
		}
	}
	items, states := s.obligations(emps, f)
	if err := saveObligations(tx, items, states); err != nil {
		return 0, err
	}
	basis := complianceBasis{ID: 1, Fingerprint: s.fingerprint(f.reqs, f.courses), RebuiltAt: s.clock()}
	if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&basis).Error; err != nil {
		return 0, err
	}
	store.TxMemo(tx).Set(basisMemoKey, basis.Fingerprint)
	return obligationCount(items, len(f.reqs)), nil
}

// fingerprint names what the obligations are computed from besides each
// employee's own records: the deadline settings, the requirements and the
// courses. A change of it means that every row may be wrong.
func (s *Service) fingerprint(reqs []Requirement, courses []Course) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v1 hire=%d version=%d check=%d\n", s.settings.NewHireDays, s.settings.NewVersionDays, s.settings.BackgroundCheckDays)
	byID := slices.Clone(reqs)
	sort.Slice(byID, func(i, j int) bool { return byID[i].PolicyID < byID[j].PolicyID })
	for _, r := range byID {
		fmt.Fprintf(&b, "policy %d major %d published %d\n", r.PolicyID, r.Major, r.PublishedAt.UTC().UnixMicro())
	}
	cs := slices.Clone(courses)
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	for _, c := range cs {
		fmt.Fprintf(&b, "course %d every %d\n", c.ID, c.RecurrenceMonths)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// basis reads the requirements and courses that every employee owes and
// makes sure that the kept obligations were computed from them and from
// these settings; when they were not (a first start after the migration,
// changed settings, a change that bypassed the service), it rebuilds them
// first, in a transaction of its own or as part of db's.
func (s *Service) basis(db *gorm.DB) ([]Requirement, []Course, error) {
	reqs, err := requirements(db)
	if err != nil {
		return nil, nil, err
	}
	courses, err := courseList(db)
	if err != nil {
		return nil, nil, err
	}
	stored, err := storedFingerprint(db)
	if err != nil {
		return nil, nil, err
	}
	if stored == s.fingerprint(reqs, courses) {
		return reqs, courses, nil
	}
	if _, _, err := s.rebuildIfStale(db); err != nil {
		return nil, nil, err
	}
	if reqs, err = requirements(db); err != nil {
		return nil, nil, err
	}
	courses, err = courseList(db)
	return reqs, courses, err
}

// basisMemoKey keeps the recorded fingerprint in the SQLite writer's memo
// (store.Memo), so that a hire does not read it in the serialized turn:
// rebuild, the only code that records one, sets it in its transaction.
const basisMemoKey = "compliance basis fingerprint"

// memoFingerprint is storedFingerprint, from the memo when it holds it.
func memoFingerprint(tx *gorm.DB) (string, error) {
	memo := store.TxMemo(tx)
	if v, ok := memo.Get(basisMemoKey); ok {
		return v.(string), nil
	}
	fp, err := storedFingerprint(tx)
	if err == nil {
		memo.Set(basisMemoKey, fp)
	}
	return fp, err
}

func storedFingerprint(db *gorm.DB) (string, error) {
	var fps []string
	err := db.Model(&complianceBasis{}).Where("id = 1").Pluck("fingerprint", &fps).Error
	if err != nil || len(fps) == 0 {
		return "", err
	}
	return fps[0], nil
}

// rebuildIfStale rebuilds the obligations when their fingerprint differs
// from the current one; it checks again under the rebuild's lock, so that
// instances starting together rebuild once.
func (s *Service) rebuildIfStale(db *gorm.DB) (rebuilt bool, items int, err error) {
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := lockCompliance(tx, true); err != nil {
			return err
		}
		reqs, err := requirements(tx)
		if err != nil {
			return err
		}
		courses, err := courseList(tx)
		if err != nil {
			return err
		}
		stored, err := storedFingerprint(tx)
		if err != nil || stored == s.fingerprint(reqs, courses) {
			return err
		}
		rebuilt = true
		items, err = s.rebuild(tx)
		return err
	})
	return rebuilt, items, err
}

// EnsureCompliance rebuilds the kept obligations when they were computed
// from other settings, requirements or courses than the current ones (or
// never). Serving calls it at start. It reports whether it rebuilt.
func (s *Service) EnsureCompliance(ctx context.Context) (bool, error) {
	rebuilt, _, err := s.rebuildIfStale(s.db.WithContext(ctx))
	return rebuilt, err
}

// RebuildCompliance recomputes every employee's obligations from the
// records and returns how many are outstanding (or will be, as completions
// expire).
func (s *Service) RebuildCompliance(ctx context.Context) (int, error) {
	var n int
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		n, err = s.rebuild(tx)
		return err
	})
	return n, err
}

// RequirementsChanged recomputes, in tx, everyone's obligations after a
// new major version came into force (a new policy's 1.0 included). The
// policy service calls it in the publishing transaction.
func (s *Service) RequirementsChanged(tx *gorm.DB, _ []policy.Version) error {
	_, err := s.rebuild(tx)
	return err
}
