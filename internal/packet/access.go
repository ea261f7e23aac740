package packet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/sharelink"
	"gorm.io/gorm"
)

// Access is one view or download of a packet, or a refused attempt.
type Access struct {
	ID        int64     `json:"-"`
	PacketID  int64     `json:"-"`
	At        time.Time `json:"at"`
	IP        string    `json:"ip" gorm:"column:ip"`
	UserAgent string    `json:"user_agent"`
	File      string    `json:"file"`
	Outcome   string    `json:"outcome"`
}

// TableName is the access log.
func (Access) TableName() string { return "packet_access" }

// ErrNDANeeded refuses a download before the NDA is accepted on the link.
var ErrNDANeeded = apperr.New(apperr.Forbidden, "accept the non-disclosure agreement on the packet's page before downloading")

// ErrFileLimit answers a download of a file past the packet's per-file
// limit; the packet's page and its other files still open.
var ErrFileLimit = apperr.New(apperr.Gone, "this file's download limit is reached; request it again")

// Why a packet's link or one of its files cannot be had.
const (
	Expired   = "expired"
	Withdrawn = "withdrawn"
	FileLimit = "file limit reached"
)

// Unavailable says why a packet's link or one of its files cannot be had,
// and what its recipient was given, so that the page can offer to request
// the same again. It is returned only for a token that names a packet: an
// unknown token stays sharelink.ErrUnknown and says nothing.
type Unavailable struct {
	Reason   string // Expired, Withdrawn or FileLimit
	PacketID string
	File     string // the file asked for, by its name in the packet
	// FileTitle says what the file holds (a policy's or document's
	// title), for FileLimit.
	FileTitle string
	Limit     int // for FileLimit
	Again     Again
}

// Again is what a new request for the same packet would say.
type Again struct {
	Name, Email, Company string
	Policies, Documents  []string
}

// Error says why, in the words of the refusal.
func (u *Unavailable) Error() string {
	if u.Reason == FileLimit {
		return ErrFileLimit.Error()
	}
	return "this link has " + map[string]string{Expired: "expired", Withdrawn: "been withdrawn"}[u.Reason]
}

// Unwrap makes an Unavailable a Gone error: ErrFileLimit for a file,
// sharelink.ErrDead for the link.
func (u *Unavailable) Unwrap() error {
	if u.Reason == FileLimit {
		return ErrFileLimit
	}
	return sharelink.ErrDead
}

// unavailable describes why p (or its file) cannot be had.
func (s *Service) unavailable(ctx context.Context, p *Packet, reason, file string) error {
	u := &Unavailable{Reason: reason, PacketID: p.PublicID, File: file}
	if p.DownloadLimit != nil {
		u.Limit = *p.DownloadLimit
	}
	db := s.db.WithContext(ctx)
	var pols []PacketPolicy
	if err := db.Select("slug", "title").Where("packet_id = ?", p.ID).Order("position").Find(&pols).Error; err != nil {
		return err
	}
	var docs []PacketDocument
	if err := db.Select("slug", "title", "file_name").Where("packet_id = ?", p.ID).Order("position").Find(&docs).Error; err != nil {
		return err
	}
	u.Again = againOf(p, pols, docs)
	if file == PacketFileName {
		u.FileTitle = "every policy in one PDF"
	}
	for _, pol := range pols {
		if pol.File() == file {
			u.FileTitle = pol.Title
		}
	}
	for _, d := range docs {
		if d.FileName == file {
			u.FileTitle = d.Title
		}
	}
	return u
}

// againOf is a new request for what p holds.
func againOf(p *Packet, pols []PacketPolicy, docs []PacketDocument) Again {
	a := Again{Name: p.RecipientName, Email: p.RecipientEmail, Company: p.RecipientCompany}
	for _, pol := range pols {
		a.Policies = append(a.Policies, pol.Slug)
	}
	for _, d := range docs {
		a.Documents = append(a.Documents, d.Slug)
	}
	return a
}

// View is what the packet's landing page shows.
type View struct {
	Packet    Packet
	Policies  []PacketPolicy
	Documents []PacketDocument
	Files     []File
	NDA       *NDAVersion // the NDA to accept first, or nil
	Company   string
}

