package document

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/check"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"gorm.io/gorm"
)

// Settings are what the register needs from the configuration.
type Settings struct {
	// BaseURL prefixes the links in the owners' reminders.
	BaseURL string
	// Mail renders the reminders; NewService parses its own when nil.
	Mail *notify.Templates
}

// Service keeps the register.
type Service struct {
	db       *gorm.DB
	now      func() time.Time
	files    *files.Store
	settings Settings
	check    *check.Validator
	pdf      *pdfTool
	// newVersion runs in the transaction of each new version (OnNewVersion).
	newVersion []func(tx *gorm.DB, d *Document, v *Version) error
}

// NewService returns the register on db, keeping files in store.
func NewService(db *gorm.DB, now func() time.Time, store *files.Store, settings Settings) *Service {
	if settings.Mail == nil {
		settings.Mail = notify.MustTemplates()
	}
	return &Service{db: db, now: now, files: store, settings: settings, check: check.New(), pdf: newPDFTool()}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Today is the current UTC calendar date, the day validity is judged on.
func (s *Service) Today() time.Time { return s.now().UTC().Truncate(24 * time.Hour) }

// Upload is a file as received.
type Upload struct {
	Name string
	Body io.Reader
}

// state is what the audit trail records of a document.
func state(d *Document) map[string]any {
	return map[string]any{"slug": d.Slug, "title": d.Title, "kind": d.Kind, "access": d.Access, "description": d.Description,
		"owner_email": d.OwnerEmail, "auto_approve": d.AutoApprove}
}

func versionState(v *Version) map[string]any {
	m := map[string]any{"version": v.Version, "issued_on": v.IssuedOn.Format(time.DateOnly), "sha256": v.SHA256,
		"file_name": v.FileName, "size": v.Size, "pages": v.Pages}
	if v.ValidUntil != nil {
		m["valid_until"] = v.ValidUntil.Format(time.DateOnly)
	}
	return m
}

// store checks an upload (a readable, unencrypted PDF within the size
// limit) and keeps it; the returned version has the file's details.
func (s *Service) store(up Upload) (*files.File, int, error) {
	if up.Body == nil {
		return nil, 0, apperr.Field("file", "is required: a PDF")
	}
	body, err := io.ReadAll(io.LimitReader(up.Body, files.TrustDocument.MaxBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(body)) > files.TrustDocument.MaxBytes {
		return nil, 0, apperr.Field("file", fmt.Sprintf("is larger than %d MB", files.TrustDocument.MaxBytes>>20))
	}
	pages, err := s.pdf.pages(body)
	if err != nil && len(body) > 0 && bytes.HasPrefix(body, []byte("%PDF-")) {
		return nil, 0, err
	}
	f, putErr := s.files.Put(files.TrustDocument, up.Name, bytes.NewReader(body))
	if putErr != nil {
		return nil, 0, putErr
	}
	if err != nil {
		return nil, 0, err
	}
	return f, pages, nil
}

// Create adds a document with its first version. Errors: Invalid (naming
// the field), ErrSlugTaken.
func (s *Service) Create(ctx context.Context, by audit.Actor, in Input, vin VersionInput, up Upload) (*Document, error) {
	d, err := in.parse(s.check)
	ver, verr := vin.parse(s.check)
	if err = joinInvalid(err, verr); err != nil {
		return nil, err
	}
	f, pages, err := s.store(up)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	d.CreatedAt, d.UpdatedAt = now, now
	ver.SHA256, ver.FileName, ver.Size, ver.Pages, ver.UploadedAt, ver.UploadedBy = f.SHA256, f.Name, f.Size, pages, now, by.Label
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&d).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrSlugTaken
			}
			return err
		}
		ver.DocumentID = d.ID
		if err := tx.Create(&ver).Error; err != nil {
			return err
		}
		d.CurrentVersionID, d.Current = &ver.ID, &ver
		if err := tx.Model(&d).Update("current_version_id", ver.ID).Error; err != nil {
			return err
		}
		after := state(&d)
		after["version"] = versionState(&ver)
		return audit.Append(tx, by, audit.Entry{At: now, Action: "document.created", ObjectType: "document", ObjectID: d.Slug, After: after})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// joinInvalid merges the field errors of two checks into one.
