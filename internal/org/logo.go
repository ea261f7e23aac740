package org

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decodes uploaded JPEG logos
	_ "image/png"  // decodes uploaded PNG logos
	"io"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Logo is the kind of the company's logo: a PNG or JPEG up to 1 MB. SVG
// is not accepted: it can carry scripts, and the logo is shown on every
// public page.
var Logo = files.Kind{Name: "logo", MaxBytes: 1 << 20, Types: map[string][]string{
	"image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg"},
}}

// maxLogoSide bounds the logo's width and height in pixels.
const maxLogoSide = 4096

// SetLogo stores the company's logo and shows it on the public pages.
// Errors: ErrNoProfile; Invalid naming "file" for a file that is empty,
// too large, not a PNG or JPEG, whose name does not match its content, or
// that does not decode as an image of at most 4096×4096 pixels.
func (s *Service) SetLogo(ctx context.Context, by audit.Actor, fs *files.Store, name string, r io.Reader) (*Organization, error) {
	var buf bytes.Buffer
	f, err := fs.Put(Logo, name, io.TeeReader(r, &limitedWriter{w: &buf, n: Logo.MaxBytes}))
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, apperr.Field("file", "is not a readable "+f.ContentType+" image")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
		return nil, apperr.Field("file", fmt.Sprintf("must be at most %d×%d pixels", maxLogoSide, maxLogoSide))
	}
	var o Organization
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.ForUpdate(tx).Order("id").Take(&o).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoProfile
		} else if err != nil {
			return err
		}
		before := map[string]any{"sha256": o.LogoSHA256, "type": o.LogoType}
		o.LogoSHA256, o.LogoType = f.SHA256, f.ContentType
		o.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
		if err := tx.Model(&o).Updates(map[string]any{"logo_sha256": o.LogoSHA256, "logo_type": o.LogoType, "updated_at": o.UpdatedAt}).Error; err != nil {
			return err
		}
		return audit.Append(tx, by, audit.Entry{At: o.UpdatedAt, Action: "organization.logo_set", ObjectType: "organization",
			ObjectID: fmt.Sprint(o.ID), Before: before,
			After: map[string]any{"sha256": f.SHA256, "type": f.ContentType, "size": f.Size, "name": f.Name, "width": cfg.Width, "height": cfg.Height}})
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// limitedWriter keeps at most n bytes of what is written to it (the store
// refuses anything larger).
type limitedWriter struct {
	w *bytes.Buffer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n + 1 - int64(l.w.Len()); room > 0 {
		l.w.Write(p[:min(int64(len(p)), room)])
	}
	return len(p), nil
}
