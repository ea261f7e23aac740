package fpdf

import (
	"bytes"
	"testing"
	"time"
)

// A document whose first page carries, at one place, a right-aligned cell
// and a link written later through a reservation must be byte for byte
// the document in which they were written in place: that is the promise
// Charter's packets rely on (their golden hashes come from two passes).
func TestFillReservedGivesTheBytesOfWritingInPlace(t *testing.T) {
	cases := []struct {
		name string
		// reservations per page 1 place, filled in this order
		order []int
	}{
		{"one reservation", []int{0}},
		{"two, filled in order", []int{0, 1}},
		{"two, filled in reverse", []int{1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			texts := []string{"12", "345"}
			write := func(pdf *Fpdf, i int) {
				pdf.SetFont("Helvetica", "B", 11)
				pdf.SetTextColor(200, 0, 0)
				pdf.CellFormat(0, 8, texts[i], "", 1, "R", false, 0, "https://example.com/"+texts[i])
			}
			body := func(pdf *Fpdf) {
				pdf.SetFont("Times", "", 12)
				pdf.SetTextColor(0, 0, 0)
				pdf.MultiCell(0, 6, "Text that follows the reserved place, in another font and colour.", "", "L", false)
			}

			inPlace := newDoc()
			for i := range c.order {
				write(inPlace, i)
			}
			body(inPlace)
			inPlace.AddPage()
			body(inPlace)

			reserved := newDoc()
			var rs []*Reservation
			for range c.order {
				rs = append(rs, reserved.Reserve())
				reserved.Ln(8)
			}
			body(reserved)
			reserved.AddPage()
			body(reserved)
			for _, i := range c.order {
				reserved.FillReserved(rs[i], func() { write(reserved, i) })
			}

			want, got := output(t, inPlace), output(t, reserved)
			if !bytes.Equal(got, want) {
				t.Fatalf("the reserved document differs from the one written in place (%d and %d bytes)", len(got), len(want))
			}
		})
	}
}

func TestFillReservedRefusesMisuse(t *testing.T) {
	pdf := newDoc()
	r := pdf.Reserve()
	pdf.FillReserved(r, func() {})
	pdf.FillReserved(r, func() {})
	if !pdf.Err() {
		t.Fatal("a reservation filled twice was accepted")
	}
	pdf = newDoc()
	r = pdf.Reserve()
	pdf.FillReserved(r, func() { pdf.AddPage() })
	if !pdf.Err() {
		t.Fatal("a page added while filling a reservation was accepted")
	}
}

func newDoc() *Fpdf {
	pdf := New("P", "mm", "A4", "")
	pdf.SetCreationDate(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	pdf.SetCatalogSort(true)
	pdf.AddPage()
	return pdf
}

func output(t *testing.T, pdf *Fpdf) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
