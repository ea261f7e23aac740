package people

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/sharelink"
	"gorm.io/gorm"
)

// AckLinkPurpose names acknowledgement links among share links.
const AckLinkPurpose = "ack"

// Errors of the acknowledgement link.
var (
	ErrNothingOwed     = apperr.New(apperr.Conflict, "this employee owes no acknowledgements")
	ErrNotOwed         = apperr.New(apperr.Conflict, "this policy is already acknowledged")
	ErrVersionChanged  = apperr.New(apperr.Conflict, "a newer version of this policy was published while you were reading; please read it again")
	ErrStatementNeeded = apperr.Field("agree", "must be ticked to confirm that you have read the policy and will follow it")
)

// mailDomain is the domain of Message-IDs, from the base URL.
func (s *Service) mailDomain() string { return notify.MessageDomain(s.settings.BaseURL) }

// newAckLink makes a new link for e (revoking the old one) in tx and
// returns its URL; via says which email will carry it, for the audit trail.
func (s *Service) newAckLink(tx *gorm.DB, by audit.Actor, e *Employee, via string) (string, time.Time, error) {
	now := s.clock()
	token, link, err := sharelink.Issue(tx, now, AckLinkPurpose, e.ID, s.settings.AckLinkTTL)
	if err != nil {
		return "", time.Time{}, err
	}
	url := strings.TrimRight(s.settings.BaseURL, "/") + "/ack/" + token
	return url, link.ExpiresAt, audit.Append(tx, by, audit.Entry{At: now, Action: "ack_link.issued", ObjectType: "employee", ObjectID: e.Email,
		After: map[string]any{"expires_at": link.ExpiresAt, "sent_in": via}})
}

// issueAckLink makes a new link for e and queues the email carrying it.
func (s *Service) issueAckLink(tx *gorm.DB, by audit.Actor, e *Employee, owed int) (*notify.Message, error) {
	url, expires, err := s.newAckLink(tx, by, e, "ack_link email")
	if err != nil {
		return nil, err
	}
	return s.settings.Mail.Enqueue(tx, s.clock(), s.mailDomain(), e.Email,
		notify.AckLink{FirstName: firstName(e.Name), Owed: owed, Link: url, Expires: expires.UTC()})
}

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return name
}

// IssueAckLink sends one employee a new acknowledgement link (through the
// outbox), replacing any earlier one. Errors: ErrEmployeeNotFound,
// ErrOffboarded, ErrNothingOwed.
func (s *Service) IssueAckLink(ctx context.Context, by audit.Actor, email string) (*notify.Message, error) {
	var m *notify.Message
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		e, err := byEmail(tx, email)
		if err != nil {
			return err
		}
		if !e.ActiveOn(s.today()) {
			return ErrOffboarded
		}
		owed, err := s.owedAcknowledgements(tx, []int64{e.ID})
		if err != nil {
			return err
		}
		if owed[e.ID] <= 0 {
			return ErrNothingOwed
		}
		m, err = s.issueAckLink(tx, by, e, owed[e.ID])
		return err
	})
	return m, err
}

// AckLinkRecipient is an active employee who owes acknowledgements and
// would be sent a new link.
type AckLinkRecipient struct {
	Name  string
	Email string
	Owed  int
	// LiveLink says that their current link still works; sending a new
	// one replaces it.
	LiveLink bool
	employee Employee
}

// AckLinkPlan is what sending links to everyone who owes an
// acknowledgement would do.
type AckLinkPlan struct {
	Recipients []AckLinkRecipient // by email
	Replaced   int                // of whom with a live link
}

// ackLinkPlan lists, in db, the active employees who owe an
// acknowledgement.
func (s *Service) ackLinkPlan(db *gorm.DB) (*AckLinkPlan, error) {
	var emps []Employee
	if err := db.Where("end_date IS NULL OR end_date > ?", s.today()).Order("email").Find(&emps).Error; err != nil {
		return nil, err
	}
	ids := make([]int64, len(emps))
	for i := range emps {
		ids[i] = emps[i].ID
	}
	owed, err := s.owedAcknowledgements(db, ids)
	if err != nil {
		return nil, err
	}
	live, err := sharelink.LiveSubjects(db, s.clock(), AckLinkPurpose)
	if err != nil {
		return nil, err
	}
	plan := &AckLinkPlan{}
	for _, e := range emps {
		if n := owed[e.ID]; n > 0 {
			plan.Recipients = append(plan.Recipients, AckLinkRecipient{Name: e.Name, Email: e.Email, Owed: n, LiveLink: live[e.ID], employee: e})
			if live[e.ID] {
				plan.Replaced++
			}
		}
	}
	return plan, nil
}

