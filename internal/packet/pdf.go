package packet

import (
	"bytes"
	"embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// The DejaVu fonts (free licence, in fonts/LICENSE) cover the characters
// policy texts use; they are embedded so that a packet renders the same
// everywhere.
//
//go:embed fonts/*.ttf
var fontFiles embed.FS

// Document is what a packet PDF shows.
type Document struct {
	Company   string
	PacketID  string
	Recipient Recipient
	IssuedAt  time.Time
	ExpiresAt time.Time
	Policies  []DocumentPolicy
	Answers   []DocumentAnswer // questionnaire answers, a last section
}

// Recipient is who a packet was issued to.
type Recipient struct {
	Name, Email, Company string
}

// DocumentPolicy is one policy version in a packet.
type DocumentPolicy struct {
	Slug        string
	Title       string
	Version     string
	EffectiveOn time.Time
	SHA256      string
	Body        string // Markdown
}

// Watermark is the text across every page.
func (d Document) Watermark() string {
	return fmt.Sprintf("Confidential — %s <%s> — %s — %s", d.Recipient.Name, d.Recipient.Email, d.PacketID, d.IssuedAt.UTC().Format(time.DateOnly))
}

const (
	pageW, pageH = 210.0, 297.0
	margin       = 20.0
	bodyW        = pageW - 2*margin
	lineH        = 5.2
)

// RenderPDF lays the document out once. The contents page's numbers are
// known only once the policies are written, so their cells are reserved
// in place (fpdf's Reserve, a Charter patch) and filled at the end: the
// bytes are those the former two passes gave, and depend only on the
// document.
func RenderPDF(d Document) ([]byte, error) {
	pdf, err := NewMarkdownPDF(d.IssuedAt, "Policy packet "+d.PacketID+" for "+d.Recipient.Name, d.Company)
	if err != nil {
		return nil, err
	}
	w := &writer{pdf: pdf, doc: d, md: goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))}
	pdf.SetHeaderFuncMode(w.header, true)
	pdf.SetFooterFunc(w.footer)

	w.cover()
	if len(d.Answers) > 0 {
		w.answersCover()
	}
	if len(d.Policies) > 1 {
		w.contents()
	}
	for _, p := range d.Policies {
		w.policy(p)
	}
	if len(d.Answers) > 0 {
		w.answers()
	}
	w.pageNumbers()
	if err := pdf.Error(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type writer struct {
	pdf     *fpdf.Fpdf
	doc     Document
	current string // the policy being written, for the running header
	links   []int
	// numbers are the contents' page-number cells, kept for pageNumbers.
	numbers []*fpdf.Reservation
	starts  []int
	indent  float64
	md      goldmark.Markdown
}

func (w *writer) font(family, style string, size float64) { w.pdf.SetFont(family, style, size) }

func (w *writer) header() {
	if w.pdf.PageNo() == 1 {
		return
	}
	p := w.pdf
	p.SetY(10)
	w.font("sans", "", 8)
	p.SetTextColor(90, 96, 110)
	p.CellFormat(bodyW/2, 5, w.doc.Company+" · Policy packet "+w.doc.PacketID, "", 0, "L", false, 0, "")
	p.CellFormat(bodyW/2, 5, w.current, "", 1, "R", false, 0, "")
	p.SetDrawColor(200, 204, 212)
	p.Line(margin, 16, pageW-margin, 16)
	p.SetTextColor(29, 35, 48)
}

// footer writes the page number and the recipient, then the watermark, on
// top of the page's content.
func (w *writer) footer() {
	p := w.pdf
	p.SetY(-14)
	w.font("sans", "", 8)
	p.SetTextColor(90, 96, 110)
	p.CellFormat(bodyW*2/3, 5, "Confidential — prepared for "+w.doc.Recipient.Name+" <"+w.doc.Recipient.Email+">", "", 0, "L", false, 0, "")
	p.CellFormat(bodyW/3, 5, fmt.Sprintf("Page %d of {nb}", p.PageNo()), "", 0, "R", false, 0, "")
	p.SetTextColor(29, 35, 48)

	mark := w.doc.Watermark()
	w.font("sans", "B", 10)
	size := min(22.0, 10*290/p.GetStringWidth(mark))
	w.font("sans", "B", size)
	width := p.GetStringWidth(mark)
	p.SetAlpha(0.14, "Normal")
	p.SetTextColor(160, 30, 30)
	p.TransformBegin()
	p.TransformRotate(54.7, pageW/2, pageH/2) // the page's diagonal
	p.Text(pageW/2-width/2, pageH/2, mark)
	p.TransformEnd()
	p.SetAlpha(1, "Normal")
	p.SetTextColor(29, 35, 48)
}

func (w *writer) cover() {
	p, d := w.pdf, w.doc
	p.AddPage()
	p.SetY(26)
	w.font("sans", "B", 24)
	p.MultiCell(bodyW, 11, d.Company, "", "L", false)
	w.font("sans", "", 16)
	p.MultiCell(bodyW, 8, "Policy packet for "+d.Recipient.Name+", "+d.Recipient.Company, "", "L", false)
	p.Ln(4)
	w.font("sans", "", 10)
	for _, kv := range [][2]string{
		{"Packet ID", d.PacketID},
		{"Recipient", d.Recipient.Name + " <" + d.Recipient.Email + ">"},
		{"Issued", d.IssuedAt.UTC().Format(time.DateOnly)},
		{"Expires", d.ExpiresAt.UTC().Format(time.DateOnly)},
	} {
		w.font("sans", "B", 10)
		p.CellFormat(30, 5.5, kv[0], "", 0, "L", false, 0, "")
		w.font("sans", "", 10)
		p.CellFormat(bodyW-30, 5.5, kv[1], "", 1, "L", false, 0, "")
	}
	p.Ln(4)
	w.font("sans", "B", 12)
	p.CellFormat(bodyW, 7, "Policies in this packet", "", 1, "L", false, 0, "")
	for _, pol := range d.Policies {
		w.font("sans", "B", 9)
		p.CellFormat(bodyW-55, 4.4, pol.Title, "", 0, "L", false, 0, "")
		w.font("sans", "", 8.5)
		p.CellFormat(55, 4.4, "version "+pol.Version+" · effective "+pol.EffectiveOn.UTC().Format(time.DateOnly), "", 1, "R", false, 0, "")
		w.font("mono", "", 6.5)
		p.SetTextColor(90, 96, 110)
		p.CellFormat(bodyW, 3.4, "SHA-256 "+pol.SHA256, "", 1, "L", false, 0, "")
		p.SetTextColor(29, 35, 48)
	}
	p.Ln(4)
	w.font("sans", "I", 8)
	p.MultiCell(bodyW, 4, "Each policy's SHA-256 is that of its published Markdown text. The packet's manifest lists the SHA-256 of this file and is signed by "+d.Company+"; check either at the company's /trust/verify page.", "", "L", false)
}

// contents writes the contents page(s): each policy's title, and a place
// for its page number, which pageNumbers fills.
func (w *writer) contents() {
	p := w.pdf
	w.current = "Contents"
	p.AddPage()
	w.font("sans", "B", 18)
	p.CellFormat(bodyW, 10, "Contents", "", 1, "L", false, 0, "")
	p.Ln(2)
	for _, pol := range w.doc.Policies {
		link := p.AddLink()
		w.links = append(w.links, link)
		w.font("sans", "", 11)
		title := pol.Title + "  (version " + pol.Version + ")"
		p.CellFormat(bodyW-15, contentsLineH, title, "", 0, "L", false, link, "")
		w.numbers = append(w.numbers, p.Reserve())
		p.Ln(contentsLineH) // where the number's cell (ln 1) leaves the position
	}
}

const contentsLineH = 7.0

// pageNumbers writes in the contents the page where each policy starts.
func (w *writer) pageNumbers() {
	p := w.pdf
	for i, r := range w.numbers {
		p.FillReserved(r, func() {
			p.CellFormat(15, contentsLineH, strconv.Itoa(w.starts[i]), "", 1, "R", false, w.links[i], "")
		})
	}
}

func (w *writer) policy(pol DocumentPolicy) {
	p := w.pdf
	w.current = pol.Title + " " + pol.Version
	p.AddPage()
	w.starts = append(w.starts, p.PageNo())
	if i := len(w.starts) - 1; i < len(w.links) {
		p.SetLink(w.links[i], -1, p.PageNo())
	}
	p.Bookmark(pol.Title, 0, -1)
	w.font("sans", "", 8)
	p.SetTextColor(90, 96, 110)
	p.CellFormat(bodyW, 4, "Version "+pol.Version+" · effective "+pol.EffectiveOn.UTC().Format(time.DateOnly)+" · SHA-256 "+pol.SHA256[:16]+"…", "", 1, "L", false, 0, "")
	p.SetTextColor(29, 35, 48)
	src := []byte(pol.Body)
	doc := w.md.Parser().Parse(text.NewReader(src))
	w.indent = 0
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		w.block(n, src)
	}
}

