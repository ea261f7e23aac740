package dsar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Vocabularies of a request.
var (
	Channels = []string{"email", "form", "customer"}
	Laws     = []string{GDPR, UKGDPR, CCPA}
	Types    = []string{"access", "deletion", "correction", "portability", "objection", "restriction"}
	Statuses = []string{"unconfirmed", "received", "verifying", "in_progress", "completed", "refused", "extended"}
)

// LawLabel names a law for people.
func LawLabel(law string) string {
	switch law {
	case GDPR:
		return "GDPR"
	case UKGDPR:
		return "UK GDPR"
	case CCPA:
		return "CCPA/CPRA"
	}
	return law
}

// Request is one data subject request.
type Request struct {
	ID                 int64      `json:"-"`
	Reference          string     `json:"reference"`
	ReceivedAt         time.Time  `json:"received_at"`
	Channel            string     `json:"channel"`
	Law                string     `json:"law"`
	RequestType        string     `json:"type"`
	RequesterName      string     `json:"requester_name"`
	RequesterEmail     string     `json:"requester_email"`
	Details            string     `json:"details"`
	CustomerDPAID      *int64     `json:"customer_dpa_id" gorm:"column:customer_dpa_id"`
	Status             string     `json:"status"`
	VerificationMethod string     `json:"verification_method"`
	VerifiedAt         *time.Time `json:"verified_at"`
	VerifiedBy         string     `json:"verified_by"`
	AcknowledgedAt     *time.Time `json:"acknowledged_at"`
	ExtendedAt         *time.Time `json:"extended_at"`
	ExtensionReason    string     `json:"extension_reason"`
	SystemsSearched    string     `json:"systems_searched"`
	Outcome            string     `json:"outcome"`
	RefusalReason      string     `json:"refusal_reason"`
	ClosedAt           *time.Time `json:"closed_at"`
	ResponseSHA256     string     `json:"response_sha256" gorm:"column:response_sha256"`
	ResponseName       string     `json:"response_name"`
	RedactedAt         *time.Time `json:"redacted_at"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// TableName is the requests table.
func (Request) TableName() string { return "privacy_requests" }

// Open reports whether the request still needs an answer.
func (r *Request) Open() bool {
	return r.Status != "completed" && r.Status != "refused" && r.Status != "unconfirmed"
}

// Deadline is the request's current deadline.
func (r *Request) Deadline() time.Time { return Deadline(r.Law, r.ReceivedAt, r.ExtendedAt != nil) }

// AckDeadline is when a CCPA request's receipt must be confirmed.
func (r *Request) AckDeadline() (time.Time, bool) { return AckDeadline(r.Law, r.ReceivedAt) }

// AckDue is AckDeadline for templates: nil when the law sets none.
func (r *Request) AckDue() *time.Time {
	if d, ok := r.AckDeadline(); ok {
		return &d
	}
	return nil
}

// Settings of the register.
type Settings struct {
	BaseURL string
	// Retention: how long after closing a request its requester's details
	// are kept before redaction.
	Retention time.Duration
	// Mail renders the emails; NewService parses its own when nil (the
	// composition root passes the one it shares).
	Mail *notify.Templates
}

// Service keeps the register.
type Service struct {
	db       *gorm.DB
	now      func() time.Time
	files    *files.Store
	settings Settings
	check    *check.Validator
}

// NewService returns a Service.
func NewService(db *gorm.DB, now func() time.Time, fs *files.Store, settings Settings) *Service {
	if settings.Mail == nil {
		settings.Mail = notify.MustTemplates()
	}
	return &Service{db: db, now: now, files: fs, settings: settings, check: check.New()}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// link is the address of path, for emails.
func (s *Service) link(path string) string { return strings.TrimRight(s.settings.BaseURL, "/") + path }

// Input is a request entered by the team or sent through the API, or
// made on the public form (which sets neither the channel nor the day
// received).
type Input struct {
	ReceivedOn     string `validate:"omitempty,date"` // YYYY-MM-DD; today when empty
	Channel        string `validate:"oneof=email form customer"`
	Law            string `validate:"oneof=gdpr uk_gdpr ccpa"`
	Type           string `validate:"oneof=access deletion correction portability objection restriction"`
	RequesterName  string `validate:"max=200"` // required on the public form
	RequesterEmail string `validate:"required,address"`
	Details        string `validate:"max=4000"`
	CustomerDPAID  int64  `field:"customer_dpa_id"`
}

// parse checks in and returns the request it describes; public is the
// public form, which needs the requester's name and cannot backdate.
func (s *Service) parse(in Input, public bool) (*Request, error) {
	in = Input{ReceivedOn: strings.TrimSpace(in.ReceivedOn), Channel: strings.TrimSpace(in.Channel), Law: strings.TrimSpace(in.Law),
		Type: strings.TrimSpace(in.Type), RequesterName: strings.TrimSpace(in.RequesterName),
		RequesterEmail: notify.NormalizeAddress(in.RequesterEmail), Details: strings.TrimSpace(in.Details), CustomerDPAID: in.CustomerDPAID}
	if public {
		in.ReceivedOn = ""
	}
	errs := s.check.Struct(in)
	if errs.Has("requester_email") {
		errs["requester_email"] = "must be an email address we can answer"
	}
	if public && in.RequesterName == "" {
		errs.Add("requester_name", "is required")
	}
	r := &Request{Channel: in.Channel, Law: in.Law, RequestType: in.Type, RequesterName: in.RequesterName,
		RequesterEmail: in.RequesterEmail, Details: in.Details, ReceivedAt: s.clock()}
	if in.ReceivedOn != "" && !errs.Has("received_on") {
		if t := check.Date(in.ReceivedOn); t.After(r.ReceivedAt) {
			errs.Add("received_on", "cannot be in the future")
		} else {
			r.ReceivedAt = t
		}
	}
	if in.CustomerDPAID != 0 {
		var n int64
		if err := s.db.Table("dpas").Where("id = ? AND direction = 'customer'", in.CustomerDPAID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n == 0 {
			errs.Add("customer_dpa_id", "is not a customer DPA in the register")
		}
		r.CustomerDPAID = &in.CustomerDPAID
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Service) insert(tx *gorm.DB, by audit.Actor, r *Request) error {
	if err := store.TakeTurn(tx, "privacy_requests.reference"); err != nil {
		return err
	}
	now := s.clock()
	// The year's highest number, not its count: unconfirmed requests are
	// deleted after a while (DeleteUnconfirmed), and a count would then
	// hand out a reference again. "PR-YYYY-" is 8 characters.
	var n int64
	if err := tx.Model(&Request{}).Where("reference LIKE ?", "PR-"+now.Format("2006")+"-%").
		Select("COALESCE(MAX(CAST(SUBSTR(reference, 9) AS INTEGER)), 0)").Scan(&n).Error; err != nil {
		return err
	}
	r.Reference = fmt.Sprintf("PR-%s-%04d", now.Format("2006"), n+1)
	r.CreatedAt, r.UpdatedAt = now, now
	if err := tx.Create(r).Error; err != nil {
		return err
	}
	if r.Status == "received" {
		if err := s.receivedWebhook(tx, now, r); err != nil {
			return err
		}
	}
	return audit.Append(tx, by, audit.Entry{At: now, Action: "privacy_request.created", ObjectType: "privacy_request", ObjectID: r.Reference,
		After: map[string]any{"law": r.Law, "type": r.RequestType, "channel": r.Channel, "received_at": r.ReceivedAt, "status": r.Status}})
}

// Create records a request received by the team (email, a customer on
// behalf of its user) or through the API.
func (s *Service) Create(ctx context.Context, by audit.Actor, in Input) (*Request, error) {
	r, err := s.parse(in, false)
	if err != nil {
		return nil, err
	}
	r.Status = "received"
	return r, s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.insert(tx, by, r) })
}

// ConfirmationLinkPurpose names the links of the public form.
const ConfirmationLinkPurpose = "privacy_request_confirmation"

// Submit records a request from the public form, unconfirmed, and emails
// a confirmation link; the request counts as received when confirmed.
func (s *Service) Submit(ctx context.Context, from audit.Actor, in Input, company string) (*Request, error) {
	in.Channel = "form"
	r, err := s.parse(in, true)
	if err != nil {
		return nil, err
	}
	r.Status = "unconfirmed"
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		by := from
		by.Label = "requester"
		if err := s.insert(tx, by, r); err != nil {
			return err
		}
		token, _, err := sharelink.Issue(tx, s.clock(), ConfirmationLinkPurpose, r.ID, 7*24*time.Hour)
		if err != nil {
			return err
		}
		_, err = s.settings.Mail.Enqueue(tx, s.clock(), notify.MessageDomain(s.settings.BaseURL), r.RequesterEmail, notify.PrivacyRequestConfirmation{
			Name: r.RequesterName, Company: company, RequestType: r.RequestType, Law: LawLabel(r.Law), Link: s.link("/trust/privacy-request/confirm/" + token)})
		return err
	})
	return r, err
}

// CheckConfirmation reports whether a confirmation link is live.
func (s *Service) CheckConfirmation(ctx context.Context, token string) error {
	_, err := sharelink.Resolve(s.db.WithContext(ctx), s.clock(), ConfirmationLinkPurpose, token)
	return err
}

// Confirm marks a public request received (its deadlines run from now)
// and acknowledges it by email with its reference and deadline.
func (s *Service) Confirm(ctx context.Context, from audit.Actor, token, company string, team []string) (*Request, error) {
	var r Request
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		l, err := sharelink.Resolve(tx, now, ConfirmationLinkPurpose, token)
		if err != nil {
			return err
		}
		if err := store.ForUpdate(tx).Take(&r, l.SubjectID).Error; err != nil {
			return err
		}
		if err := sharelink.Revoke(tx, now, ConfirmationLinkPurpose, r.ID); err != nil {
			return err
		}
		if r.Status != "unconfirmed" {
			return nil
		}
		r.Status, r.ReceivedAt, r.AcknowledgedAt, r.UpdatedAt = "received", now, &now, now
		if err := tx.Save(&r).Error; err != nil {
			return err
		}
		domain := notify.MessageDomain(s.settings.BaseURL)
		if _, err := s.settings.Mail.Enqueue(tx, now, domain, r.RequesterEmail, notify.PrivacyRequestAck{Name: r.RequesterName, Company: company,
			Received: now, Reference: r.Reference, Deadline: r.Deadline(), Law: LawLabel(r.Law)}); err != nil {
			return err
		}
		toTeam := notify.PrivacyRequest{Reference: r.Reference, RequestType: r.RequestType, Law: LawLabel(r.Law), Deadline: r.Deadline(),
			Link: s.link("/app/privacy-requests/" + r.Reference)}
		for _, to := range team {
			if _, err := s.settings.Mail.Enqueue(tx, now, domain, to, toTeam); err != nil {
				return err
			}
		}
		by := from
		by.Label = "requester"
		if err := s.receivedWebhook(tx, now, &r); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "privacy_request.confirmed", ObjectType: "privacy_request", ObjectID: r.Reference})
	})
	return &r, err
}

// DeleteUnconfirmed deletes the public-form requests submitted before
// before whose address was never confirmed (they were never received, so
// no deadline runs), with their confirmation links, and audits each
// deletion in the same transaction. Their links (7 days) are dead by then.
// It returns how many it deleted.
func (s *Service) DeleteUnconfirmed(ctx context.Context, by audit.Actor, before time.Time) (int, error) {
	return store.InBatches(ctx, s.db, func(tx *gorm.DB, limit int) (int, error) {
		var stale []Request
		if err := tx.Where("status = 'unconfirmed' AND created_at < ?", before.UTC()).Order("id").Limit(limit).Find(&stale).Error; err != nil || len(stale) == 0 {
			return 0, err
		}
		ids := make([]int64, len(stale))
		records := make([]audit.Record, len(stale))
		now := s.clock()
		for i, r := range stale {
			ids[i] = r.ID
			records[i] = audit.Record{By: by, Entry: audit.Entry{At: now, Action: "privacy_request.expired", ObjectType: "privacy_request",
				ObjectID: r.Reference, Before: map[string]any{"status": r.Status, "created_at": r.CreatedAt}}}
		}
		if err := tx.Where("id IN ?", ids).Delete(&Request{}).Error; err != nil {
			return 0, err
		}
		if err := tx.Where("purpose = ? AND subject_id IN ?", ConfirmationLinkPurpose, ids).Delete(&sharelink.Link{}).Error; err != nil {
			return 0, err
		}
		return len(stale), audit.AppendAll(tx, records)
	})
}

// Action is a step of the team on a request. Which of the other fields a
// step needs depends on the step (Act checks); each is bounded whatever
// the step.
type Action struct {
	Action          string `validate:"oneof=verify start-verifying acknowledge extend complete refuse"`
	Method          string `field:"verification_method" validate:"max=500"`
	Reason          string `validate:"max=2000"`                        // to extend or refuse
	Outcome         string `validate:"omitempty,oneof=complied partly"` // to complete
	SystemsSearched string `validate:"max=4000"`                        // to complete
}

// Act applies a step, checking that it fits the request's state.
func (s *Service) Act(ctx context.Context, by audit.Actor, reference string, a Action) (*Request, error) {
	var r Request
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Where("reference = ?", reference).Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.New(apperr.NotFound, "no such request")
		} else if err != nil {
			return err
		}
		if !r.Open() {
			return apperr.New(apperr.Conflict, "this request is "+r.Status+"; nothing more can be done to it")
		}
		before := r
		now := s.clock()
		a.Method, a.Reason, a.Outcome, a.SystemsSearched = strings.TrimSpace(a.Method), strings.TrimSpace(a.Reason), strings.TrimSpace(a.Outcome), strings.TrimSpace(a.SystemsSearched)
		errs := s.check.Struct(a)
		need := func(field, v string) {
			if v == "" {
				errs.Add(field, "is required")
			}
		}
		switch a.Action {
		case "verify":
			need("verification_method", a.Method)
			r.VerificationMethod = a.Method
			r.VerifiedAt, r.VerifiedBy = &now, by.Label
			if r.Status == "received" {
				r.Status = "in_progress"
			}
		case "start-verifying":
			r.Status = "verifying"
		case "acknowledge":
			if r.AcknowledgedAt != nil {
				return apperr.New(apperr.Conflict, "already acknowledged")
			}
			r.AcknowledgedAt = &now
		case "extend":
			if r.ExtendedAt != nil {
				return apperr.New(apperr.Conflict, "a request can be extended only once")
			}
			need("reason", a.Reason)
			r.ExtensionReason = a.Reason
			r.ExtendedAt, r.Status = &now, "extended"
		case "complete":
			need("outcome", a.Outcome)
			need("systems_searched", a.SystemsSearched)
			r.Outcome, r.SystemsSearched = a.Outcome, a.SystemsSearched
			if r.VerifiedAt == nil && r.RequestType != "objection" {
				errs.Add("action", "needs the requester's identity verified before it is answered")
			}
			r.Status, r.ClosedAt = "completed", &now
		case "refuse":
			need("reason", a.Reason)
			r.RefusalReason = a.Reason
			r.Outcome, r.Status, r.ClosedAt = "denied", "refused", &now
		}
		if err := errs.Err(); err != nil {
			return err
		}
		r.UpdatedAt = now
		if err := tx.Save(&r).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "privacy_request." + a.Action, ObjectType: "privacy_request", ObjectID: r.Reference,
			Before: map[string]any{"status": before.Status}, After: map[string]any{"status": r.Status, "outcome": r.Outcome, "deadline": r.Deadline().Format(time.DateOnly)}})
	})
	return &r, err
}

// ResponseFile is the kind of a response sent to a requester.
var ResponseFile = files.Kind{Name: "privacy request response", MaxBytes: 10 << 20, Types: map[string][]string{
	"application/pdf": {".pdf"}, "application/zip": {".zip"}, "text/plain": {".txt"},
}}

// AttachResponse stores the response sent (at most 10 MB).
func (s *Service) AttachResponse(ctx context.Context, by audit.Actor, reference, name string, body io.Reader) (*Request, error) {
	var r Request
	if err := s.db.WithContext(ctx).Where("reference = ?", reference).Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such request")
	} else if err != nil {
		return nil, err
	}
	f, err := s.files.Put(ResponseFile, name, body)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		if err := tx.Model(&r).Updates(map[string]any{"response_sha256": f.SHA256, "response_name": f.Name, "updated_at": now}).Error; err != nil {
			return err
		}
		r.ResponseSHA256, r.ResponseName = f.SHA256, f.Name
		return audit.Append(tx, by, audit.Entry{At: now, Action: "privacy_request.response_attached", ObjectType: "privacy_request", ObjectID: r.Reference,
			After: map[string]any{"sha256": f.SHA256, "size": f.Size}})
	})
	return &r, err
}

// Get returns a request by reference.
func (s *Service) Get(ctx context.Context, reference string) (*Request, error) {
	var r Request
	if err := s.db.WithContext(ctx).Where("reference = ?", reference).Take(&r).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such request")
	} else if err != nil {
		return nil, err
	}
	return &r, nil
}

// List returns requests, newest first; open only when asked.
func (s *Service) List(ctx context.Context, openOnly bool) ([]Request, error) {
	q := s.db.WithContext(ctx).Where("status <> 'unconfirmed'").Order("received_at DESC, id DESC").Limit(500)
	if openOnly {
		q = q.Where("status NOT IN ('completed', 'refused')")
	}
	var out []Request
	return out, q.Find(&out).Error
}

// Attention lists the open requests due within DueSoonDays or overdue,
// soonest first.
func (s *Service) Attention(ctx context.Context) ([]Request, error) {
	open, err := s.List(ctx, true)
	if err != nil {
		return nil, err
	}
	today := s.now()
	var out []Request
	for _, r := range open {
		if Timing(r.Deadline(), today) != "on time" {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Deadline().Before(out[j].Deadline()) })
	return out, nil
}

// TypeFigures are one request type's figures for a year.
type TypeFigures struct {
	Type     string
	Received int
	Complied int // in whole or in part
	Denied   int
	// MedianDays to respond, over the requests of the type closed.
	MedianDays *float64
}

// Metrics are the figures of one calendar year (CCPA regulations § 7102).
type Metrics struct {
	Year  int
	Types []TypeFigures
}

// YearMetrics counts the requests received in year by type: received,
// complied with in whole or part, denied, and the median days to respond.
func (s *Service) YearMetrics(ctx context.Context, year int) (*Metrics, error) {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows []Request
	if err := s.db.WithContext(ctx).Where("status <> 'unconfirmed' AND received_at >= ? AND received_at < ?", from, from.AddDate(1, 0, 0)).Find(&rows).Error; err != nil {
		return nil, err
	}
	m := &Metrics{Year: year}
	for _, t := range Types {
		f := TypeFigures{Type: t}
		var days []float64
		for _, r := range rows {
			if r.RequestType != t {
				continue
			}
			f.Received++
			switch r.Outcome {
			case "complied", "partly":
				f.Complied++
			case "denied":
				f.Denied++
			}
			if r.ClosedAt != nil {
				days = append(days, float64(day(*r.ClosedAt).Sub(day(r.ReceivedAt))/(24*time.Hour)))
			}
		}
		if len(days) > 0 {
			sort.Float64s(days)
			med := days[len(days)/2]
			if len(days)%2 == 0 {
				med = (days[len(days)/2-1] + days[len(days)/2]) / 2
			}
			f.MedianDays = &med
		}
		m.Types = append(m.Types, f)
	}
	return m, nil
}

// Redact blanks the requester's details of requests closed longer than
// the retention period ago; the dates and outcome stay. It returns how
// many it redacted.
func (s *Service) Redact(ctx context.Context, by audit.Actor) (int, error) {
	if s.settings.Retention <= 0 {
		return 0, nil
	}
	cutoff := s.clock().Add(-s.settings.Retention)
	var refs []string
	if err := s.db.WithContext(ctx).Model(&Request{}).Where("closed_at < ? AND redacted_at IS NULL", cutoff).Pluck("reference", &refs).Error; err != nil {
		return 0, err
	}
	for _, ref := range refs {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := s.clock()
			if err := tx.Model(&Request{}).Where("reference = ? AND redacted_at IS NULL", ref).Updates(map[string]any{
				"requester_name": "", "requester_email": "", "details": "", "redacted_at": now, "updated_at": now}).Error; err != nil {
				return err
			}
			return audit.Append(tx, by, audit.Entry{At: now, Action: "privacy_request.redacted", ObjectType: "privacy_request", ObjectID: ref})
		})
		if err != nil {
			return 0, err
		}
	}
	return len(refs), nil
}

// RedactJob is the daily job that redacts requests past retention.
func (s *Service) RedactJob() jobs.Job {
	return jobs.Job{Name: "privacy-requests.redact", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
		n, err := s.Redact(ctx, audit.System("job:privacy-requests"))
		return fmt.Sprintf("%d closed request(s) redacted", n), err
	}}
}

// ReminderJob is the daily job that emails the team the requests due
// within a week or overdue.
func (s *Service) ReminderJob(team func(ctx context.Context) ([]string, error)) jobs.Job {
	return jobs.Job{Name: "privacy-requests.remind", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
		due, err := s.Attention(ctx)
		if err != nil || len(due) == 0 {
			return "nothing due", err
		}
		to, err := team(ctx)
		if err != nil {
			return "", err
		}
		reminder := notify.PrivacyRequestReminder{Link: s.link("/app/privacy-requests")}
		for _, r := range due {
			reminder.Requests = append(reminder.Requests, notify.DueRequest{Reference: r.Reference, RequestType: r.RequestType, Law: LawLabel(r.Law),
				Deadline: r.Deadline(), Timing: Timing(r.Deadline(), s.now())})
		}
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, addr := range to {
				if _, err := s.settings.Mail.Enqueue(tx, s.clock(), notify.MessageDomain(s.settings.BaseURL), addr, reminder); err != nil {
					return err
				}
			}
			return nil
		})
		return fmt.Sprintf("%d request(s) in the reminder to %d address(es)", len(due), len(to)), err
	}}
}

// RequestCount is used by the overview: open requests and those needing
// attention.
func (s *Service) RequestCount(ctx context.Context) (open, attention int, err error) {
	list, err := s.List(ctx, true)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range list {
		if Timing(r.Deadline(), s.now()) != "on time" {
			attention++
		}
	}
	return len(list), attention, nil
}
