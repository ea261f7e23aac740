package packet

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
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

// Packet is a frozen set of policy versions issued to one recipient.
type Packet struct {
	ID               int64      `json:"-"`
	PublicID         string     `json:"packet_id"`
	RequestID        *int64     `json:"request_id"`
	RecipientName    string     `json:"recipient_name"`
	RecipientEmail   string     `json:"recipient_email"`
	RecipientCompany string     `json:"recipient_company"`
	IssuedAt         time.Time  `json:"issued_at"`
	ExpiresAt        time.Time  `json:"expires_at"`
	DownloadLimit    *int       `json:"download_limit"`
	Downloads        int        `json:"downloads"`
	RevokedAt        *time.Time `json:"revoked_at"`
	RevokedBy        string     `json:"revoked_by"`
	IssuedBy         string     `json:"issued_by"`
	Manifest         string     `json:"-"`
	ManifestSHA256   string     `json:"manifest_sha256" gorm:"column:manifest_sha256"`
	Signature        string     `json:"-"`
}

// TableName is the packets table.
func (Packet) TableName() string { return "packets" }

// State says whether the packet's link still works at t.
func (p *Packet) State(t time.Time) string {
	switch {
	case p.RevokedAt != nil:
		return "revoked"
	case !t.Before(p.ExpiresAt):
		return "expired"
	case p.DownloadLimit != nil && p.Downloads >= *p.DownloadLimit:
		return "exhausted"
	}
	return "active"
}

// PacketPolicy is one frozen policy version of a packet.
type PacketPolicy struct {
	PacketID        int64     `json:"-" gorm:"primaryKey"`
	Position        int       `json:"-" gorm:"primaryKey"`
	PolicyVersionID int64     `json:"-"`
	Slug            string    `json:"slug"`
	Title           string    `json:"title"`
	Version         string    `json:"version"`
	EffectiveOn     time.Time `json:"effective_on"`
	SHA256          string    `json:"sha256" gorm:"column:sha256"`
}

// TableName is the packets' policies table.
func (PacketPolicy) TableName() string { return "packet_policies" }

// File is one file of a packet, as listed in its manifest.
type File struct {
	PacketID int64  `json:"-" gorm:"primaryKey"`
	Name     string `json:"name" gorm:"primaryKey"`
	SHA256   string `json:"sha256" gorm:"column:sha256"`
	Size     int64  `json:"size"`
}

// TableName is the packet files table.
func (File) TableName() string { return "packet_files" }

// Manifest describes a packet and each of its files. The signature covers
// the manifest's JSON exactly as served in manifest.json.
type Manifest struct {
	PacketID  string           `json:"packet_id"`
	Company   string           `json:"company"`
	Recipient ManifestReceiver `json:"recipient"`
	IssuedAt  time.Time        `json:"issued_at"`
	ExpiresAt time.Time        `json:"expires_at"`
	Policies  []PacketPolicy   `json:"policies"`
	Files     []File           `json:"files"`
}

// ManifestReceiver is the recipient in a manifest.
type ManifestReceiver struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company"`
}

// Decision is the team's approval.
type Decision struct {
	ExpiryDays    int      `validate:"min=1,max=90"`             // 0: DefaultExpiryDays; at most MaxExpiryDays
	DownloadLimit *int     `validate:"omitempty,min=1,max=1000"` // nil: no limit
	Policies      []string // a subset of those requested; empty: all requested
	auto          bool
}

// PacketFileName is the name of the whole packet's PDF.
const PacketFileName = "packet.pdf"

func policyFileName(slug string) string { return "policies/" + slug + ".pdf" }

type frozen struct {
	versionID int64
	pol       DocumentPolicy
}