// block writes one block-level Markdown node.
func (w *writer) block(n ast.Node, src []byte) {
	p := w.pdf
	left := margin + w.indent
	p.SetLeftMargin(left)
	p.SetX(left)
	switch n := n.(type) {
	case *ast.Heading:
		sizes := map[int]float64{1: 18, 2: 13, 3: 11.5}
		size, ok := sizes[n.Level]
		if !ok {
			size = 10.5
		}
		p.Ln(2)
		w.font("sans", "B", size)
		p.MultiCell(bodyW-w.indent, size*0.5, plain(n, src), "", "L", false)
		p.Ln(1.5)
	case *ast.Paragraph, *ast.TextBlock:
		w.inline(n, src, "")
		p.Ln(lineH)
		if _, ok := n.(*ast.Paragraph); ok {
			p.Ln(1.5)
		}
	case *ast.List:
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			marker := "•"
			if n.IsOrdered() {
				marker = strconv.Itoa(num) + "."
				num++
			}
			p.SetLeftMargin(left)
			p.SetX(left)
			w.font("sans", "", 10)
			p.CellFormat(7, lineH, marker, "", 0, "L", false, 0, "")
			w.indent += 7
			for c := item.FirstChild(); c != nil; c = c.NextSibling() {
				w.block(c, src)
			}
			w.indent -= 7
		}
		p.SetLeftMargin(left)
		p.Ln(1)
	case *ast.Blockquote:
		w.indent += 6
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			w.block(c, src)
		}
		w.indent -= 6
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(src))
		}
		w.font("mono", "", 8.5)
		p.SetFillColor(242, 243, 246)
		p.MultiCell(bodyW-w.indent, 4.2, strings.TrimRight(b.String(), "\n"), "", "L", true)
		p.Ln(2)
	case *ast.ThematicBreak:
		y := p.GetY() + 2
		p.Line(left, y, pageW-margin, y)
		p.Ln(5)
	case *east.Table:
		w.table(n, src)
	default:
		// Raw HTML and anything unknown is left out, as in the dashboard.
	}
	p.SetLeftMargin(margin + w.indent)
}

