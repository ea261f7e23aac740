package packet

import (
	"bytes"
	"fmt"
	"sync"
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

// markdownFont is one embedded font with the identifier fpdf derives for
// it, which names it in every page's content.
type markdownFont struct {
	family, style string
	data          []byte
	id            string
}

// markdownFonts reads the embedded fonts and computes their identifiers
// once per process. fpdf derives an identifier by JSON-encoding and
// hashing the font's 65,536 glyph widths, which cost a large part of every
// render (issue 22, item 3); the identifier depends only on the family,
// style and bytes, all fixed at build time, so it is the same in every
// document. This is package-level only because NewMarkdownPDF, which
// privacy's countersigned DPA also calls, is a plain function; it is built
// once and only read afterwards (documents get copies of the bytes).
var markdownFonts = sync.OnceValues(func() ([]markdownFont, error) {
	fonts := []markdownFont{
		{family: "sans", style: ""}, {family: "sans", style: "B"}, {family: "sans", style: "I"},
		{family: "sans", style: "BI"}, {family: "mono", style: ""},
	}
	files := []string{"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSansMono.ttf"}
	// The identifiers come from fpdf itself, computed as any document
	// would, so a document with them given is the same byte for byte. The
	// probe gets its own copy of the bytes: fpdf writes into them when it
	// subsets a font, so data here is never handed to fpdf itself.
	probe := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: pageW, Ht: pageH}})
	for i := range fonts {
		b, err := fontFiles.ReadFile("fonts/" + files[i])
		if err != nil {
			return nil, err
		}
		fonts[i].data = b
		probe.AddUTF8FontFromBytes(fonts[i].family, fonts[i].style, bytes.Clone(b))
		if err := probe.Error(); err != nil {
			return nil, err
		}
		fonts[i].id = probe.FontID(fonts[i].family, fonts[i].style)
		if fonts[i].id == "" {
			return nil, fmt.Errorf("packet: no font identifier for %s", files[i])
		}
	}
	return fonts, nil
})

// NewMarkdownPDF returns an empty A4 document with the embedded fonts
// ("sans" in four styles, "mono"), the packets' margins, and its dates
// fixed at created so that the same content gives the same bytes.
func NewMarkdownPDF(created time.Time, title, author string) (*fpdf.Fpdf, error) {
	fonts, err := markdownFonts()
	if err != nil {
		return nil, err
	}
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: pageW, Ht: pageH}})
	for _, f := range fonts {
		// A copy each time: fpdf writes into a font's bytes while it
		// subsets it, and documents may render concurrently.
		pdf.AddUTF8FontFromBytesWithID(f.family, f.style, bytes.Clone(f.data), f.id)
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