// published returns the published version of each slug (all when slugs
// is empty), in title order.
func published(db *gorm.DB, slugs []string) ([]frozen, error) {
	var rows []struct {
		VersionID   int64
		Slug        string
		Title       string
		Major       int
		Minor       int
		SHA256      string `gorm:"column:sha256"`
		Body        string
		PublishedAt *time.Time
	}
	q := db.Model(&policy.Version{}).Select("policy_versions.id AS version_id, policies.slug, policies.title, policy_versions.major, policy_versions.minor, policy_versions.sha256, policy_versions.body, policy_versions.published_at").
		Joins("JOIN policies ON policies.id = policy_versions.policy_id").Where("policy_versions.status = ?", policy.StatusPublished).Order("policies.title")
	if len(slugs) > 0 {
		q = q.Where("policies.slug IN ?", slugs)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]frozen, len(rows))
	for i, r := range rows {
		eff := time.Time{}
		if r.PublishedAt != nil {
			eff = r.PublishedAt.UTC()
		}
		out[i] = frozen{versionID: r.VersionID, pol: DocumentPolicy{Slug: r.Slug, Title: r.Title, Version: fmt.Sprintf("%d.%d", r.Major, r.Minor),
			EffectiveOn: eff, SHA256: r.SHA256, Body: r.Body}}
	}
	return out, nil
}

// Approve issues a packet for a pending request and emails its link.
func (s *Service) Approve(ctx context.Context, by audit.Actor, requestID int64, d Decision) (*Packet, error) {
	if d.ExpiryDays == 0 {
		d.ExpiryDays = DefaultExpiryDays
	}
	errs := s.check.Struct(d)
	if errs.Has("expiry_days") {
		errs["expiry_days"] = fmt.Sprintf("must be from 1 to %d days", MaxExpiryDays)
	}
	if errs.Has("download_limit") {
		errs["download_limit"] = "must be from 1 to 1000, or empty for no limit"
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	var r Request
	if err := db.Take(&r, requestID).Error; isNotFound(err) {
		return nil, notFound("request")
	} else if err != nil {
		return nil, err
	}
	if r.Status != Pending {
		return nil, apperr.New(apperr.Conflict, "this request is "+r.Status+"; only a pending request can be approved")
	}
	slugs := r.Slugs()
	if len(d.Policies) > 0 {
		for _, slug := range d.Policies {
			if len(slugs) > 0 && !slices.Contains(slugs, slug) {
				return nil, apperr.Field("policies", fmt.Sprintf("%q was not requested", slug))
			}
		}
		slugs = d.Policies
	}
	versions, err := published(db, slugs)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 || (len(slugs) > 0 && len(versions) != len(slugs)) {
		return nil, apperr.Field("policies", "name published policies")
	}
	company, err := s.company(ctx)
	if err != nil {
		return nil, err
	}
	publicID, err := newPublicID()
	if err != nil {
		return nil, err
	}
	now := s.clock()
	p := Packet{PublicID: publicID, RequestID: &r.ID, RecipientName: r.Name, RecipientEmail: r.Email, RecipientCompany: r.Company,
		IssuedAt: now, ExpiresAt: now.AddDate(0, 0, d.ExpiryDays), DownloadLimit: d.DownloadLimit, IssuedBy: by.Label}
	// The files are rendered before the transaction, which then only
	// writes: SQLite's write lock is not held while PDFs are drawn.
	m := Manifest{PacketID: p.PublicID, Company: company, Recipient: ManifestReceiver{Name: p.RecipientName, Email: p.RecipientEmail, Company: p.RecipientCompany},
		IssuedAt: p.IssuedAt, ExpiresAt: p.ExpiresAt}
	doc := documentOf(&p, company, nil)
	for i, v := range versions {
		doc.Policies = append(doc.Policies, v.pol)
		m.Policies = append(m.Policies, PacketPolicy{Position: i, PolicyVersionID: v.versionID, Slug: v.pol.Slug, Title: v.pol.Title,
			Version: v.pol.Version, EffectiveOn: v.pol.EffectiveOn, SHA256: v.pol.SHA256})
	}
	files, err := renderAll(doc)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		m.Files = append(m.Files, File{Name: f.name, SHA256: sha(f.data), Size: int64(len(f.data))})
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	p.Manifest, p.ManifestSHA256 = string(manifest), sha(manifest)
	p.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, manifest))

	err = db.Transaction(func(tx *gorm.DB) error {
		var locked Request
		if err := store.ForUpdate(tx).Take(&locked, r.ID).Error; err != nil {
			return err
		}
		if locked.Status != Pending {
			return apperr.New(apperr.Conflict, "this request was decided meanwhile ("+locked.Status+")")
		}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		for i := range m.Policies {
			m.Policies[i].PacketID = p.ID
		}
		if err := tx.Create(&m.Policies).Error; err != nil {
			return err
		}
		for i := range m.Files {
			m.Files[i].PacketID = p.ID
		}
		if err := tx.Create(&m.Files).Error; err != nil {
			return err
		}
		token, _, err := sharelink.Issue(tx, now, LinkPurpose, p.ID, p.ExpiresAt.Sub(now))
		if err != nil {
			return err
		}
		if err := tx.Model(&Request{}).Where("id = ?", r.ID).Updates(map[string]any{"status": Approved, "decided_at": now,
			"decided_by": by.Label, "auto_approved": d.auto}).Error; err != nil {
			return err
		}
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), r.Email, notify.PacketApproved{Name: r.Name, Company: company,
			Policies: len(m.Policies), PacketID: p.PublicID, Link: s.link("/p/" + token), Expires: p.ExpiresAt, DownloadLimit: p.DownloadLimit}); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "packet.issued", ObjectType: "packet", ObjectID: p.PublicID,
			After: map[string]any{"request_id": r.ID, "recipient": p.RecipientEmail, "expires_at": p.ExpiresAt, "download_limit": p.DownloadLimit,
				"policies": len(m.Policies), "manifest_sha256": p.ManifestSHA256, "auto_approved": d.auto}})
	})
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		s.rendered.put(p.ManifestSHA256+"/"+f.name, f.data)
	}
	return &p, nil
}

