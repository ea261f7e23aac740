package packet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Packet is a frozen set of policy and document versions issued to one
// recipient. DownloadLimit is per file; Downloads counts every file's.
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

// State says whether the packet's link still works at t. The download
// limit is per file, so it never ends the link: the page stays open and
// says what is left.
func (p *Packet) State(t time.Time) string {
	switch {
	case p.RevokedAt != nil:
		return "revoked"
	case !t.Before(p.ExpiresAt):
		return "expired"
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

// PacketDocument is one trust document version frozen into a packet,
// stamped once with its recipient at approval.
type PacketDocument struct {
	PacketID   int64  `json:"-" gorm:"primaryKey"`
	Position   int    `json:"-" gorm:"primaryKey"`
	DocumentID int64  `json:"-"`
	VersionID  int64  `json:"-"`
	Slug       string `json:"slug"`
	Title      string `json:"title"`
	Version    string `json:"version"`
	// SHA256 is the uploaded original's: which version it was.
	SHA256 string `json:"sha256" gorm:"column:sha256"`
	// StampedSHA256 is the served copy's, as in the files list.
	StampedSHA256 string `json:"stamped_sha256" gorm:"column:stamped_sha256"`
	FileName      string `json:"file"`
}

// TableName is the packets' documents table.
func (PacketDocument) TableName() string { return "packet_documents" }

// File is one file of a packet, as listed in its manifest. Downloads is
// its own count against the packet's per-file limit (not in the manifest).
type File struct {
	PacketID  int64  `json:"-" gorm:"primaryKey"`
	Name      string `json:"name" gorm:"primaryKey"`
	SHA256    string `json:"sha256" gorm:"column:sha256"`
	Size      int64  `json:"size"`
	Downloads int    `json:"-"`
}

// TableName is the packet files table.
func (File) TableName() string { return "packet_files" }

// Manifest describes a packet and each of its files. The signature covers
// the manifest's bytes exactly as stored and served in manifest.json, so a
// verifier checks the file it downloaded and never re-serialises it.
type Manifest struct {
	PacketID  string           `json:"packet_id"`
	Company   string           `json:"company"`
	Recipient ManifestReceiver `json:"recipient"`
	IssuedAt  time.Time        `json:"issued_at"`
	ExpiresAt time.Time        `json:"expires_at"`
	Policies  []PacketPolicy   `json:"policies"`
	Documents []PacketDocument `json:"documents"`
	Files     []File           `json:"files"`
	// Answers are the questionnaire answers; absent when none, so that
	// manifests without answers keep their shape.
	Answers []PacketAnswer `json:"answers,omitempty"`
}

// ManifestReceiver is the recipient in a manifest.
type ManifestReceiver struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company"`
}

// Decision is the team's approval.
type Decision struct {
	ExpiryDays    int  `validate:"min=1,max=90"`             // 0: DefaultExpiryDays; at most MaxExpiryDays
	DownloadLimit *int `validate:"omitempty,min=1,max=1000"` // per file; nil: no limit
	// Policies and Documents are subsets of those requested; an empty one
	// means all requested, unless Exact says the two lists are the whole
	// selection (the dashboard's form, whose boxes start ticked).
	Policies  []string
	Documents []string
	Exact     bool
	// Answers are questionnaire answers (IDs) the team adds: approved,
	// public or on request.
	Answers []int64
	auto    bool
}

// PacketFileName is the name of the whole packet's PDF.
const PacketFileName = "packet.pdf"

func policyFileName(slug string) string { return "policies/" + slug + ".pdf" }

func documentFileName(slug string) string { return "documents/" + slug + ".pdf" }

// selection is what an approval includes: no policies, every policy
// (slugs nil) or the named ones; and the named documents.
type selection struct {
	policies  bool
	slugs     []string
	documents []string
}

// choose applies d to what r asked for. Errors: Invalid naming
// "policies" or "documents" for an item that was not requested.
func choose(r *Request, d Decision) (selection, error) {
	sel := selection{policies: r.WantsPolicies(), slugs: r.Slugs(), documents: r.DocumentSlugs()}
	if d.Exact || len(d.Policies) > 0 {
		for _, slug := range d.Policies {
			if !r.WantsPolicies() || (len(r.Slugs()) > 0 && !slices.Contains(r.Slugs(), slug)) {
				return sel, apperr.Field("policies", fmt.Sprintf("%q was not requested", slug))
			}
		}
		sel.policies, sel.slugs = len(d.Policies) > 0, distinct(d.Policies)
	}
	if d.Exact || len(d.Documents) > 0 {
		for _, slug := range d.Documents {
			if !slices.Contains(r.DocumentSlugs(), slug) {
				return sel, apperr.Field("documents", fmt.Sprintf("%q was not requested", slug))
			}
		}
		sel.documents = distinct(d.Documents)
	}
	return sel, nil
}

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
	sel, err := choose(&r, d)
	if err != nil {
		return nil, err
	}
	var versions []frozen
	if sel.policies {
		if versions, err = published(db, sel.slugs); err != nil {
			return nil, err
		}
		if len(sel.slugs) > 0 && len(versions) != len(sel.slugs) {
			return nil, apperr.Field("policies", "name published policies")
		}
	}
	// A document may have lapsed or been withdrawn since the request:
	// refused by name, like at the request.
	docs, err := s.docs.Requestable(ctx, "documents", sel.documents)
	if err != nil {
		return nil, err
	}
	answers, err := s.chosenAnswers(ctx, d.Answers)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 && len(docs) == 0 && len(answers) == 0 {
		return nil, apperr.Field("policies", "choose at least one published policy or document")
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
	doc.Answers, m.Answers = documentAnswers(answers), answers
	var rendered []renderedFile
	if len(doc.Policies) > 0 || len(doc.Answers) > 0 {
		if rendered, err = renderAll(doc); err != nil {
			return nil, err
		}
	}
	for _, f := range rendered {
		m.Files = append(m.Files, File{Name: f.name, SHA256: sha(f.data), Size: int64(len(f.data))})
	}
	// Each document is stamped once, here, and the stamped copy kept in
	// the file store: stamping is not byte-reproducible, so the copy the
	// manifest lists is the one served for the packet's life.
	stamp := stampFor(&p, company)
	for i := range docs {
		dv := docs[i].Current
		stamped, err := s.docs.StampVersion(ctx, dv, stamp)
		if err != nil {
			return nil, err
		}
		name := documentFileName(docs[i].Slug)
		kept, err := s.files.Put(files.TrustDocument, docs[i].Slug+".pdf", bytes.NewReader(stamped))
		if err != nil {
			return nil, err
		}
		m.Documents = append(m.Documents, PacketDocument{Position: i, DocumentID: docs[i].ID, VersionID: dv.ID, Slug: docs[i].Slug,
			Title: docs[i].Title, Version: dv.Version, SHA256: dv.SHA256, StampedSHA256: kept.SHA256, FileName: name})
		m.Files = append(m.Files, File{Name: name, SHA256: kept.SHA256, Size: kept.Size})
	}
	manifest, err := manifestBytes(m)
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
		if len(m.Policies) > 0 {
			if err := tx.Create(&m.Policies).Error; err != nil {
				return err
			}
		}
		for i := range m.Documents {
			m.Documents[i].PacketID = p.ID
		}
		if len(m.Documents) > 0 {
			if err := tx.Create(&m.Documents).Error; err != nil {
				return err
			}
		}
		for i := range m.Answers {
			m.Answers[i].PacketID = p.ID
		}
		if len(m.Answers) > 0 {
			if err := tx.Create(&m.Answers).Error; err != nil {
				return err
			}
		}
		for i := range m.Files {
			m.Files[i].PacketID = p.ID
		}
		if err := tx.Create(&m.Files).Error; err != nil {
			return err
		}
		// The NDA accepted with the request holds for its packet: the
		// packet page does not ask again unless the NDA changed since.
		if r.NDAAcceptanceID != nil {
			if err := tx.Model(&NDAAcceptance{}).Where("id = ? AND packet_id IS NULL", *r.NDAAcceptanceID).Update("packet_id", p.ID).Error; err != nil {
				return err
			}
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
			Policies: len(m.Policies), Documents: len(m.Documents), PacketID: p.PublicID, Link: s.link("/p/" + token), Expires: p.ExpiresAt, DownloadLimit: p.DownloadLimit}); err != nil {
			return err
		}
		if err := s.approvedWebhook(tx, now, &r, &p, d.auto); err != nil {
			return err
		}
		after := map[string]any{"request_id": r.ID, "recipient": p.RecipientEmail, "expires_at": p.ExpiresAt, "download_limit": p.DownloadLimit,
			"policies": len(m.Policies), "documents": documentsAudited(m.Documents), "manifest_sha256": p.ManifestSHA256,
			"auto_approved": d.auto, "nda_acceptance_id": r.NDAAcceptanceID}
		if len(m.Answers) > 0 {
			after["answers"] = answersAudited(m.Answers)
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "packet.issued", ObjectType: "packet", ObjectID: p.PublicID, After: after})
	})
	if err != nil {
		return nil, err
	}
	for _, f := range rendered {
		s.rendered.put(p.ManifestSHA256+"/"+f.name, f.data)
	}
	return &p, nil
}

// stampFor is what every page of the packet's documents carries: the
// recipient (name, email, company), the packet ID and the date.
func stampFor(p *Packet, company string) document.Stamp {
	date := p.IssuedAt.Format(time.DateOnly)
	return document.Stamp{
		Footer: fmt.Sprintf("Confidential — %s — prepared for %s <%s>, %s — packet %s — %s", company, p.RecipientName, p.RecipientEmail,
			p.RecipientCompany, p.PublicID, date),
		Diagonal: fmt.Sprintf("Confidential — %s <%s> — %s — %s", p.RecipientName, p.RecipientEmail, p.PublicID, date),
	}
}

// documentsAudited is what the audit trail keeps of a packet's documents.
func documentsAudited(docs []PacketDocument) []map[string]any {
	out := []map[string]any{}
	for _, d := range docs {
		out = append(out, map[string]any{"slug": d.Slug, "version": d.Version, "sha256": d.SHA256, "stamped_sha256": d.StampedSHA256})
	}
	return out
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
		one.Policies, one.Answers = []DocumentPolicy{pol}, nil
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