// owedAcknowledgements counts, by employee, the policies each still has
// to acknowledge.
func (s *Service) owedAcknowledgements(db *gorm.DB, ids []int64) (map[int64]int, error) {
	reqs, _, err := s.basis(db)
	if err != nil {
		return nil, err
	}
	counts, err := outstandingCounts(db, ids, len(reqs), s.today())
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(counts))
	for id, c := range counts {
		out[id] = c.policies
	}
	return out, nil
}

// PlanAckLinks says, without sending anything, whom SendAckLinks would
// email now and whose live link it would replace.
func (s *Service) PlanAckLinks(ctx context.Context) (*AckLinkPlan, error) {
	return s.ackLinkPlan(s.db.WithContext(ctx))
}

// ErrAckLinkPlanChanged is returned when the number of links to send is
// not the number confirmed.
var ErrAckLinkPlanChanged = apperr.New(apperr.Conflict, "the number of people who owe an acknowledgement changed since you looked; check the list again")

// SendAckLinks sends a new link to every active employee who owes an
// acknowledgement, in one transaction, and returns how many were sent.
// confirmed is the number of recipients the sender was shown (from
// PlanAckLinks). Errors: ErrAckLinkPlanChanged, nothing sent.
func (s *Service) SendAckLinks(ctx context.Context, by audit.Actor, confirmed int) (int, error) {
	sent := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		plan, err := s.ackLinkPlan(tx)
		if err != nil {
			return err
		}
		if len(plan.Recipients) != confirmed {
			return ErrAckLinkPlanChanged
		}
		for i := range plan.Recipients {
			r := &plan.Recipients[i]
			if _, err := s.issueAckLink(tx, by, &r.employee, r.Owed); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	return sent, err
}

// OwedPolicy is a policy the employee still has to acknowledge, with the
// text to read and, when they acknowledged an earlier version, what changed
// since.
type OwedPolicy struct {
	Requirement
	Version       string // the current version, e.g. 2.1
	SHA256        string
	Body          string
	ChangeSummary string // of the current version
	Due           time.Time
	// LastAcknowledged is the newest version the employee acknowledged,
	// "" when they never acknowledged this policy.
	LastAcknowledged string
	// Changes are the versions published after LastAcknowledged, oldest
	// first, up to the current one; empty when never acknowledged.
	Changes []VersionChange
	// Diff is the text's changes since LastAcknowledged, as a
	// changes-only diff; nil when never acknowledged.
	Diff []policy.DiffLine
}

// AckView is what the acknowledgement page shows.
type AckView struct {
	Employee  Employee
	Owed      []OwedPolicy
	Done      int
	ExpiresAt time.Time
}

// resolveAck finds the live link and its active employee.
func (s *Service) resolveAck(db *gorm.DB, token string) (*sharelink.Link, *Employee, error) {
	link, err := sharelink.Resolve(db, s.clock(), AckLinkPurpose, token)
	if err != nil {
		return nil, nil, err
	}
	var e Employee
	if err := db.First(&e, link.SubjectID).Error; err != nil {
		return nil, nil, err
	}
	if !e.ActiveOn(s.today()) {
		return nil, nil, sharelink.ErrDead
	}
	return link, &e, nil
}

// published is a published version with its text.
type published struct {
	PolicyID      int64
	Major         int
	Minor         int
	SHA256        string `gorm:"column:sha256"`
	Body          string
	ChangeSummary string
}

// AckPage returns what the link's employee still owes. Errors:
// sharelink.ErrUnknown (rate-limit these), sharelink.ErrDead (410).
func (s *Service) AckPage(ctx context.Context, token string) (*AckView, error) {
	db := s.db.WithContext(ctx)
	link, e, err := s.resolveAck(db, token)
	if err != nil {
		return nil, err
	}
	owed, done, err := s.owed(db, e, true)
	if err != nil {
		return nil, err
	}
	return &AckView{Employee: *e, Owed: owed, Done: done, ExpiresAt: link.ExpiresAt}, nil
}

// owed lists e's unsatisfied requirements with the current text (when
// withText) and counts the satisfied ones.
func (s *Service) owed(db *gorm.DB, e *Employee, withText bool) ([]OwedPolicy, int, error) {
	reqs, err := requirements(db)
	if err != nil {
		return nil, 0, err
	}
	var acked []struct {
		PolicyID int64
		Major    int
	}
	if err := db.Model(&Acknowledgement{}).Select("DISTINCT policy_id, major").Where("employee_id = ?", e.ID).Scan(&acked).Error; err != nil {
		return nil, 0, err
	}
	have := map[[2]int64]bool{}
	for _, a := range acked {
		have[[2]int64{a.PolicyID, int64(a.Major)}] = true
	}
	var owedReqs []Requirement
	for _, r := range reqs {
		if !have[[2]int64{r.PolicyID, int64(r.Major)}] {
			owedReqs = append(owedReqs, r)
		}
	}
	if len(owedReqs) == 0 {
		return nil, len(reqs), nil
	}
	ids := make([]int64, len(owedReqs))
	for i, r := range owedReqs {
		ids[i] = r.PolicyID
	}
	var cur []published
	q := db.Table("policy_versions").Where("status = 'published' AND policy_id IN ?", ids)
	cols := "policy_id, major, minor, sha256"
	if withText {
		cols += ", body, change_summary"
	}
	if err := q.Select(cols).Scan(&cur).Error; err != nil {
		return nil, 0, err
	}
	byPolicy := map[int64]published{}
	for _, v := range cur {
		byPolicy[v.PolicyID] = v
	}
	out := make([]OwedPolicy, 0, len(owedReqs))
	for _, r := range owedReqs {
		v := byPolicy[r.PolicyID]
		out = append(out, OwedPolicy{Requirement: r, Version: strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor),
			SHA256: v.SHA256, Body: v.Body, ChangeSummary: v.ChangeSummary, Due: s.dueFor(e.StartDate, r)})
	}
	if withText {
		if err := sinceLastAcknowledged(db, e, out); err != nil {
			return nil, 0, err
		}
	}
	return out, len(reqs) - len(owedReqs), nil
}