// inline writes a paragraph's runs: text with emphasis, code and links,
// wrapped at the margin.
func (w *writer) inline(n ast.Node, src []byte, style string) {
	p := w.pdf
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			w.font("sans", style, 10)
			p.Write(lineH, string(c.Segment.Value(src)))
			if c.HardLineBreak() {
				p.Ln(lineH)
			} else if c.SoftLineBreak() {
				p.Write(lineH, " ")
			}
		case *ast.String:
			w.font("sans", style, 10)
			p.Write(lineH, string(c.Value))
		case *ast.Emphasis:
			s := style
			add := "I"
			if c.Level == 2 {
				add = "B"
			}
			if !strings.Contains(s, add) {
				s = normStyle(s + add)
			}
			w.inline(c, src, s)
		case *ast.CodeSpan:
			w.font("mono", "", 9)
			p.Write(lineH, plain(c, src))
		case *ast.Link:
			w.font("sans", style+"U", 10)
			p.SetTextColor(38, 71, 184)
			p.WriteLinkString(lineH, plain(c, src), string(c.Destination))
			p.SetTextColor(29, 35, 48)
		case *ast.AutoLink:
			url := string(c.URL(src))
			w.font("sans", "U", 10)
			p.SetTextColor(38, 71, 184)
			p.WriteLinkString(lineH, url, url)
			p.SetTextColor(29, 35, 48)
		case *east.Strikethrough:
			w.inline(c, src, style)
		default:
			w.inline(c, src, style)
		}
	}
}

func normStyle(s string) string {
	if strings.Contains(s, "B") && strings.Contains(s, "I") {
		return "BI"
	}
	return s
}

// table draws a grid with equal columns; cells wrap.
func (w *writer) table(t *east.Table, src []byte) {
	p := w.pdf
	var rows [][]string
	var header []bool
	for r := t.FirstChild(); r != nil; r = r.NextSibling() {
		var cells []string
		for c := r.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, plain(c, src))
		}
		rows = append(rows, cells)
		_, isHeader := r.(*east.TableHeader)
		header = append(header, isHeader)
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return
	}
	colW := (bodyW - w.indent) / float64(cols)
	left := margin + w.indent
	for i, r := range rows {
		style := ""
		if header[i] {
			style = "B"
		}
		w.font("sans", style, 9)
		lines := 1
		for _, cell := range r {
			lines = max(lines, len(p.SplitText(cell, colW-2)))
		}
		h := float64(lines)*4.4 + 2
		if p.GetY()+h > pageH-22 {
			p.AddPage()
		}
		y := p.GetY()
		for j := 0; j < cols; j++ {
			cell := ""
			if j < len(r) {
				cell = r[j]
			}
			x := left + float64(j)*colW
			if header[i] {
				p.SetFillColor(232, 235, 241)
				p.Rect(x, y, colW, h, "FD")
			} else {
				p.Rect(x, y, colW, h, "D")
			}
			p.SetXY(x+1, y+1)
			p.MultiCell(colW-2, 4.4, cell, "", "L", false)
		}
		p.SetXY(left, y+h)
	}
	p.Ln(3)
}

// plain is the text of a node without its formatting.
func plain(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(c.Segment.Value(src))
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.AutoLink:
				b.Write(c.URL(src))
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}
