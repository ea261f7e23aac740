package packet

import (
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Other documents the company issues as PDFs (the countersigned standard
// DPA) use the packets' page, fonts and Markdown layout, so that every
// PDF Charter makes reads alike and renders the same bytes everywhere.

// PageWidth, PageMargin and BodyWidth are the A4 layout (millimetres)
// that WriteMarkdown writes into.
const (
	PageWidth  = pageW
	PageMargin = margin
	BodyWidth  = bodyW
)

// NewMarkdownPDF returns an empty A4 document with the embedded fonts
// ("sans" in four styles, "mono"), the packets' margins, and its dates
// fixed at created so that the same content gives the same bytes.
func NewMarkdownPDF(created time.Time, title, author string) (*fpdf.Fpdf, error) {
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: pageW, Ht: pageH}})
	for _, f := range []struct{ family, style, file string }{
		{"sans", "", "DejaVuSans.ttf"}, {"sans", "B", "DejaVuSans-Bold.ttf"}, {"sans", "I", "DejaVuSans-Oblique.ttf"},
		{"sans", "BI", "DejaVuSans-BoldOblique.ttf"}, {"mono", "", "DejaVuSansMono.ttf"},
	} {
		b, err := fontFiles.ReadFile("fonts/" + f.file)
		if err != nil {
			return nil, err
		}
		pdf.AddUTF8FontFromBytes(f.family, f.style, b)
	}
	created = created.UTC()
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetTitle(title, true)
	pdf.SetAuthor(author, true)
	pdf.SetCreator("Charter", true)
	pdf.SetProducer("Charter", true)
	pdf.SetMargins(margin, 22, margin)
	pdf.SetAutoPageBreak(true, 22)
	pdf.AliasNbPages("{nb}")
	return pdf, pdf.Error()
}

// WriteMarkdown writes body at the current position of pdf (a document
// from NewMarkdownPDF) as packets write a policy: headings, paragraphs
// with emphasis, code and links, lists, quotes and tables; raw HTML is
// left out.
func WriteMarkdown(pdf *fpdf.Fpdf, body string) {
	w := &writer{pdf: pdf, md: goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))}
	src := []byte(body)
	doc := w.md.Parser().Parse(text.NewReader(src))
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		w.block(n, src)
	}
	pdf.SetLeftMargin(margin)
}
