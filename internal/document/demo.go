package document

import (
	"bytes"
	"context"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/charter-registry/charter/internal/audit"
)

// DemoDocument is a sample document for the demo data: a PDF drawn here
// that says on every page it is a sample, so that a new user can try the
// public download and the request flow before uploading the real files.
type DemoDocument struct {
	Input    Input
	Version  VersionInput
	Headline string   // the first line of every page
	Body     []string // paragraphs
}

// SeedDemo adds docs to an empty register and reports whether it did; a
// register with any document is left alone.
func (s *Service) SeedDemo(ctx context.Context, by audit.Actor, docs []DemoDocument) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Document{}).Count(&n).Error; err != nil || n > 0 {
		return false, err
	}
	for _, d := range docs {
		pdf, err := samplePDF(d.Input.Title, d.Headline, d.Body, s.clock())
		if err != nil {
			return false, err
		}
		if _, err := s.Create(ctx, by, d.Input, d.Version, Upload{Name: Slugify(d.Input.Title) + ".pdf", Body: bytes.NewReader(pdf)}); err != nil {
			return false, err
		}
	}
	return true, nil
}

// samplePDF draws a two-page PDF marked as a sample on every page. The
// creation date is fixed by the caller's clock, so a seed run is
// reproducible under a fixed clock.
func samplePDF(title, headline string, body []string, at time.Time) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(at)
	pdf.SetTitle(title, true)
	pdf.SetHeaderFunc(func() {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.SetTextColor(160, 40, 40)
		pdf.CellFormat(0, 8, headline, "", 1, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	for page := 1; page <= 2; page++ {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "B", 16)
		pdf.MultiCell(0, 9, title, "", "L", false)
		pdf.Ln(4)
		pdf.SetFont("Helvetica", "", 11)
		for _, p := range body {
			pdf.MultiCell(0, 6, p, "", "L", false)
			pdf.Ln(3)
		}
	}
	var b bytes.Buffer
	err := pdf.Output(&b)
	return b.Bytes(), err
}