func joinInvalid(errs ...error) error {
	fields := check.Errors{}
	for _, err := range errs {
		if err == nil {
			continue
		}
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != apperr.Invalid {
			return err
		}
		for k, v := range ae.Fields {
			fields.Add(k, v)
		}
	}
	return fields.Err()
}

// Update changes a document's description and access level; its files
// stay. Errors: Invalid, ErrNotFound, ErrSlugTaken.
func (s *Service) Update(ctx context.Context, by audit.Actor, slug string, in Input) (*Document, error) {
	next, err := in.parse(s.check)
	if err != nil {
		return nil, err
	}
	var d Document
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := bySlug(tx, slug)
		if err != nil {
			return err
		}
		before := state(cur)
		d = *cur
		d.Slug, d.Title, d.Kind, d.Access, d.Description, d.OwnerEmail, d.AutoApprove =
			next.Slug, next.Title, next.Kind, next.Access, next.Description, next.OwnerEmail, next.AutoApprove
		after := state(&d)
		if fmt.Sprint(before) == fmt.Sprint(after) {
			return nil
		}
		d.UpdatedAt = s.clock()
		err = tx.Model(&Document{ID: d.ID}).Updates(map[string]any{"slug": d.Slug, "title": d.Title, "kind": d.Kind, "access": d.Access,
			"description": d.Description, "owner_email": d.OwnerEmail, "auto_approve": d.AutoApprove, "updated_at": d.UpdatedAt}).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return ErrSlugTaken
		} else if err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: d.UpdatedAt, Action: "document.updated", ObjectType: "document", ObjectID: d.Slug,
			Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// AddVersion uploads a new version, which becomes the one in force.
// Errors: Invalid, ErrNotFound, ErrVersionUsed.
func (s *Service) AddVersion(ctx context.Context, by audit.Actor, slug string, vin VersionInput, up Upload) (*Version, error) {
	ver, err := vin.parse(s.check)
	if err != nil {
		return nil, err
	}
	if _, err := bySlug(s.db.WithContext(ctx), slug); err != nil {
		return nil, err
	}
	f, pages, err := s.store(up)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	ver.SHA256, ver.FileName, ver.Size, ver.Pages, ver.UploadedAt, ver.UploadedBy = f.SHA256, f.Name, f.Size, pages, now, by.Label
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		d, err := bySlug(tx, slug)
		if err != nil {
			return err
		}
		ver.DocumentID = d.ID
		if err := tx.Create(&ver).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrVersionUsed
			}
			return err
		}
		if err := tx.Model(&Document{ID: d.ID}).Updates(map[string]any{"current_version_id": ver.ID, "updated_at": now}).Error; err != nil {
			return err
		}
		for _, fn := range s.newVersion {
			if err := fn(tx, d, &ver); err != nil {
				return err
			}
		}
		return audit.Append(tx, by, audit.Entry{At: now, Action: "document.version_added", ObjectType: "document", ObjectID: d.Slug,
			After: versionState(&ver)})
	})
	if err != nil {
		return nil, err
	}
	return &ver, nil
}

func bySlug(tx *gorm.DB, slug string) (*Document, error) {
	var d Document
	err := tx.Where("slug = ?", slug).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &d, withCurrent(tx, []*Document{&d})
}