type renderedFile struct {
	name string
	data []byte
}

// renderAll draws the whole packet and one PDF per policy.
func renderAll(doc Document) ([]renderedFile, error) {
	whole, err := RenderPDF(doc)
	if err != nil {
		return nil, err
	}
	files := []renderedFile{{PacketFileName, whole}}
	for _, pol := range doc.Policies {
		one := doc
		one.Policies = []DocumentPolicy{pol}
		b, err := RenderPDF(one)
		if err != nil {
			return nil, err
		}
		files = append(files, renderedFile{policyFileName(pol.Slug), b})
	}
	return files, nil
}

func documentOf(p *Packet, company string, pols []DocumentPolicy) Document {
	return Document{Company: company, PacketID: p.PublicID, Recipient: Recipient{Name: p.RecipientName, Email: p.RecipientEmail, Company: p.RecipientCompany},
		IssuedAt: p.IssuedAt, ExpiresAt: p.ExpiresAt, Policies: pols}
}

// denial is the reason a request is refused, as the requester reads it.
type denial struct {
	Reason string `validate:"required,max=2000"`
}

// Deny refuses a pending request and tells the requester why.
func (s *Service) Deny(ctx context.Context, by audit.Actor, requestID int64, reason string) (*Request, error) {
	reason = strings.TrimSpace(reason)
	if s.check.Struct(denial{Reason: reason}).Has("reason") {
		return nil, apperr.Field("reason", "give the requester a reason (at most 2000 characters)")
	}
	company, err := s.company(ctx)
	if err != nil {
		return nil, err
	}
	var r Request
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Take(&r, requestID).Error; isNotFound(err) {
			return notFound("request")
		} else if err != nil {
			return err
		}
		if r.Status != Pending {
			return apperr.New(apperr.Conflict, "this request is "+r.Status+"; only a pending request can be denied")
		}
		now := s.clock()
		r.Status, r.DecidedAt, r.DecidedBy, r.DenyReason = Denied, &now, by.Label, reason
		if err := tx.Save(&r).Error; err != nil {
			return err
		}
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), r.Email, notify.PacketDenied{Name: r.Name, Company: company, Reason: reason}); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "packet_request.denied", ObjectType: "packet_request", ObjectID: strconv.FormatInt(r.ID, 10),
			After: map[string]any{"reason": reason}})
	})
	return &r, err
}

// Revoke ends a packet's link on its next request.
func (s *Service) Revoke(ctx context.Context, by audit.Actor, publicID string) (*Packet, error) {
	var p Packet
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Where("public_id = ?", publicID).Take(&p).Error; isNotFound(err) {
			return notFound("packet")
		} else if err != nil {
			return err
		}
		if p.RevokedAt != nil {
			return apperr.New(apperr.Conflict, "this packet is already revoked")
		}
		now := s.clock()
		p.RevokedAt, p.RevokedBy = &now, by.Label
		if err := tx.Save(&p).Error; err != nil {
			return err
		}
		if err := sharelink.Revoke(tx, now, LinkPurpose, p.ID); err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "packet.revoked", ObjectType: "packet", ObjectID: p.PublicID})
	})
	return &p, err
}
