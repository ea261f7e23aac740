package packet

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// NDAVersion is one version of the clickwrap NDA.
type NDAVersion struct {
	ID        int64
	Version   int
	Body      string
	SHA256    string `gorm:"column:sha256"`
	CreatedAt time.Time
	CreatedBy string
}

// TableName is the NDA versions table.
func (NDAVersion) TableName() string { return "nda_versions" }

// NDAAcceptance records that someone accepted an NDA version.
type NDAAcceptance struct {
	ID           int64
	Email        string
	NDAVersionID int64  `gorm:"column:nda_version_id"`
	SHA256       string `gorm:"column:sha256"`
	AcceptedAt   time.Time
	IP           string `gorm:"column:ip"`
	UserAgent    string
}

// TableName is the acceptances table.
func (NDAAcceptance) TableName() string { return "nda_acceptances" }

// Request statuses.
const (
	Unconfirmed = "unconfirmed" // the email address is not confirmed yet
	Pending     = "pending"     // waiting for the team
	Approved    = "approved"
	Denied      = "denied"
)

// Request is a customer's request for policies and trust documents.
type Request struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Company  string `json:"company"`
	Role     string `json:"role"`
	Reason   string `json:"reason"`
	Policies string `json:"-"` // slugs, comma-separated; empty means all (unless NoPolicies)
	// NoPolicies marks a request for documents only: without it an empty
	// Policies would mean every policy.
	NoPolicies      bool       `json:"-"`
	Documents       string     `json:"-"` // trust document slugs, comma-separated
	NDAAcceptanceID *int64     `json:"-" gorm:"column:nda_acceptance_id"`
	Status          string     `json:"status"`
	ConfirmedAt     *time.Time `json:"confirmed_at"`
	DecidedAt       *time.Time `json:"decided_at"`
	DecidedBy       string     `json:"decided_by"`
	DenyReason      string     `json:"deny_reason"`
	AutoApproved    bool       `json:"auto_approved"`
	CreatedAt       time.Time  `json:"created_at"`
}

// TableName is the requests table.
func (Request) TableName() string { return "packet_requests" }

// Slugs returns the requested policies; nil means all of them (or none,
// when WantsPolicies is false).
func (r *Request) Slugs() []string {
	if r.Policies == "" {
		return nil
	}
	return strings.Split(r.Policies, ",")
}

// WantsPolicies reports whether the request asks for any policy.
func (r *Request) WantsPolicies() bool { return !r.NoPolicies }

// DocumentSlugs returns the requested trust documents.
func (r *Request) DocumentSlugs() []string {
	if r.Documents == "" {
		return nil
	}
	return strings.Split(r.Documents, ",")
}

// CurrentNDA returns the NDA in force.
func (s *Service) CurrentNDA(ctx context.Context) (*NDAVersion, error) {
	return currentNDA(s.db.WithContext(ctx))
}

func currentNDA(db *gorm.DB) (*NDAVersion, error) {
	var v NDAVersion
	err := db.Order("version DESC").Take(&v).Error
	if isNotFound(err) {
		return nil, apperr.New(apperr.Conflict, "no NDA is set: an admin must set one before policies can be requested")
	}
	return &v, err
}

// ndaText is the text of a new NDA version.
type ndaText struct {
	Body string `validate:"min=50,max=50000"`
}

// PublishNDA makes body the NDA in force, as a new version.
func (s *Service) PublishNDA(ctx context.Context, by audit.Actor, body string) (*NDAVersion, error) {
	body = strings.TrimSpace(body)
	if s.check.Struct(ndaText{Body: body}).Has("body") {
		return nil, apperr.Field("body", "the NDA text must be between 50 and 50,000 characters")
	}
	var v NDAVersion
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var last int
		if err := tx.Model(&NDAVersion{}).Select("COALESCE(MAX(version), 0)").Scan(&last).Error; err != nil {
			return err
		}
		now := s.clock()
		v = NDAVersion{Version: last + 1, Body: body, SHA256: sha([]byte(body)), CreatedAt: now, CreatedBy: by.Label}
		if err := tx.Create(&v).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "nda.published", ObjectType: "nda", ObjectID: strconv.Itoa(v.Version),
			After: map[string]any{"version": v.Version, "sha256": v.SHA256}})
	})
	if err == nil {
		// Downloads here ask for the new version at once.
		s.nda.mu.Lock()
		s.nda.version = nil
		s.nda.mu.Unlock()
	}
	return &v, err
}

