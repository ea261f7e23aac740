package fpdf

import "fmt"

// Charter patch: reservations, so that a table of contents can be laid
// out in one pass and still give, byte for byte, the PDF that two passes
// gave (Charter's issue 22, item 3). A reservation marks a place in the
// current page's content stream and link annotations; FillReserved later
// writes there what it would have written at that moment, from the state
// (position, font, colours) of that moment, and then puts back the state
// of the present. Nothing of this exists upstream: an alias
// (RegisterAlias) cannot keep the bytes, because a right-aligned cell is
// placed by the width of the text it is given.

// Reservation is a place kept in a page for FillReserved.
type Reservation struct {
	page   int // 1-based
	offset int // in the page's content stream
	links  int // in the page's link annotations
	seq    int // order of creation among the document's reservations
	filled bool
	state  reservedState
}

// reservedState is what of the Fpdf state a cell or text written at the
// reservation depends on or changes.
type reservedState struct {
	x, y, lasth, ws                 float64
	lMargin, rMargin, cMargin       float64
	fontFamily, fontStyle           string
	underline, strikeout            bool
	currentFont                     fontDefType
	fontSizePt, fontSize            float64
	isCurrentUTF8                   bool
	lineWidth                       float64
	colorFlag                       bool
	color                           struct{ draw, fill, text colorType }
	w, h, wPt, hPt                  float64
	pageBreakTrigger                float64
	curOrientation                  string
	curPageSize                     SizeType
	autoPageBreak, inHeader, inFoot bool
}

func (f *Fpdf) saveReservedState() reservedState {
	return reservedState{
		x: f.x, y: f.y, lasth: f.lasth, ws: f.ws,
		lMargin: f.lMargin, rMargin: f.rMargin, cMargin: f.cMargin,
		fontFamily: f.fontFamily, fontStyle: f.fontStyle, underline: f.underline, strikeout: f.strikeout,
		currentFont: f.currentFont, fontSizePt: f.fontSizePt, fontSize: f.fontSize, isCurrentUTF8: f.isCurrentUTF8,
		lineWidth: f.lineWidth, colorFlag: f.colorFlag, color: f.color,
		w: f.w, h: f.h, wPt: f.wPt, hPt: f.hPt, pageBreakTrigger: f.pageBreakTrigger,
		curOrientation: f.curOrientation, curPageSize: f.curPageSize,
		autoPageBreak: f.autoPageBreak, inHeader: f.inHeader, inFoot: f.inFooter,
	}
}

func (f *Fpdf) restoreReservedState(s reservedState) {
	f.x, f.y, f.lasth, f.ws = s.x, s.y, s.lasth, s.ws
	f.lMargin, f.rMargin, f.cMargin = s.lMargin, s.rMargin, s.cMargin
	f.fontFamily, f.fontStyle, f.underline, f.strikeout = s.fontFamily, s.fontStyle, s.underline, s.strikeout
	f.currentFont, f.fontSizePt, f.fontSize, f.isCurrentUTF8 = s.currentFont, s.fontSizePt, s.fontSize, s.isCurrentUTF8
	f.lineWidth, f.colorFlag, f.color = s.lineWidth, s.colorFlag, s.color
	f.w, f.h, f.wPt, f.hPt, f.pageBreakTrigger = s.w, s.h, s.wPt, s.hPt, s.pageBreakTrigger
	f.curOrientation, f.curPageSize = s.curOrientation, s.curPageSize
	f.autoPageBreak, f.inHeader, f.inFooter = s.autoPageBreak, s.inHeader, s.inFoot
}

// Reserve marks the present place in the current page for FillReserved.
// The position does not move: move it past what will be written there
// (for a cell with ln 1, Ln of the cell's height does what it would).
func (f *Fpdf) Reserve() *Reservation {
	if f.err != nil || f.state != 2 {
		if f.err == nil {
			f.err = fmt.Errorf("Reserve: no page is open")
		}
		return &Reservation{filled: true}
	}
	f.reservationSeq++
	r := &Reservation{page: f.page, offset: f.pages[f.page].Len(), links: len(f.pageLinks[f.page]), seq: f.reservationSeq,
		state: f.saveReservedState()}
	f.reservations = append(f.reservations, r)
	return r
}

// FillReserved writes what fn writes at r, as if it had been written when
// r was made, with the state of that moment; then the current page and
// state are as before. fn must not add pages (automatic page breaks are
// off while it runs), nor links (AddLink), outlines or images. Call it
// before Output, once per reservation, in any order.
func (f *Fpdf) FillReserved(r *Reservation, fn func()) {
	if f.err != nil {
		return
	}
	if r.filled || f.state != 2 {
		f.err = fmt.Errorf("FillReserved: the reservation is filled already, or the document is closed")
		return
	}
	r.filled = true
	page, now := f.page, f.saveReservedState()
	content := f.pages[r.page]
	tail := append([]byte(nil), content.Bytes()[r.offset:]...)
	content.Truncate(r.offset)
	links := f.pageLinks[r.page]
	linksTail := append([]linkType(nil), links[r.links:]...)
	f.pageLinks[r.page] = links[:r.links]

	f.page = r.page
	f.restoreReservedState(r.state)
	f.autoPageBreak = false
	pages := len(f.pages)
	fn()
	if len(f.pages) != pages && f.err == nil {
		f.err = fmt.Errorf("FillReserved: a page was added")
	}
	added, addedLinks := content.Len()-r.offset, len(f.pageLinks[r.page])-r.links
	content.Write(tail)
	f.pageLinks[r.page] = append(f.pageLinks[r.page], linksTail...)
	f.page = page
	f.restoreReservedState(now)

	// Later reservations on the page move by what was inserted before them.
	for _, q := range f.reservations {
		if !q.filled && q.page == r.page && q.seq > r.seq {
			q.offset += added
			q.links += addedLinks
		}
	}
}
