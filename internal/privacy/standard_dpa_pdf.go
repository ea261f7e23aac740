package privacy

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/charter-registry/charter/internal/packet"
)

// Countersigned is what the countersigned standard DPA shows: the
// agreement's text with its version and SHA-256, and both parties'
// signature blocks.
type Countersigned struct {
	Company    string // ours, the processor
	Website    string
	Version    int
	TextSHA256 string
	Body       string // Markdown

	Customer    string
	SignerName  string
	SignerTitle string
	SignerEmail string
	SignerIP    string
	// SignedAt is when the signer confirmed, which is also when the
	// company countersigned.
	SignedAt          time.Time
	DataRegion        string
	TransferMechanism string
	SCCModule         string // its label
	VerifyURL         string
}

// RenderCountersigned lays out the countersigned PDF. The output depends
// only on d, byte for byte (fixed document dates, sorted catalog,
// embedded fonts), so a copy can be re-rendered and compared.
func RenderCountersigned(d Countersigned) ([]byte, error) {
	title := fmt.Sprintf("Data Processing Agreement between %s and %s (version %d)", d.Company, d.Customer, d.Version)
	pdf, err := packet.NewMarkdownPDF(d.SignedAt, title, d.Company)
	if err != nil {
		return nil, err
	}
	const w = packet.BodyWidth
	pdf.SetFooterFunc(func() {
		pdf.SetY(-14)
		pdf.SetFont("sans", "", 7.5)
		pdf.SetTextColor(90, 96, 110)
		pdf.CellFormat(w*3/4, 5, fmt.Sprintf("%s standard DPA version %d · countersigned for %s · %s UTC", d.Company, d.Version, d.Customer,
			d.SignedAt.UTC().Format("2006-01-02 15:04")), "", 0, "L", false, 0, "")
		pdf.CellFormat(w/4, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(29, 35, 48)
	})

	pdf.AddPage()
	pdf.SetFont("sans", "B", 20)
	pdf.MultiCell(w, 9, "Data Processing Agreement", "", "L", false)
	pdf.SetFont("sans", "", 12)
	pdf.MultiCell(w, 6, "between "+d.Company+" (Processor) and "+d.Customer+" (Customer)", "", "L", false)
	pdf.Ln(3)
	field := func(label, value string) {
		pdf.SetFont("sans", "B", 9.5)
		pdf.CellFormat(58, 5.2, label, "", 0, "L", false, 0, "")
		pdf.SetFont("sans", "", 9.5)
		pdf.MultiCell(w-58, 5.2, value, "", "L", false)
	}
	field("Agreement", d.Company+" standard DPA, version "+strconv.Itoa(d.Version))
	field("Text SHA-256", "")
	pdf.SetFont("mono", "", 8)
	pdf.CellFormat(w, 4.4, d.TextSHA256, "", 1, "L", false, 0, "")
	field("Signed and countersigned on", d.SignedAt.UTC().Format("2006-01-02 15:04:05")+" UTC")
	field("Data region", orNone(d.DataRegion))
	field("Transfer mechanism", orNone(d.TransferMechanism))
	field("SCC module", orNone(d.SCCModule))
	pdf.Ln(3)
	pdf.SetFont("sans", "I", 8)
	pdf.MultiCell(w, 4, "The SHA-256 above is that of the agreement's published Markdown text, reproduced below. The signature blocks are on the last page. "+
		"To check that this file is the one "+d.Company+" issued, upload it or give its SHA-256 at "+d.VerifyURL+".", "", "L", false)
	pdf.Ln(4)
	packet.WriteMarkdown(pdf, d.Body)

	pdf.AddPage()
	pdf.SetFont("sans", "B", 14)
	pdf.CellFormat(w, 8, "Signatures", "", 1, "L", false, 0, "")
	pdf.Ln(2)
	block := func(heading string, rows [][2]string, note string) {
		pdf.SetFont("sans", "B", 11)
		pdf.CellFormat(w, 7, heading, "", 1, "L", false, 0, "")
		for _, r := range rows {
			field(r[0], r[1])
		}
		pdf.SetFont("sans", "I", 8)
		pdf.MultiCell(w, 4, note, "", "L", false)
		pdf.Ln(5)
	}
	block("For the Customer: "+d.Customer, [][2]string{
		{"Signed by", d.SignerName},
		{"Title", d.SignerTitle},
		{"Company", d.Customer},
		{"Email", d.SignerEmail},
		{"Signed at", d.SignedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"},
		{"From IP address", orNone(d.SignerIP)},
	}, "Signed electronically on "+d.Company+"'s Security & Privacy page. The signer declared their authority to sign on behalf of "+
		d.Customer+" and confirmed their email address before the signature counted.")
	block("For the Processor: "+d.Company, [][2]string{
		{"Countersigned by", d.Company},
		{"Countersigned at", d.SignedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"},
		{"Agreement version", strconv.Itoa(d.Version)},
	}, d.Company+" countersigned electronically when the signature was confirmed. It signs the SHA-256 of this file with its Ed25519 key, "+
		"published at "+d.VerifyURL+".")
	if err := pdf.Error(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
