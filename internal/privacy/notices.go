package privacy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Kinds of change a notice announces.
const (
	Add     = "add"
	Replace = "replace"
	Remove  = "remove"
)

// Notice states.
const (
	Scheduled = "scheduled"
	Applied   = "applied"
	Withdrawn = "withdrawn"
)

// Share-link purposes of the privacy registers.
const (
	ObjectionLinkPurpose    = "subprocessor_objection"
	UnsubscribeLinkPurpose  = "subscriber_unsubscribe"
	ConfirmationLinkPurpose = "subscriber_confirmation"
)

// MaxNoticeAhead is how far ahead a change may be announced: objection
// links live until the effective date, and share links at most 90 days.
const MaxNoticeAhead = 90

// Notice announces a change to the sub-processor list (GDPR Art. 28(2)).
type Notice struct {
	ID             int64      `json:"id"`
	Change         string     `json:"change"`
	SubprocessorID int64      `json:"subprocessor_id"`
	ReplacesID     *int64     `json:"replaces_id"`
	Summary        string     `json:"summary"`
	AnnouncedAt    time.Time  `json:"announced_at"`
	EffectiveOn    time.Time  `json:"effective_on"`
	State          string     `json:"state"`
	AppliedAt      *time.Time `json:"applied_at"`
	WithdrawnAt    *time.Time `json:"withdrawn_at"`
	AnnouncedBy    string     `json:"announced_by"`
}

// TableName is the notices table.
func (Notice) TableName() string { return "subprocessor_notices" }

// Recipient is one address a notice went to.
type Recipient struct {
	ID           int64
	NoticeID     int64
	DPAID        *int64 `gorm:"column:dpa_id"`
	SubscriberID *int64
	Email        string
}

// TableName is the recipients table.
func (Recipient) TableName() string { return "notice_recipients" }

