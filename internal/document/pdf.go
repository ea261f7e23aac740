package document

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// pdfcpu is the library that reads and stamps existing PDFs: it imports
// every page as it is (fonts, images, forms), where fpdf, which renders
// the policies, can only write new documents. It keeps one setting in a
// package variable: unless told otherwise, its first configuration writes
// a config directory under $HOME. pdfcpuConfig turns that off once, before
// any configuration is made, and every call passes its own configuration.
var pdfcpuConfig = sync.OnceValue(func() *model.Configuration {
	api.DisableConfigDir()
	return model.NewDefaultConfiguration()
})

// pdfTool reads and stamps uploaded PDFs.
type pdfTool struct{}

func newPDFTool() *pdfTool { pdfcpuConfig(); return &pdfTool{} }

func (*pdfTool) conf() *model.Configuration {
	c := *pdfcpuConfig()
	c.ValidationMode = model.ValidationRelaxed
	return &c
}

// pages checks that body is a PDF Charter can stamp and counts its pages.
// Errors: Invalid naming "file".
func (t *pdfTool) pages(body []byte) (n int, err error) {
	defer func() {
		// pdfcpu panics on some malformed files; a bad upload is the
		// uploader's problem, never a crash.
		if recover() != nil {
			n, err = 0, apperr.Field("file", "is not a readable PDF")
		}
	}()
	ctx, err := api.ReadValidateAndOptimize(bytes.NewReader(body), t.conf())
	if err != nil {
		if strings.Contains(err.Error(), "encrypt") || strings.Contains(err.Error(), "password") {
			return 0, apperr.Field("file", "is password-protected; upload a PDF without a password")
		}
		return 0, apperr.Field("file", "is not a readable PDF")
	}
	if ctx.Encrypt != nil {
		return 0, apperr.Field("file", "is password-protected; upload a PDF without a password")
	}
	if ctx.PageCount < 1 {
		return 0, apperr.Field("file", "has no pages")
	}
	return ctx.PageCount, nil
}

// Stamp is what every page of a served copy carries.
type Stamp struct {
	// Footer runs along the bottom of every page: who the copy is for.
	Footer string
	// Diagonal is written faintly across every page.
	Diagonal string
}

// stamp returns body with s on every page. The output is not the same
// bytes twice (pdfcpu writes the time into it), so a packet stamps each
// document once, at approval, and keeps the result.
func (t *pdfTool) stamp(body []byte, s Stamp) (out []byte, err error) {
	defer func() {
		if recover() != nil {
			out, err = nil, errors.New("document: the stored PDF could not be stamped")
		}
	}()
	footer, err := api.TextWatermark(latin1(s.Footer), "font:Helvetica, points:8, pos:bc, offset:0 10, scale:1 abs, rot:0, fillcolor:#333333, opacity:1", true, false, types.POINTS)
	if err != nil {
		return nil, err
	}
	diagonal, err := api.TextWatermark(latin1(s.Diagonal), "font:Helvetica, points:30, scale:0.8 rel, diagonal:1, fillcolor:#888888, opacity:0.12", true, false, types.POINTS)
	if err != nil {
		return nil, err
	}
	// One pass per mark: pdfcpu wants the marks of one pass to share
	// their opacity.
	for _, wm := range []*model.Watermark{footer, diagonal} {
		var b bytes.Buffer
		if err := api.AddWatermarks(bytes.NewReader(body), &b, nil, wm, t.conf()); err != nil {
			return nil, err
		}
		body = b.Bytes()
	}
	return body, nil
}

// latin1 keeps the characters Helvetica (WinAnsi) can show; others
// become "?", so that a name in another script still leaves a legible
// stamp whose email address identifies the recipient.
func latin1(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		if r > 0xff && r != '·' && r != '—' && r != '–' {
			return '?'
		}
		return r
	}, s)
}

// StampVersion returns the file of v stamped with s on every page.
func (s *Service) StampVersion(ctx context.Context, v *Version, st Stamp) ([]byte, error) {
	f, err := s.files.Open(v.SHA256)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return s.pdf.stamp(body, st)
}
