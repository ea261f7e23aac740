// Package documenttest makes the PDFs that tests upload as trust
// documents.
package documenttest

import (
	"bytes"
	"fmt"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

// PDF returns a PDF of the given number of pages; each page says
// "<title>, page N", so a test can tell the pages apart in pdftotext's
// output.
func PDF(t testing.TB, title string, pages int) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetFont("Helvetica", "", 14)
	for i := 1; i <= pages; i++ {
		p.AddPage()
		p.Cell(40, 10, fmt.Sprintf("%s, page %d", title, i))
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