// SeedNDA sets the first NDA when there is none.
func (s *Service) SeedNDA(ctx context.Context, by audit.Actor, body string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&NDAVersion{}).Count(&n).Error; err != nil || n > 0 {
		return false, err
	}
	_, err := s.PublishNDA(ctx, by, body)
	return err == nil, err
}

// RequestInput is the public request form.
type RequestInput struct {
	Name    string `validate:"required,max=200"`
	Email   string `validate:"required,address"`
	Company string `validate:"required,max=200"`
	Role    string `validate:"max=200"`
	// Policies are slugs; "all" or none at all (with no documents either)
	// means every policy. Documents are on-request trust documents' slugs.
	Policies  []string `validate:"max=100"`
	Documents []string `validate:"max=100"`
	Reason    string   `validate:"max=2000"`
	// NDAVersion is the version shown with the form; AcceptNDA the box.
	NDAVersion int
	AcceptNDA  bool `validate:"required"`
}

// publishedSlugs returns the slugs of the policies with a published
// version, in title order.
func publishedSlugs(db *gorm.DB) ([]string, error) {
	var slugs []string
	err := db.Model(&policy.Policy{}).Where("id IN (?)", db.Model(&policy.Version{}).Select("policy_id").Where("status = ?", policy.StatusPublished)).
		Order("title").Pluck("slug", &slugs).Error
	return slugs, err
}

// Submit records a request and emails a confirmation link; the team sees
// it only once the address is confirmed. Errors: Invalid (naming every
// field with a problem at once).
func (s *Service) Submit(ctx context.Context, from audit.Actor, in RequestInput) (*Request, error) {
	workEmail := s.settings.WorkEmail.Check("email", notify.NormalizeAddress(in.Email))
	in.Name, in.Email, in.Company = strings.TrimSpace(in.Name), notify.NormalizeAddress(in.Email), strings.TrimSpace(in.Company)
	in.Role, in.Reason = strings.TrimSpace(in.Role), strings.TrimSpace(in.Reason)
	errs := s.check.Struct(in)
	// The work-address rule's message is the more precise one (no @, or
	// which free-mail provider).
	if ae, ok := apperr.As(workEmail); ok && in.Email != "" {
		errs["email"] = ae.Fields["email"]
	} else if errs.Has("email") {
		errs["email"] = "must be your work email address"
	}
	if errs.Has("policies") {
		errs["policies"] = "must name at most 100 policies, or every policy"
	}
	if errs.Has("accept_nda") {
		errs["accept_nda"] = "must be accepted to receive the policies"
	}
	r := Request{Name: in.Name, Company: in.Company, Role: in.Role, Reason: in.Reason, Email: in.Email, Status: Unconfirmed}
	docSlugs := distinct(in.Documents)
	// An unknown, internal, public or lapsed document is refused with the
	// other fields' errors, naming "documents".
	if errs.Has("documents") {
		errs["documents"] = "must name at most 100 documents"
	} else if _, err := s.docs.Requestable(ctx, "documents", docSlugs); apperr.Is(err, apperr.Invalid) {
		ae, _ := apperr.As(err)
		for k, v := range ae.Fields {
			errs[k] = v
		}
	} else if err != nil {
		return nil, err
	}
	r.Documents = strings.Join(docSlugs, ",")
	company, err := s.company(ctx)
	if err != nil {
		return nil, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		nda, err := currentNDA(tx)
		if err != nil {
			return err
		}
		if in.AcceptNDA && in.NDAVersion != nda.Version {
			errs["accept_nda"] = "was changed while you were reading; please read it again"
		}
		published, err := publishedSlugs(tx)
		if err != nil {
			return err
		}
		var chosen []string
		every := slices.Contains(in.Policies, "all")
		for _, slug := range in.Policies {
			if slug == "" || slug == "all" {
				continue
			}
			if !slices.Contains(published, slug) {
				errs["policies"] = fmt.Sprintf("must be published ones; %q is not", slug)
			} else if !slices.Contains(chosen, slug) {
				chosen = append(chosen, slug)
			}
		}
		if every || len(chosen) == len(published) {
			chosen = nil
		}
		// Nothing ticked asks for every policy, as before documents could
		// be requested; documents alone ask for no policy.
		r.NoPolicies = !every && len(chosen) == 0 && len(docSlugs) > 0
		r.Policies = strings.Join(chosen, ",")
		if err := errs.Err(); err != nil {
			return err
		}
		now := s.clock()
		acc := NDAAcceptance{Email: r.Email, NDAVersionID: nda.ID, SHA256: nda.SHA256, AcceptedAt: now, IP: from.IP, UserAgent: from.UserAgent}
		if err := tx.Create(&acc).Error; err != nil {
			return err
		}
		r.NDAAcceptanceID, r.CreatedAt = &acc.ID, now
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		token, _, err := sharelink.Issue(tx, now, ConfirmationLinkPurpose, r.ID, ConfirmationTTL)
		if err != nil {
			return err
		}
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), r.Email,
			notify.PacketRequestConfirmation{Name: r.Name, Company: company, Link: s.link("/trust/request/confirm/" + token)}); err != nil {
			return err
		}
		by := from
		by.Label = "requester:" + r.Email
		if err := audit.Append(tx, by, audit.Entry{At: now, Action: "nda.accepted", ObjectType: "nda", ObjectID: strconv.Itoa(nda.Version),
			After: acc}); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "packet_request.submitted", ObjectType: "packet_request", ObjectID: strconv.FormatInt(r.ID, 10), After: r})
	})
	return &r, err
}