// AckChoice is one policy version the employee read: the policy's slug
// and the version shown to them.
type AckChoice struct {
	Slug    string
	Version string
}

// AcknowledgeByLink records, for the link's employee, that they read and
// will follow the given version of the policy. version must still be the
// published one and agreed must be true. from carries the IP and user
// agent. Errors: sharelink.ErrUnknown, sharelink.ErrDead,
// ErrStatementNeeded, ErrNotOwed, ErrVersionChanged.
func (s *Service) AcknowledgeByLink(ctx context.Context, from audit.Actor, token, slug, version string, agreed bool) (*Acknowledgement, error) {
	acks, err := s.acknowledgeByLink(ctx, from, token, []AckChoice{{Slug: slug, Version: version}}, agreed)
	if err != nil {
		return nil, err
	}
	return &acks[0], nil
}

// AcknowledgeAllByLink records, for the link's employee and in one
// transaction, that they read and will follow each of the given policy
// versions: one acknowledgement, with its text's SHA-256 and its audit
// event, per version. Every version must still be the published one and
// owed; agreed must be true. If any is not, nothing is recorded. Errors:
// sharelink.ErrUnknown, sharelink.ErrDead, ErrStatementNeeded, ErrNotOwed,
// ErrVersionChanged.
func (s *Service) AcknowledgeAllByLink(ctx context.Context, from audit.Actor, token string, choices []AckChoice, agreed bool) ([]Acknowledgement, error) {
	return s.acknowledgeByLink(ctx, from, token, choices, agreed)
}

func (s *Service) acknowledgeByLink(ctx context.Context, from audit.Actor, token string, choices []AckChoice, agreed bool) ([]Acknowledgement, error) {
	var acks []Acknowledgement
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		link, e, err := s.resolveAck(tx, token)
		if err != nil {
			return err
		}
		if !agreed {
			return ErrStatementNeeded
		}
		if len(choices) == 0 {
			return ErrNotOwed
		}
		owedNow, _, err := s.owed(tx, e, false)
		if err != nil {
			return err
		}
		current := make(map[string]string, len(owedNow))
		for _, o := range owedNow {
			current[o.Slug] = o.Version
		}
		by := from
		by.Label = "employee:" + e.Email
		recorded := map[string]bool{}
		for _, ch := range choices {
			if recorded[ch.Slug] {
				continue
			}
			recorded[ch.Slug] = true
			version, owed := current[ch.Slug]
			if !owed {
				return ErrNotOwed
			}
			if version != ch.Version {
				return ErrVersionChanged
			}
			ack, err := s.record(tx, by, e, ch.Slug, MethodLink)
			if err != nil {
				return err
			}
			acks = append(acks, *ack)
		}
		if err := s.refresh(tx, e.ID); err != nil {
			return err
		}
		return sharelink.Touch(tx, s.clock(), link)
	})
	if err != nil {
		return nil, err
	}
	return acks, nil
}