// withCurrent loads each document's version in force.
func withCurrent(tx *gorm.DB, docs []*Document) error {
	var ids []int64
	for _, d := range docs {
		if d.CurrentVersionID != nil {
			ids = append(ids, *d.CurrentVersionID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var vs []Version
	if err := tx.Where("id IN ?", ids).Find(&vs).Error; err != nil {
		return err
	}
	byID := map[int64]*Version{}
	for i := range vs {
		byID[vs[i].ID] = &vs[i]
	}
	for _, d := range docs {
		if d.CurrentVersionID != nil {
			d.Current = byID[*d.CurrentVersionID]
		}
	}
	return nil
}

// List returns every document with its version in force, in the order
// /trust shows them: by kind, then title.
func (s *Service) List(ctx context.Context) ([]Document, error) {
	var docs []Document
	if err := s.db.WithContext(ctx).Order("title, id").Find(&docs).Error; err != nil {
		return nil, err
	}
	ptrs := make([]*Document, len(docs))
	for i := range docs {
		ptrs[i] = &docs[i]
	}
	if err := withCurrent(s.db.WithContext(ctx), ptrs); err != nil {
		return nil, err
	}
	order := map[Kind]int{}
	for i, l := range KindLabels() {
		order[l.Kind] = i
	}
	slices.SortStableFunc(docs, func(a, b Document) int { return order[a.Kind] - order[b.Kind] })
	return docs, nil
}

// Get returns a document with its version in force, and every version,
// newest first. Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, slug string) (*Document, []Version, error) {
	db := s.db.WithContext(ctx)
	d, err := bySlug(db, slug)
	if err != nil {
		return nil, nil, err
	}
	var vs []Version
	if err := db.Where("document_id = ?", d.ID).Order("uploaded_at DESC, id DESC").Find(&vs).Error; err != nil {
		return nil, nil, err
	}
	return d, vs, nil
}

// Shared returns the documents outsiders may have today (public and on
// request, with a version in force), in the order of List.
func (s *Service) Shared(ctx context.Context) ([]Document, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	var out []Document
	for _, d := range all {
		if d.Available(today) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Requestables returns the documents that may be requested today (on
// request, with a version in force), in the order of List: what the
// packet request form offers.
func (s *Service) Requestables(ctx context.Context) ([]Document, error) {
	shared, err := s.Shared(ctx)
	if err != nil {
		return nil, err
	}
	var out []Document
	for _, d := range shared {
		if d.Access == OnRequest {
			out = append(out, d)
		}
	}
	return out, nil
}

// PublicDocument returns a public document with a version in force.
// Errors: ErrNotFound for any other (an internal or lapsed document is not
// admitted to exist).
func (s *Service) PublicDocument(ctx context.Context, slug string) (*Document, error) {
	d, err := bySlug(s.db.WithContext(ctx), slug)
	if err != nil {
		return nil, err
	}
	if d.Access != Public || !d.Available(s.Today()) {
		return nil, ErrNotFound
	}
	return d, nil
}

// Version returns one version of a document. Errors: ErrNotFound.
func (s *Service) Version(ctx context.Context, slug string, versionID int64) (*Version, error) {
	d, err := bySlug(s.db.WithContext(ctx), slug)
	if err != nil {
		return nil, err
	}
	var v Version
	err = s.db.WithContext(ctx).Where("id = ? AND document_id = ?", versionID, d.ID).Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.New(apperr.NotFound, "no such version")
	}
	return &v, err
}

// Requestable returns the documents named by slugs if each may be
// requested today (on request, in force), in the order given. Errors:
// Invalid naming field for an unknown, internal, public or lapsed one.
func (s *Service) Requestable(ctx context.Context, field string, slugs []string) ([]Document, error) {
	if len(slugs) == 0 {
		return nil, nil
	}
	var docs []Document
	if err := s.db.WithContext(ctx).Where("slug IN ?", slugs).Find(&docs).Error; err != nil {
		return nil, err
	}
	ptrs := make([]*Document, len(docs))
	for i := range docs {
		ptrs[i] = &docs[i]
	}
	if err := withCurrent(s.db.WithContext(ctx), ptrs); err != nil {
		return nil, err
	}
	today := s.Today()
	out := make([]Document, 0, len(slugs))
	var unknown []string
	for _, slug := range slugs {
		i := slices.IndexFunc(docs, func(d Document) bool { return d.Slug == slug })
		if i < 0 || docs[i].Access != OnRequest || !docs[i].Available(today) {
			unknown = append(unknown, slug)
			continue
		}
		out = append(out, docs[i])
	}
	if len(unknown) > 0 {
		return nil, apperr.Field(field, "cannot be requested: "+strings.Join(unknown, ", "))
	}
	return out, nil
}