// distinct returns the non-empty strings of in, once each, in order.
func distinct(in []string) []string {
	var out []string
	for _, v := range in {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// CheckConfirmation reports whether a confirmation link is live.
func (s *Service) CheckConfirmation(ctx context.Context, token string) error {
	_, err := sharelink.Resolve(s.db.WithContext(ctx), s.clock(), ConfirmationLinkPurpose, token)
	return err
}

// Confirm marks the request's email as confirmed and puts it before the
// team, or approves it at once when an auto-approval rule matches. It
// returns the packet when one was issued.
func (s *Service) Confirm(ctx context.Context, from audit.Actor, token string) (*Request, *Packet, error) {
	var r Request
	team, err := s.settings.TeamAddresses(ctx)
	if err != nil {
		return nil, nil, err
	}
	docsAuto, err := s.documentsAutoApprovable(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	auto := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		l, err := sharelink.Resolve(tx, now, ConfirmationLinkPurpose, token)
		if err != nil {
			return err
		}
		if err := tx.Take(&r, l.SubjectID).Error; err != nil {
			return err
		}
		if err := sharelink.Revoke(tx, now, ConfirmationLinkPurpose, r.ID); err != nil {
			return err
		}
		res := tx.Model(&Request{}).Where("id = ? AND status = ?", r.ID, Unconfirmed).Updates(map[string]any{"status": Pending, "confirmed_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		r.Status, r.ConfirmedAt = Pending, &now
		by := from
		by.Label = "requester:" + r.Email
		if err := audit.Append(tx, by, audit.Entry{At: now, Action: "packet_request.confirmed", ObjectType: "packet_request", ObjectID: strconv.FormatInt(r.ID, 10)}); err != nil {
			return err
		}
		if err := s.requestedWebhook(tx, now, &r); err != nil {
			return err
		}
		if auto, err = s.autoApproves(tx, r.Email); err != nil {
			return err
		}
		// A rule covers a request only when it covers every document in
		// it; otherwise the whole request waits for a person.
		if auto = auto && docsAuto; auto {
			return nil
		}
		mail := notify.PacketRequest{Name: r.Name, Email: r.Email, Company: r.Company, Reason: r.Reason,
			Link: s.link(fmt.Sprintf("/app/packets/requests/%d", r.ID))}
		for _, to := range team {
			if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), to, mail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !auto {
		return &r, nil, err
	}
	p, err := s.Approve(ctx, audit.System("system:auto-approval"), r.ID, Decision{ExpiryDays: DefaultExpiryDays, auto: true})
	if err != nil {
		return nil, nil, err
	}
	r.Status = Approved
	return &r, p, nil
}

// documentsAutoApprovable reports whether every document the request of
// a confirmation link names may be auto-approved (trust_documents'
// auto_approve) and can still be requested. It reads before Confirm's
// transaction, through the document register's service; a request's
// documents never change once submitted. A dead or unknown link reports
// false: Confirm's transaction then answers for it.
func (s *Service) documentsAutoApprovable(ctx context.Context, token string) (bool, error) {
	l, err := sharelink.Resolve(s.db.WithContext(ctx), s.clock(), ConfirmationLinkPurpose, token)
	if err != nil {
		return false, nil
	}
	var r Request
	if err := s.db.WithContext(ctx).Take(&r, l.SubjectID).Error; isNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	docs, err := s.docs.Requestable(ctx, "documents", r.DocumentSlugs())
	if apperr.Is(err, apperr.Invalid) {
		return false, nil // lapsed or withdrawn since: a person decides
	} else if err != nil {
		return false, err
	}
	for _, d := range docs {
		if !d.AutoApprove {
			return false, nil
		}
	}
	return true, nil
}

// DeleteUnconfirmed deletes the requests submitted before before whose
// address was never confirmed, with their NDA acceptance and confirmation
// links, and audits each deletion in the same transaction. Their
// confirmation links (7 days) are dead by then. It returns how many it
// deleted.
func (s *Service) DeleteUnconfirmed(ctx context.Context, by audit.Actor, before time.Time) (int, error) {
	return store.InBatches(ctx, s.db, func(tx *gorm.DB, limit int) (int, error) {
		var stale []Request
		if err := tx.Where("status = ? AND created_at < ?", Unconfirmed, before.UTC()).Order("id").Limit(limit).Find(&stale).Error; err != nil || len(stale) == 0 {
			return 0, err
		}
		ids, acceptances := make([]int64, len(stale)), []int64{}
		records := make([]audit.Record, len(stale))
		now := s.clock()
		for i, r := range stale {
			ids[i] = r.ID
			if r.NDAAcceptanceID != nil {
				acceptances = append(acceptances, *r.NDAAcceptanceID)
			}
			records[i] = audit.Record{By: by, Entry: audit.Entry{At: now, Action: "packet_request.expired", ObjectType: "packet_request",
				ObjectID: strconv.FormatInt(r.ID, 10), Before: map[string]any{"status": r.Status, "created_at": r.CreatedAt}}}
		}
		if err := tx.Where("id IN ?", ids).Delete(&Request{}).Error; err != nil {
			return 0, err
		}
		if len(acceptances) > 0 {
			if err := tx.Where("id IN ? AND packet_id IS NULL", acceptances).Delete(&NDAAcceptance{}).Error; err != nil {
				return 0, err
			}
		}
		if err := tx.Where("purpose = ? AND subject_id IN ?", ConfirmationLinkPurpose, ids).Delete(&sharelink.Link{}).Error; err != nil {
			return 0, err
		}
		return len(stale), audit.AppendAll(tx, records)
	})
}

// autoApproves reports whether an auto-approval rule covers email.
func (s *Service) autoApproves(tx *gorm.DB, email string) (bool, error) {
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if slices.Contains(s.settings.AutoApproveDomains, domain) {
		return true, nil
	}
	if !s.settings.AutoApproveDPACustomers {
		return false, nil
	}
	var n int64
	err := tx.Table("dpas").Where("direction = 'customer' AND status = 'signed' AND domain = ?", domain).Count(&n).Error
	return n > 0, err
}

// RequestFilter selects requests.
type RequestFilter struct {
	Status string
	Limit  int
}

// Requests returns requests, newest first.
func (s *Service) Requests(ctx context.Context, f RequestFilter) ([]Request, error) {
	q := s.db.WithContext(ctx).Order("created_at DESC, id DESC")
	if f.Status != "" {
		if !slices.Contains([]string{Unconfirmed, Pending, Approved, Denied}, f.Status) {
			return nil, apperr.Field("status", "must be unconfirmed, pending, approved or denied")
		}
		q = q.Where("status = ?", f.Status)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	var out []Request
	return out, q.Limit(f.Limit).Find(&out).Error
}

// RequestDetail is a request with its NDA acceptance and packet, if any.
type RequestDetail struct {
	Request
	NDA    *NDAAcceptance
	Packet *Packet
}

// RequestByID returns one request.
func (s *Service) RequestByID(ctx context.Context, id int64) (*RequestDetail, error) {
	db := s.db.WithContext(ctx)
	d := &RequestDetail{}
	if err := db.Take(&d.Request, id).Error; isNotFound(err) {
		return nil, notFound("request")
	} else if err != nil {
		return nil, err
	}
	if d.NDAAcceptanceID != nil {
		var a NDAAcceptance
		if err := db.Take(&a, *d.NDAAcceptanceID).Error; err == nil {
			d.NDA = &a
		}
	}
	var p Packet
	if err := db.Where("request_id = ?", id).Take(&p).Error; err == nil {
		d.Packet = &p
	} else if !isNotFound(err) {
		return nil, err
	}
	return d, nil
}