// Again is a new request for what the packet holds, for a file whose
// downloads are used up.
func (v *View) Again() Again { return againOf(&v.Packet, v.Policies, v.Documents) }

// Limited reports whether the packet's files have a download limit.
func (v *View) Limited() bool { return v.Packet.DownloadLimit != nil }

// Limit is the number of downloads each file allows (0 without a limit).
func (v *View) Limit() int {
	if v.Packet.DownloadLimit == nil {
		return 0
	}
	return *v.Packet.DownloadLimit
}

// Has reports whether the packet has a file of that name.
func (v *View) Has(name string) bool {
	for _, f := range v.Files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// Left returns how many more times file name can be downloaded; without
// a limit, -1.
func (v *View) Left(name string) int {
	if v.Packet.DownloadLimit == nil {
		return -1
	}
	for _, f := range v.Files {
		if f.Name == name {
			return max(0, *v.Packet.DownloadLimit-f.Downloads)
		}
	}
	return 0
}

// File is the policy's PDF in the packet.
func (p PacketPolicy) File() string { return policyFileName(p.Slug) }

// WholeFile is the name of the PDF with every policy of the packet.
func (View) WholeFile() string { return PacketFileName }

// open resolves a packet link. A dead link's refusal is logged against
// its packet before the error is returned.
func (s *Service) open(ctx context.Context, from audit.Actor, token, file string) (*Packet, error) {
	p, _, err := s.openUntil(ctx, from, token, file)
	return p, err
}

// openUntil is open, also returning until when the link stays open unless
// it is revoked: the earlier of the link's and the packet's expiry.
func (s *Service) openUntil(ctx context.Context, from audit.Actor, token, file string) (*Packet, time.Time, error) {
	if !sharelink.WellFormed(token) {
		return nil, time.Time{}, sharelink.ErrUnknown
	}
	// The link and its packet in one query.
	var row struct {
		Packet
		LinkRevokedAt *time.Time
		LinkExpiresAt time.Time
	}
	err := s.db.WithContext(ctx).Table("share_links").
		// Not the manifest: it is large, and only a re-render or
		// manifest.json needs it (loadManifest).
		Select("packets.id, packets.public_id, packets.request_id, packets.recipient_name, packets.recipient_email, packets.recipient_company, "+
			"packets.issued_at, packets.expires_at, packets.download_limit, packets.downloads, packets.revoked_at, packets.revoked_by, "+
			"packets.issued_by, packets.manifest_sha256, share_links.revoked_at AS link_revoked_at, share_links.expires_at AS link_expires_at").
		Joins("JOIN packets ON packets.id = share_links.subject_id").
		Where("share_links.token_hash = ? AND share_links.purpose = ?", sharelink.Hash(token), LinkPurpose).Take(&row).Error
	if isNotFound(err) {
		return nil, time.Time{}, sharelink.ErrUnknown
	} else if err != nil {
		return nil, time.Time{}, err
	}
	p := row.Packet
	now := s.clock()
	live := row.LinkRevokedAt == nil && now.Before(row.LinkExpiresAt)
	if state := p.State(now); !live || state != "active" {
		reason := Expired
		if state == "revoked" || (state == "active" && row.LinkRevokedAt != nil) {
			state, reason = "revoked", Withdrawn
		} else {
			state = "expired"
		}
		if err := s.logAccess(ctx, from, &p, file, "refused: "+state); err != nil {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, s.unavailable(ctx, &p, reason, file)
	}
	return &p, earliest(p.ExpiresAt, row.LinkExpiresAt), nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// liveLinks keeps the packet links that downloads went through, by token
// hash, so that the next download of the same link reads nothing: a link
// names its packet for good, and of what open reads only the revocations
// can change. Those the committer checks again, under the packet's row
// lock, in the transaction that logs the download, before any byte is
// sent: so a link revoked (here or on another instance) is refused on its
// very next download all the same, and its entry dropped. Expiry is
// checked against the clock on each use. Any refusal (an NDA still owed
// included) resolves the link afresh, so that it is logged and answered
// as an uncached one. (The audit head cannot be the key here: every
// download appends an audit event, so it moves with every batch.)
type liveLinks struct {
	mu    sync.Mutex
	links map[string]liveLink
}

type liveLink struct {
	packet Packet
	until  time.Time
}

// maxLiveLinks bounds the memory the cache takes; when full, it starts
// again.
const maxLiveLinks = 4096

// get returns a copy of the packet of the link, if kept and open at now.
func (l *liveLinks) get(hash string, now time.Time) (*Packet, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.links[hash]
	if !ok {
		return nil, false
	}
	if !now.Before(e.until) {
		delete(l.links, hash)
		return nil, false
	}
	p := e.packet
	return &p, true
}

func (l *liveLinks) put(hash string, p *Packet, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.links == nil || len(l.links) >= maxLiveLinks {
		l.links = map[string]liveLink{}
	}
	l.links[hash] = liveLink{packet: *p, until: until}
}

func (l *liveLinks) drop(hash string) {
	l.mu.Lock()
	delete(l.links, hash)
	l.mu.Unlock()
}

// logAccess records a view or a refusal and its audit event, durably,
// before the response.
func (s *Service) logAccess(ctx context.Context, from audit.Actor, p *Packet, file, outcome string) error {
	return s.commits.record(ctx, &accessJob{from: from, packet: p, file: file, outcome: outcome})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Open returns the landing page of a packet link and logs the view.
func (s *Service) Open(ctx context.Context, from audit.Actor, token string) (*View, error) {
	p, err := s.open(ctx, from, token, "page")
	if err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	v := &View{Packet: *p}
	if err := db.Where("packet_id = ?", p.ID).Order("position").Find(&v.Policies).Error; err != nil {
		return nil, err
	}
	if err := db.Where("packet_id = ?", p.ID).Order("position").Find(&v.Documents).Error; err != nil {
		return nil, err
	}
	if err := db.Where("packet_id = ?", p.ID).Order("name").Find(&v.Files).Error; err != nil {
		return nil, err
	}
	if v.NDA, err = s.ndaOwed(db, p); err != nil {
		return nil, err
	}
	if v.Company, err = s.company(ctx); err != nil {
		return nil, err
	}
	return v, s.logAccess(ctx, from, p, "page", "viewed")
}

// ndaOwed returns the NDA in force when the recipient has not accepted it
// on a packet link yet, else nil.
func (s *Service) ndaOwed(db *gorm.DB, p *Packet) (*NDAVersion, error) {
	nda, err := s.ndaInForce(db)
	if err != nil {
		return nil, err
	}
	// An acceptance is never withdrawn, so one seen is remembered; a new
	// NDA version has another key.
	key := p.RecipientEmail + "\x00" + strconv.FormatInt(nda.ID, 10)
	if s.accepted.has(key) {
		return nil, nil
	}
	var n int64
	err = db.Model(&NDAAcceptance{}).Where("email = ? AND nda_version_id = ? AND packet_id IS NOT NULL", p.RecipientEmail, nda.ID).Count(&n).Error
	if err != nil {
		return nil, err
	}
	if n > 0 {
		s.accepted.add(key)
		return nil, nil
	}
	return nda, nil
}

// ndaInForce is the current NDA, read at most once a second: downloads
// ask for it every time, and a new version is rare. Publishing one here
// takes effect at once; on other instances within the second.
func (s *Service) ndaInForce(db *gorm.DB) (*NDAVersion, error) {
	s.nda.mu.Lock()
	v, fresh := s.nda.version, time.Since(s.nda.read) < time.Second
	s.nda.mu.Unlock()
	if v != nil && fresh {
		return v, nil
	}
	v, err := currentNDA(db)
	if err != nil {
		return nil, err
	}
	s.nda.mu.Lock()
	s.nda.version, s.nda.read = v, time.Now()
	s.nda.mu.Unlock()
	return v, nil
}

// AcceptNDA records the recipient's acceptance of the NDA in force, on
// the packet's link.
func (s *Service) AcceptNDA(ctx context.Context, from audit.Actor, token string, version int, agreed bool) error {
	p, err := s.open(ctx, from, token, "nda")
	if err != nil {
		return err
	}
	if !agreed {
		return apperr.Field("accept_nda", "must be accepted: tick the box")
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		nda, err := currentNDA(tx)
		if err != nil {
			return err
		}
		if nda.Version != version {
			return apperr.Field("accept_nda", "was changed while you were reading; please read it again")
		}
		now := s.clock()
		acc := NDAAcceptance{Email: p.RecipientEmail, NDAVersionID: nda.ID, SHA256: nda.SHA256, AcceptedAt: now, IP: from.IP, UserAgent: truncate(from.UserAgent, 500)}
		if err := tx.Create(&acc).Error; err != nil {
			return err
		}
		if err := tx.Model(&acc).Update("packet_id", p.ID).Error; err != nil {
			return err
		}
		by := from
		by.Label = "recipient:" + p.RecipientEmail
		return audit.Append(tx, by, audit.Entry{At: now, Action: "nda.accepted", ObjectType: "packet", ObjectID: p.PublicID,
			After: map[string]any{"nda_version": nda.Version, "sha256": nda.SHA256, "email": p.RecipientEmail}})
	})
}

// Download returns one file of a packet. Each download counts against
// that file's limit, exactly: the count moves inside the group commit's
// transaction, under the packet's row lock. A link that was open is kept
// (liveLinks), so that its next downloads read nothing before that
// transaction. Errors: ErrNDANeeded, and an *Unavailable for a dead link
// or a file at its limit.
func (s *Service) Download(ctx context.Context, from audit.Actor, token, name string) ([]byte, *Packet, error) {
	db := s.db.WithContext(ctx)
	links := &s.commits.links
	var hash string
	var p *Packet
	if sharelink.WellFormed(token) {
		hash = sharelink.Hash(token)
		if kept, ok := links.get(hash, s.clock()); ok {
			owed, err := s.ndaOwed(db, kept)
			if err != nil {
				return nil, nil, err
			}
			if owed == nil {
				p = kept
			}
			// Else the link is resolved afresh below, so that the refusal
			// (or a revocation's) is logged and answered as for any link.
		}
	}
	if p == nil {
		opened, until, err := s.openUntil(ctx, from, token, name)
		if err != nil {
			return nil, nil, err
		}
		nda, err := s.ndaOwed(db, opened)
		if err != nil {
			return nil, nil, err
		}
		if nda != nil {
			links.drop(hash)
			return nil, nil, s.refuse(ctx, from, opened, name, "refused: NDA not accepted", ErrNDANeeded)
		}
		p = opened
		links.put(hash, p, until)
	}
	data, err := s.file(ctx, p, name)
	if err != nil {
		return nil, nil, err
	}
	// The count, the access log and the audit event commit together, in
	// a transaction shared with concurrent downloads. The committer reads
	// the packet's revocation and expiry again, under its row lock.
	j := &accessJob{from: from, packet: p, file: name, download: true}
	if err := s.commits.record(ctx, j); err != nil {
		return nil, nil, err
	}
	switch {
	case errors.Is(j.refusal, ErrFileLimit):
		return nil, nil, s.unavailable(ctx, p, FileLimit, name)
	case j.outcome == outcomeRevoked:
		links.drop(hash)
		return nil, nil, s.unavailable(ctx, p, Withdrawn, name)
	case j.refusal != nil:
		links.drop(hash)
		return nil, nil, s.unavailable(ctx, p, Expired, name)
	}
	return data, p, nil
}

func (s *Service) refuse(ctx context.Context, from audit.Actor, p *Packet, file, outcome string, err error) error {
	if lerr := s.logAccess(ctx, from, p, file, outcome); lerr != nil {
		return lerr
	}
	return err
}

// file returns a packet file from the cache, or renders it again: the
// same packet always renders to the same bytes, which is checked against
// the manifest before they are cached or served. A packet's files never
// change, so a cached file needs no query.
func (s *Service) file(ctx context.Context, p *Packet, name string) ([]byte, error) {
	key := p.ManifestSHA256 + "/" + name
	if b, ok := s.rendered.get(key); ok {
		return b, nil
	}
	var f File
	if err := s.db.WithContext(ctx).Where("packet_id = ? AND name = ?", p.ID, name).Take(&f).Error; isNotFound(err) {
		return nil, notFound("file in this packet")
	} else if err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "documents/") {
		return s.stampedDocument(p, f)
	}
	if err := s.loadManifest(ctx, p); err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal([]byte(p.Manifest), &m); err != nil {
		return nil, err
	}
	doc := documentOf(p, m.Company, nil)
	// The manifest does not carry the version IDs (they are internal); the
	// frozen rows do. Without them the bodies came back empty and every
	// re-render after a restart failed its check.
	var frozen []PacketPolicy
	if err := s.db.WithContext(ctx).Where("packet_id = ?", p.ID).Order("position").Find(&frozen).Error; err != nil {
		return nil, err
	}
	if len(frozen) != len(m.Policies) {
		return nil, fmt.Errorf("packet %s: %d frozen policies, %d in the manifest", p.PublicID, len(frozen), len(m.Policies))
	}
	var ids []int64
	for i := range frozen {
		m.Policies[i].PolicyVersionID = frozen[i].PolicyVersionID
		ids = append(ids, frozen[i].PolicyVersionID)
	}
	bodies := map[int64]string{}
	var rows []struct {
		ID   int64
		Body string
	}
	if err := s.db.WithContext(ctx).Table("policy_versions").Select("id, body").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		bodies[r.ID] = r.Body
	}
	for _, pol := range m.Policies {
		dp := DocumentPolicy{Slug: pol.Slug, Title: pol.Title, Version: pol.Version, EffectiveOn: pol.EffectiveOn, SHA256: pol.SHA256, Body: bodies[pol.PolicyVersionID]}
		if name == PacketFileName || name == policyFileName(pol.Slug) {
			doc.Policies = append(doc.Policies, dp)
		}
	}
	if len(doc.Policies) == 0 {
		return nil, notFound("file in this packet")
	}
	b, err := RenderPDF(doc)
	if err != nil {
		return nil, err
	}
	if sha(b) != f.SHA256 {
		return nil, fmt.Errorf("packet %s: %s no longer renders to the manifest's SHA-256", p.PublicID, name)
	}
	s.rendered.put(key, b)
	return b, nil
}

// stampedDocument reads a document's stamped copy, made at approval, from
// the file store, and checks it against the manifest's SHA-256. It is not
// kept in the cache of rendered files: a report can weigh 25 MB, and
// reading it back costs no rendering.
func (s *Service) stampedDocument(p *Packet, f File) ([]byte, error) {
	r, err := s.files.Open(f.SHA256)
	if err != nil {
		return nil, fmt.Errorf("packet %s: %s: %w", p.PublicID, f.Name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if sha(b) != f.SHA256 {
		return nil, fmt.Errorf("packet %s: the stored %s does not match the manifest's SHA-256", p.PublicID, f.Name)
	}
	return b, nil
}

// loadManifest reads the packet's manifest and signature.
func (s *Service) loadManifest(ctx context.Context, p *Packet) error {
	return s.db.WithContext(ctx).Model(&Packet{}).Select("manifest", "signature").Where("id = ?", p.ID).Take(p).Error
}

// Names of the manifest and its detached signature in a packet link.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
)

// ManifestFile returns manifest.json for a packet link: the manifest's
// bytes exactly as signed (manifest.sig), never re-encoded. Viewing it is
// logged but not counted as a download.
func (s *Service) ManifestFile(ctx context.Context, from audit.Actor, token string) ([]byte, error) {
	p, err := s.open(ctx, from, token, ManifestName)
	if err != nil {
		return nil, err
	}
	if err := s.loadManifest(ctx, p); err != nil {
		return nil, err
	}
	return []byte(p.Manifest), s.logAccess(ctx, from, p, ManifestName, "viewed")
}

// ManifestSignature returns manifest.sig for a packet link: the raw
// 64-byte Ed25519 signature of manifest.json's bytes, the form `openssl
// pkeyutl -verify -rawin -sigfile` reads. Logged like manifest.json.
func (s *Service) ManifestSignature(ctx context.Context, from audit.Actor, token string) ([]byte, error) {
	p, err := s.open(ctx, from, token, SignatureName)
	if err != nil {
		return nil, err
	}
	if err := s.loadManifest(ctx, p); err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(p.Signature)
	if err != nil {
		return nil, fmt.Errorf("packet %s: the stored signature is not base64: %w", p.PublicID, err)
	}
	return sig, s.logAccess(ctx, from, p, SignatureName, "viewed")
}

// Packets returns packets, newest first.
func (s *Service) Packets(ctx context.Context, limit int) ([]Packet, error) {
	var out []Packet
	return out, s.db.WithContext(ctx).Order("issued_at DESC, id DESC").Limit(limit).Find(&out).Error
}

// PacketDetail is a packet with its contents and access log.
type PacketDetail struct {
	Packet    Packet
	Policies  []PacketPolicy
	Documents []PacketDocument
	Files     []File
	Accesses  []Access
}

// PacketByID returns a packet by its public ID.
func (s *Service) PacketByID(ctx context.Context, publicID string) (*PacketDetail, error) {
	db := s.db.WithContext(ctx)
	d := &PacketDetail{}
	if err := db.Where("public_id = ?", publicID).Take(&d.Packet).Error; isNotFound(err) {
		return nil, notFound("packet")
	} else if err != nil {
		return nil, err
	}
	id := d.Packet.ID
	if err := db.Where("packet_id = ?", id).Order("position").Find(&d.Policies).Error; err != nil {
		return nil, err
	}
	if err := db.Where("packet_id = ?", id).Order("position").Find(&d.Documents).Error; err != nil {
		return nil, err
	}
	if err := db.Where("packet_id = ?", id).Order("name").Find(&d.Files).Error; err != nil {
		return nil, err
	}
	return d, db.Where("packet_id = ?", id).Order("at DESC, id DESC").Limit(500).Find(&d.Accesses).Error
}

// Verification says whether the company issued a file.
type Verification struct {
	Issued    bool
	PacketID  string
	File      string
	Recipient string
	Company   string
	IssuedAt  time.Time
	SHA256    string
	// Document names the trust document a stamped copy is of ("" for a
	// policy PDF).
	Document string
}

// VerifyFile looks a file's SHA-256 up among every packet's files.
func (s *Service) VerifyFile(ctx context.Context, data []byte) (*Verification, error) {
	return s.VerifyHash(ctx, "", sha(data))
}

// VerifyHash checks a SHA-256, optionally within one packet.
func (s *Service) VerifyHash(ctx context.Context, packetID, sum string) (*Verification, error) {
	if len(sum) != 64 {
		return nil, apperr.Field("sha256", "must be 64 hexadecimal characters")
	}
	var row struct {
		ID               int64
		PublicID         string
		Name             string
		RecipientName    string
		RecipientEmail   string
		RecipientCompany string
		IssuedAt         time.Time
	}
	q := s.db.WithContext(ctx).Table("packet_files").Select("packets.id, packets.public_id, packet_files.name, packets.recipient_name, packets.recipient_email, packets.recipient_company, packets.issued_at").
		Joins("JOIN packets ON packets.id = packet_files.packet_id").Where("packet_files.sha256 = ?", sum).Order("packets.issued_at")
	if packetID != "" {
		q = q.Where("packets.public_id = ?", packetID)
	}
	err := q.Take(&row).Error
	if isNotFound(err) {
		return &Verification{SHA256: sum}, nil
	} else if err != nil {
		return nil, err
	}
	v := &Verification{Issued: true, PacketID: row.PublicID, File: row.Name, Recipient: row.RecipientName + " <" + row.RecipientEmail + ">",
		Company: row.RecipientCompany, IssuedAt: row.IssuedAt, SHA256: sum}
	var doc PacketDocument
	err = s.db.WithContext(ctx).Where("packet_id = ? AND file_name = ?", row.ID, row.Name).Take(&doc).Error
	if err == nil {
		v.Document = doc.Title + ", version " + doc.Version
	} else if !isNotFound(err) {
		return nil, err
	}
	return v, nil
}

// PendingCount is the length of the team's queue.
func (s *Service) PendingCount(ctx context.Context) (int64, error) {
	var n int64
	return n, s.db.WithContext(ctx).Model(&Request{}).Where("status = ?", Pending).Count(&n).Error
}
