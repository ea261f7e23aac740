package packet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"codeberg.org/go-pdf/fpdf"
	"github.com/charter-registry/charter/internal/apperr"
)

// SharedAnswer is a questionnaire answer that may go into a packet.
type SharedAnswer struct {
	ID       int64
	Question string
	Answer   string
	Access   string
}

// AnswerSource returns the answers named by ids if each may go into a
// packet (approved, public or on request, not waiting for review), in the
// order given; Invalid naming field otherwise. The composition root gives
// the answer library's; the packet package does not depend on it.
type AnswerSource func(ctx context.Context, field string, ids []int64) ([]SharedAnswer, error)

// SetAnswers gives the service the answer library packets draw on.
func (s *Service) SetAnswers(src AnswerSource) { s.answers = src }

// PacketAnswer is one questionnaire answer frozen into a packet: its text
// as approved and the SHA-256 of question and answer, as the manifest
// lists it.
type PacketAnswer struct {
	PacketID int64  `json:"-" gorm:"primaryKey"`
	Position int    `json:"-" gorm:"primaryKey"`
	AnswerID int64  `json:"id"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
	Access   string `json:"access"`
	SHA256   string `json:"sha256" gorm:"column:sha256"`
}

// TableName is the packets' answers table.
func (PacketAnswer) TableName() string { return "packet_answers" }

// AnswerHash is the SHA-256 of a question and its answer, separated by a
// NUL; the answer library computes the same.
func AnswerHash(question, answer string) string {
	sum := sha256.Sum256([]byte(question + "\x00" + answer))
	return hex.EncodeToString(sum[:])
}

// DocumentAnswer is one answer in a packet PDF.
type DocumentAnswer struct {
	Question, Answer, SHA256 string
}

// chosenAnswers freezes the answers named by ids: nil when none are.
// Errors: Invalid naming "answers" for one that may not be shared, or
// when the service was given no answer library.
func (s *Service) chosenAnswers(ctx context.Context, ids []int64) ([]PacketAnswer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if s.answers == nil {
		return nil, apperr.Field("answers", "questionnaire answers cannot go into packets here")
	}
	shared, err := s.answers(ctx, "answers", ids)
	if err != nil {
		return nil, err
	}
	out := make([]PacketAnswer, len(shared))
	for i, a := range shared {
		out[i] = PacketAnswer{Position: i, AnswerID: a.ID, Question: a.Question, Answer: a.Answer, Access: a.Access, SHA256: AnswerHash(a.Question, a.Answer)}
	}
	return out, nil
}

func documentAnswers(answers []PacketAnswer) []DocumentAnswer {
	var out []DocumentAnswer
	for _, a := range answers {
		out = append(out, DocumentAnswer{Question: a.Question, Answer: a.Answer, SHA256: a.SHA256})
	}
	return out
}

// answersAudited is what the audit trail keeps of a packet's answers.
func answersAudited(answers []PacketAnswer) []map[string]any {
	out := []map[string]any{}
	for _, a := range answers {
		out = append(out, map[string]any{"id": a.AnswerID, "sha256": a.SHA256})
	}
	return out
}

// Answers returns the answers a packet froze, in order.
func (s *Service) Answers(ctx context.Context, packetID int64) ([]PacketAnswer, error) {
	var out []PacketAnswer
	err := s.db.WithContext(ctx).Where("packet_id = ?", packetID).Order("position").Find(&out).Error
	return out, err
}

// answersCover lists on the cover how many answers the packet holds.
func (w *writer) answersCover() {
	p := w.pdf
	p.Ln(3)
	w.font("sans", "B", 12)
	p.CellFormat(bodyW, 7, "Questionnaire answers in this packet", "", 1, "L", false, 0, "")
	w.font("sans", "", 9)
	n := len(w.doc.Answers)
	label := "answers"
	if n == 1 {
		label = "answer"
	}
	p.MultiCell(bodyW, 4.4, strconv.Itoa(n)+" approved "+label+" to security questionnaire questions, in the last section.", "", "L", false)
}

// answers writes the questionnaire answers section: each question, its
// answer and the SHA-256 the manifest lists.
func (w *writer) answers() {
	p := w.pdf
	w.current = "Questionnaire answers"
	p.AddPage()
	p.SetLeftMargin(margin)
	p.Bookmark("Questionnaire answers", 0, -1)
	w.font("sans", "B", 18)
	p.MultiCell(bodyW, 9, "Questionnaire answers", "", "L", false)
	p.Ln(2)
	for i, a := range w.doc.Answers {
		keepTogether(p, 24)
		w.font("sans", "B", 10.5)
		p.MultiCell(bodyW, 5.2, strconv.Itoa(i+1)+". "+a.Question, "", "L", false)
		p.Ln(0.8)
		w.font("sans", "", 10)
		p.MultiCell(bodyW, lineH, a.Answer, "", "L", false)
		w.font("mono", "", 6.5)
		p.SetTextColor(90, 96, 110)
		p.CellFormat(bodyW, 3.6, "SHA-256 "+a.SHA256, "", 1, "L", false, 0, "")
		p.SetTextColor(29, 35, 48)
		p.Ln(3)
	}
}

// keepTogether starts a new page when less than h is left on this one.
func keepTogether(p *fpdf.Fpdf, h float64) {
	_, pageHeight := p.GetPageSize()
	_, _, _, bottom := p.GetMargins()
	if p.GetY()+h > pageHeight-bottom {
		p.AddPage()
	}
}