// Objection is a customer's objection to a change.
type Objection struct {
	ID          int64     `json:"id"`
	NoticeID    int64     `json:"notice_id"`
	RecipientID int64     `json:"-"`
	DPAID       *int64    `json:"dpa_id" gorm:"column:dpa_id"`
	Email       string    `json:"email"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName is the objections table.
func (Objection) TableName() string { return "subprocessor_objections" }

// NoticeInput announces a change.
type NoticeInput struct {
	Change         string `validate:"oneof=add replace remove"`
	SubprocessorID int64  // the sub-processor added, replacing or removed
	// ReplacesID is the active sub-processor a replacement takes over from.
	ReplacesID  int64
	EffectiveOn string `validate:"required,date"`
	Summary     string `validate:"max=2000"` // a sentence from the change when empty
}

// NoticePeriod is the notice a change needs: the longest notice period of
// the signed customer DPAs that authorize sub-processors generally, or the
// default when there are none.
func (s *Service) NoticePeriod(ctx context.Context) (int, error) {
	return noticePeriod(s.db.WithContext(ctx))
}

func noticePeriod(db *gorm.DB) (int, error) {
	var days *int
	err := db.Model(&DPA{}).Where("direction = ? AND status = ? AND subprocessor_authorization = ?", Customer, Signed, "general").
		Select("MAX(notice_days)").Scan(&days).Error
	if err != nil || days == nil {
		return DefaultNoticeDays, err
	}
	return *days, nil
}

// AnnouncementPlan is what announcing a change would do.
type AnnouncementPlan struct {
	Notice       Notice // as it would be recorded, its summary written
	Subprocessor string
	Replaces     string // the sub-processor replaced, for a replacement
	Customers    int    // customers with a signed DPA who would be emailed, with an objection link
	Subscribers  int    // other confirmed subscribers who would be emailed
}

// PlanAnnouncement checks the change as Announce does and says, without
// recording or sending anything, whom it would email. Errors: as Announce.
func (s *Service) PlanAnnouncement(ctx context.Context, in NoticeInput) (*AnnouncementPlan, error) {
	var plan AnnouncementPlan
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		n, subject, replaced, err := s.prepareNotice(tx, &in)
		if err != nil {
			return err
		}
		dpas, subs, err := noticeRecipients(tx)
		if err != nil {
			return err
		}
		plan = AnnouncementPlan{Notice: *n, Subprocessor: subject.Name, Replaces: replaced.Name, Customers: len(dpas), Subscribers: len(subs)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &plan, nil
}

// Announce records a change notice and emails it to every customer with a
// signed DPA (with a personal objection link) and to every confirmed
// subscriber (with a one-click unsubscribe link).
func (s *Service) Announce(ctx context.Context, by audit.Actor, in NoticeInput) (*Notice, int, error) {
	var n *Notice
	sent := 0
	company, err := s.company(ctx)
	if err != nil {
		return nil, 0, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var subject Subprocessor
		var err error
		n, subject, _, err = s.prepareNotice(tx, &in)
		if err != nil {
			return err
		}
		now := s.clock()
		n.AnnouncedAt, n.State, n.AnnouncedBy = now, Scheduled, by.Label
		if err := tx.Create(n).Error; err != nil {
			return err
		}
		sent, err = s.sendNotice(tx, company, n, &subject)
		if err != nil {
			return err
		}
		if err := s.announcedWebhook(tx, now, n, &subject); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "subprocessor_notice.announced", ObjectType: "subprocessor_notice",
			ObjectID: strconv.FormatInt(n.ID, 10), After: map[string]any{"notice": n, "emails": sent}})
	})
	if err != nil {
		return nil, 0, err
	}
	return n, sent, nil
}

// prepareNotice checks, in tx, the change to announce and returns the
// notice to record (not yet announced) with the sub-processor it is about
// and, for a replacement, the one it replaces; the sub-processors are
// locked.
func (s *Service) prepareNotice(tx *gorm.DB, in *NoticeInput) (*Notice, Subprocessor, Subprocessor, error) {
	var subject, replaced Subprocessor
	in.Change, in.EffectiveOn, in.Summary = strings.TrimSpace(in.Change), strings.TrimSpace(in.EffectiveOn), strings.TrimSpace(in.Summary)
	if err := s.check.Struct(*in).Err(); err != nil {
		return nil, subject, replaced, err
	}
	n := Notice{Change: in.Change, Summary: in.Summary}
	eff := check.Date(in.EffectiveOn)
	period, err := noticePeriod(tx)
	if err != nil {
		return nil, subject, replaced, err
	}
	today := s.today()
	// Even with no notice period, a change is announced before the day
	// it applies, so that the objection links live at least a day.
	if earliest := today.AddDate(0, 0, max(period, 1)); eff.Before(earliest) {
		return nil, subject, replaced, apperr.Field("effective_on", fmt.Sprintf("must be at least the notice period (%d days) ahead: %s or later", period, earliest.Format(time.DateOnly)))
	}
	if eff.After(today.AddDate(0, 0, MaxNoticeAhead)) {
		return nil, subject, replaced, apperr.Field("effective_on", fmt.Sprintf("must be at most %d days ahead", MaxNoticeAhead))
	}
	if err := lockSubprocessor(tx, in.SubprocessorID, &subject); err != nil {
		return nil, subject, replaced, apperr.Field("subprocessor_id", "is not a sub-processor on the list")
	}
	switch n.Change {
	case Add, Replace:
		if subject.Status != Proposed {
			return nil, subject, replaced, apperr.Field("subprocessor_id", subject.Name+" is "+subject.Status+"; only a proposed sub-processor can be added")
		}
	case Remove:
		if subject.Status != Active {
			return nil, subject, replaced, apperr.Field("subprocessor_id", subject.Name+" is "+subject.Status+"; only an active sub-processor can be removed")
		}
	}
	if n.Change == Replace {
		if err := lockSubprocessor(tx, in.ReplacesID, &replaced); err != nil || replaced.Status != Active {
			return nil, subject, replaced, apperr.Field("replaces_id", "choose the active sub-processor being replaced")
		}
		n.ReplacesID = &replaced.ID
	}
	var pending int64
	if err := tx.Model(&Notice{}).Where("state = ? AND (subprocessor_id IN ? OR replaces_id IN ?)", Scheduled,
		[]int64{subject.ID, replaced.ID}, []int64{subject.ID, replaced.ID}).Count(&pending).Error; err != nil {
		return nil, subject, replaced, err
	}
	if pending > 0 {
		return nil, subject, replaced, apperr.New(apperr.Conflict, "a change to this sub-processor is already announced; withdraw it first")
	}
	if n.Summary == "" {
		n.Summary = defaultSummary(n.Change, &subject, &replaced)
	}
	n.SubprocessorID, n.EffectiveOn = subject.ID, eff
	return &n, subject, replaced, nil
}

func defaultSummary(change string, p, replaced *Subprocessor) string {
	switch change {
	case Add:
		return fmt.Sprintf("We will add %s as a sub-processor for %s.", p.Name, lowerFirst(p.Purpose))
	case Replace:
		return fmt.Sprintf("We will replace %s with %s for %s.", replaced.Name, p.Name, lowerFirst(p.Purpose))
	}
	return fmt.Sprintf("We will stop using %s as a sub-processor.", p.Name)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// sendNotice writes a recipient row, a link and an email for every
// customer with a signed DPA and every confirmed subscriber.
func (s *Service) sendNotice(tx *gorm.DB, company string, n *Notice, p *Subprocessor) (int, error) {
	dpas, subs, err := noticeRecipients(tx)
	if err != nil {
		return 0, err
	}
	now := s.clock()
	// The objection window closes when the change takes effect.
	objectionTTL := n.EffectiveOn.Sub(now)
	notice := notify.SubprocessorNotice{Company: company, Subprocessor: p.Name, Summary: n.Summary, EffectiveOn: n.EffectiveOn,
		List: s.link("/trust/subprocessors")}
	if s.settings.RecordPromises != nil {
		snap, err := s.settings.RecordPromises(tx)
		if err != nil {
			return 0, err
		}
		notice.Snapshot, notice.SnapshotExact, notice.SnapshotSHA256 = snap.URL, snap.Exact, snap.SHA256
	}
	sent := 0
	for _, d := range dpas {
		r := Recipient{NoticeID: n.ID, DPAID: &d.ID, Email: d.ContactEmail}
		if err := tx.Create(&r).Error; err != nil {
			return 0, err
		}
		token, _, err := sharelink.Issue(tx, now, ObjectionLinkPurpose, r.ID, objectionTTL)
		if err != nil {
			return 0, err
		}
		toCustomer := notice
		toCustomer.Counterparty, toCustomer.ObjectionLink = d.Counterparty, s.link("/trust/objections/"+token)
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), d.ContactEmail, toCustomer); err != nil {
			return 0, err
		}
		sent++
	}
	for _, sub := range subs {
		r := Recipient{NoticeID: n.ID, SubscriberID: &sub.ID, Email: sub.Email}
		if err := tx.Create(&r).Error; err != nil {
			return 0, err
		}
		token, _, err := sharelink.Issue(tx, now, UnsubscribeLinkPurpose, r.ID, sharelink.MaxTTL)
		if err != nil {
			return 0, err
		}
		toSubscriber := notice
		toSubscriber.Unsubscribe = s.link("/trust/unsubscribe/" + token)
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), sub.Email, toSubscriber); err != nil {
			return 0, err
		}
		sent++
	}
	return sent, nil
}

// noticeRecipients reads whom a notice goes to: the contact of each
// customer with a signed DPA, then each confirmed subscriber, every
// address once (a customer's contact who also subscribes is mailed as the
// customer, with an objection link).
func noticeRecipients(tx *gorm.DB) ([]DPA, []Subscriber, error) {
	var dpas []DPA
	if err := tx.Where("direction = ? AND status = ? AND contact_email <> ''", Customer, Signed).Order("id").Find(&dpas).Error; err != nil {
		return nil, nil, err
	}
	var subs []Subscriber
	if err := confirmedSubscribers(tx).Order("id").Find(&subs).Error; err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	customers := dpas[:0]
	for _, d := range dpas {
		if !seen[d.ContactEmail] {
			seen[d.ContactEmail] = true
			customers = append(customers, d)
		}
	}
	subscribers := subs[:0]
	for _, sub := range subs {
		if !seen[sub.Email] {
			seen[sub.Email] = true
			subscribers = append(subscribers, sub)
		}
	}
	return customers, subscribers, nil
}

// ErrNoticeNotFound is returned for an unknown notice.
var ErrNoticeNotFound = apperr.New(apperr.NotFound, "no such notice")

// Withdraw cancels a scheduled notice; the change will not apply.
func (s *Service) Withdraw(ctx context.Context, by audit.Actor, id int64) (*Notice, error) {
	var n Notice
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := store.ForUpdate(tx).Take(&n, id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoticeNotFound
		} else if err != nil {
			return err
		}
		if n.State != Scheduled {
			return apperr.New(apperr.Conflict, "this notice is "+n.State+"; only a scheduled change can be withdrawn")
		}
		now := s.clock()
		n.State, n.WithdrawnAt = Withdrawn, &now
		if err := tx.Save(&n).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "subprocessor_notice.withdrawn", ObjectType: "subprocessor_notice", ObjectID: strconv.FormatInt(id, 10), After: n})
	})
	return &n, err
}

// ApplyDue applies every scheduled change whose effective date has come,
// each in its own transaction, and returns how many it applied.
func (s *Service) ApplyDue(ctx context.Context, by audit.Actor) (int, error) {
	var due []int64
	if err := s.db.WithContext(ctx).Model(&Notice{}).Where("state = ? AND effective_on <= ?", Scheduled, s.today()).Order("effective_on, id").Pluck("id", &due).Error; err != nil {
		return 0, err
	}
	applied := 0
	for _, id := range due {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var n Notice
			if err := store.ForUpdate(tx).Take(&n, id).Error; err != nil {
				return err
			}
			if n.State != Scheduled { // another instance applied it
				return nil
			}
			now := s.clock()
			var p Subprocessor
			if err := lockSubprocessor(tx, n.SubprocessorID, &p); err != nil {
				return err
			}
			eff := n.EffectiveOn
			switch n.Change {
			case Add, Replace:
				p.Status, p.ActiveSince, p.RemovedOn = Active, &eff, nil
			case Remove:
				p.Status, p.RemovedOn = Removed, &eff
			}
			p.UpdatedAt = now
			if err := tx.Save(&p).Error; err != nil {
				return err
			}
			if n.ReplacesID != nil {
				var old Subprocessor
				if err := lockSubprocessor(tx, *n.ReplacesID, &old); err != nil {
					return err
				}
				old.Status, old.RemovedOn, old.UpdatedAt = Removed, &eff, now
				if err := tx.Save(&old).Error; err != nil {
					return err
				}
			}
			n.State, n.AppliedAt = Applied, &now
			if err := tx.Save(&n).Error; err != nil {
				return err
			}
			applied++
			return audit.Append(tx, by, audit.Entry{At: now, Action: "subprocessor_notice.applied", ObjectType: "subprocessor_notice", ObjectID: strconv.FormatInt(id, 10), After: n})
		})
		if err != nil {
			return applied, fmt.Errorf("applying notice %d: %w", id, err)
		}
	}
	return applied, nil
}

// NoticeView is a notice with the sub-processors it names.
type NoticeView struct {
	Notice
	Subprocessor Subprocessor
	Replaces     *Subprocessor
	Recipients   int64
	Objections   int64
}

// NoticeFilter selects notices.
type NoticeFilter struct {
	IDs    []int64
	States []string
	Limit  int
	// Objected keeps the notices someone objected to.
	Objected bool
	// NewestFirst orders by announcement, newest first; otherwise by
	// effective date, soonest first.
	NewestFirst bool
}

// noticeState is one state a list of notices asks for.
type noticeState struct {
	State string `validate:"oneof=scheduled applied withdrawn"`
}

// Notices returns notices with their sub-processors and counts. Errors:
// Invalid naming "state" for a state that is not one.
func (s *Service) Notices(ctx context.Context, f NoticeFilter) ([]NoticeView, error) {
	for _, st := range f.States {
		if err := s.check.Struct(noticeState{State: st}).Err(); err != nil {
			return nil, err
		}
	}
	db := s.db.WithContext(ctx)
	q := db.Model(&Notice{})
	if len(f.States) > 0 {
		q = q.Where("state IN ?", f.States)
	}
	if len(f.IDs) > 0 {
		q = q.Where("id IN ?", f.IDs)
	}
	if f.Objected {
		q = q.Where("id IN (?)", db.Model(&Objection{}).Select("notice_id"))
	}
	if f.NewestFirst {
		q = q.Order("announced_at DESC, id DESC")
	} else {
		q = q.Order("effective_on, id")
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var ns []Notice
	if err := q.Find(&ns).Error; err != nil || len(ns) == 0 {
		return nil, err
	}
	ids := make([]int64, 0, 2*len(ns))
	noticeIDs := make([]int64, len(ns))
	for i, n := range ns {
		noticeIDs[i] = n.ID
		ids = append(ids, n.SubprocessorID)
		if n.ReplacesID != nil {
			ids = append(ids, *n.ReplacesID)
		}
	}
	var subs []Subprocessor
	if err := db.Where("id IN ?", ids).Find(&subs).Error; err != nil {
		return nil, err
	}
	byID := map[int64]Subprocessor{}
	for _, p := range subs {
		byID[p.ID] = p
	}
	recipients, err := countBy(db.Model(&Recipient{}), noticeIDs)
	if err != nil {
		return nil, err
	}
	objections, err := countBy(db.Model(&Objection{}), noticeIDs)
	if err != nil {
		return nil, err
	}
	out := make([]NoticeView, len(ns))
	for i, n := range ns {
		out[i] = NoticeView{Notice: n, Subprocessor: byID[n.SubprocessorID], Recipients: recipients[n.ID], Objections: objections[n.ID]}
		if n.ReplacesID != nil {
			r := byID[*n.ReplacesID]
			out[i].Replaces = &r
		}
	}
	return out, nil
}

func countBy(q *gorm.DB, noticeIDs []int64) (map[int64]int64, error) {
	var rows []struct {
		NoticeID int64
		N        int64
	}
	err := q.Where("notice_id IN ?", noticeIDs).Select("notice_id, COUNT(*) AS n").Group("notice_id").Scan(&rows).Error
	out := map[int64]int64{}
	for _, r := range rows {
		out[r.NoticeID] = r.N
	}
	return out, err
}

// NoticeDetail is a notice with who received it and who objected.
type NoticeDetail struct {
	NoticeView
	Sent       []Recipient
	Objections []Objection
}

// NoticeByID returns one notice in full.
func (s *Service) NoticeByID(ctx context.Context, id int64) (*NoticeDetail, error) {
	db := s.db.WithContext(ctx)
	views, err := s.Notices(ctx, NoticeFilter{IDs: []int64{id}})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, ErrNoticeNotFound
	}
	d := &NoticeDetail{NoticeView: views[0]}
	if err := db.Where("notice_id = ?", id).Order("id").Find(&d.Sent).Error; err != nil {
		return nil, err
	}
	return d, db.Where("notice_id = ?", id).Order("id").Find(&d.Objections).Error
}

// ObjectionView is what a customer sees behind their objection link.
type ObjectionView struct {
	Notice       NoticeView
	Counterparty string
	Email        string
	Existing     *Objection
}

func (s *Service) resolveObjection(db *gorm.DB, token string) (*sharelink.Link, *Recipient, error) {
	l, err := sharelink.Resolve(db, s.clock(), ObjectionLinkPurpose, token)
	if err != nil {
		return nil, nil, err
	}
	var r Recipient
	if err := db.Take(&r, l.SubjectID).Error; err != nil {
		return nil, nil, err
	}
	return l, &r, nil
}

// ObjectionPage returns the notice behind an objection link.
func (s *Service) ObjectionPage(ctx context.Context, token string) (*ObjectionView, error) {
	db := s.db.WithContext(ctx)
	_, r, err := s.resolveObjection(db, token)
	if err != nil {
		return nil, err
	}
	return s.objectionView(ctx, db, r)
}

func (s *Service) objectionView(ctx context.Context, db *gorm.DB, r *Recipient) (*ObjectionView, error) {
	d, err := s.NoticeByID(ctx, r.NoticeID)
	if err != nil {
		return nil, err
	}
	v := &ObjectionView{Notice: d.NoticeView, Email: r.Email}
	if r.DPAID != nil {
		var dpa DPA
		if err := db.Take(&dpa, *r.DPAID).Error; err == nil {
			v.Counterparty = dpa.Counterparty
		}
	}
	for i := range d.Objections {
		if d.Objections[i].RecipientID == r.ID {
			v.Existing = &d.Objections[i]
		}
	}
	return v, nil
}

// objectionInput is what a customer writes when objecting to a change.
type objectionInput struct {
	Reason string `validate:"required,max=4000"`
}

// Object records a customer's objection to a change, once, before the
// change takes effect.
func (s *Service) Object(ctx context.Context, from audit.Actor, token, reason string) (*ObjectionView, error) {
	reason = strings.TrimSpace(reason)
	errs := s.check.Struct(objectionInput{Reason: reason})
	var r *Recipient
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		l, rec, err := s.resolveObjection(tx, token)
		if err != nil {
			return err
		}
		r = rec
		if err := errs.Err(); err != nil {
			return err
		}
		var n Notice
		if err := store.ForUpdate(tx).Take(&n, r.NoticeID).Error; err != nil {
			return err
		}
		if n.State != Scheduled {
			return apperr.New(apperr.Conflict, "this change was "+n.State+"; objections are closed")
		}
		var existing int64
		if err := tx.Model(&Objection{}).Where("recipient_id = ?", r.ID).Count(&existing).Error; err != nil {
			return err
		}
		if existing > 0 {
			return apperr.New(apperr.Conflict, "your objection to this change is already recorded")
		}
		now := s.clock()
		o := Objection{NoticeID: n.ID, RecipientID: r.ID, DPAID: r.DPAID, Email: r.Email, Reason: reason, CreatedAt: now}
		if err := tx.Create(&o).Error; err != nil {
			return err
		}
		if err := sharelink.Touch(tx, now, l); err != nil {
			return err
		}
		by := from
		by.Label = "customer:" + r.Email
		if err := s.objectionWebhook(tx, now, &o); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "subprocessor_notice.objection", ObjectType: "subprocessor_notice",
			ObjectID: strconv.FormatInt(n.ID, 10), After: o})
	})
	if err != nil {
		return nil, err
	}
	return s.objectionView(ctx, s.db.WithContext(ctx), r)
}

// ApplyDueJob is the daily job that applies the changes whose date has
// come; its claim per day keeps several instances from racing.
func (s *Service) ApplyDueJob() jobs.Job {
	return jobs.Job{Name: "subprocessors.apply-due", Period: jobs.Daily, Do: func(ctx context.Context) (string, error) {
		n, err := s.ApplyDue(ctx, audit.System("job:subprocessors"))
		return fmt.Sprintf("%d sub-processor change(s) applied", n), err
	}}
}

// Overview is the privacy registers at a glance, for the dashboard.
type Overview struct {
	OpenRequests      int64 // customer DPAs requested or sent, not yet signed
	SignedCustomers   int64
	ActiveSubs        int64
	ScheduledChanges  int64
	PendingObjections int64 // objections to changes not yet in effect
}

// Overview counts what the operations team should see first.
func (s *Service) Overview(ctx context.Context) (*Overview, error) {
	db := s.db.WithContext(ctx)
	o := &Overview{}
	for _, q := range []struct {
		dst   *int64
		query *gorm.DB
	}{
		{&o.OpenRequests, db.Model(&DPA{}).Where("direction = ? AND status IN ?", Customer, []string{Requested, Sent})},
		{&o.SignedCustomers, db.Model(&DPA{}).Where("direction = ? AND status = ?", Customer, Signed)},
		{&o.ActiveSubs, db.Model(&Subprocessor{}).Where("status = ?", Active)},
		{&o.ScheduledChanges, db.Model(&Notice{}).Where("state = ?", Scheduled)},
		{&o.PendingObjections, db.Model(&Objection{}).Where("notice_id IN (?)", db.Model(&Notice{}).Select("id").Where("state = ?", Scheduled))},
	} {
		if err := q.query.Count(q.dst).Error; err != nil {
			return nil, err
		}
	}
	return o, nil
}
