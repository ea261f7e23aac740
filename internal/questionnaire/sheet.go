package questionnaire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/evidence"
	"gorm.io/gorm"
)

// Limits of a questionnaire sheet: SIG Lite has a few hundred questions,
// the CAIQ a few hundred more.
const (
	MaxSheetBytes = 2 << 20
	MaxSheetRows  = 5000
	maxCellChars  = 10000
	maxProblems   = 20
)

// Sheet is a questionnaire as read from CSV: the header, the rows (each
// padded to the widest row) and where the question and answer columns are.
type Sheet struct {
	Header   []string
	Rows     []SheetRow
	Question int // index of the question column
	Answer   int // index of an answer column, -1 when there is none
}

// SheetRow is one row of a sheet with the line it started on.
type SheetRow struct {
	Line  int
	Cells []string
}

// columnName is a column as spreadsheets name it: A, B, …, Z, AA, …
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}

func headerKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// findColumn returns the first header cell equal to one of names, then the
// first containing one of them; -1 when none does.
func findColumn(header []string, names ...string) int {
	for i, h := range header {
		for _, n := range names {
			if headerKey(h) == n {
				return i
			}
		}
	}
	for i, h := range header {
		for _, n := range names {
			if strings.Contains(headerKey(h), n) {
				return i
			}
		}
	}
	return -1
}

// questionColumn is the column named Question; else the first whose name
// contains "question" and is not an ID column ("Question ID", "Question
// number"); else any column whose name contains it. -1 when none does.
func questionColumn(header []string) int {
	i := findColumn(header, "question")
	if i < 0 || headerKey(header[i]) == "question" {
		return i
	}
	for j, h := range header {
		key := Normalize(h)
		isID := false
		for _, w := range strings.Fields(key) {
			switch w {
			case "id", "no", "number", "ref", "reference", "code":
				isID = true
			}
		}
		if strings.Contains(key, "question") && !isID {
			return j
		}
	}
	return i
}

// ReadSheet reads a questionnaire CSV: UTF-8 with or without a byte
// order mark, CRLF or LF, its first row a header naming a question column
// (and optionally an answer column, an ID or number column, anything
// else). Errors: Invalid naming "file", with the row and column of each
// problem.
func ReadSheet(r io.Reader) (*Sheet, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxSheetBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxSheetBytes {
		return nil, apperr.Field("file", fmt.Sprintf("is larger than %d MB; split the questionnaire", MaxSheetBytes>>20))
	}
	body = bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF})
	cr := csv.NewReader(bufio.NewReader(bytes.NewReader(body)))
	cr.FieldsPerRecord = -1
	var problems []string
	problem := func(line, col int, what string) {
		where := fmt.Sprintf("row %d", line)
		if col >= 0 {
			where += ", column " + columnName(col)
		}
		problems = append(problems, where+": "+what)
	}
	sheet := &Sheet{Answer: -1}
	width := 0
	for len(problems) < maxProblems {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			problem(pe.StartLine, -1, fmt.Sprintf("is not valid CSV: %v at line %d, character %d", pe.Err, pe.Line, pe.Column))
			break
		} else if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		bad := false
		for i, cell := range rec {
			switch {
			case !utf8.ValidString(cell):
				problem(line, i, "is not UTF-8 text; save the sheet as CSV UTF-8")
				bad = true
			case utf8.RuneCountInString(cell) > maxCellChars:
				problem(line, i, fmt.Sprintf("is longer than %d characters", maxCellChars))
				bad = true
			}
		}
		if bad {
			continue
		}
		if sheet.Header == nil {
			if strings.TrimSpace(strings.Join(rec, "")) == "" {
				continue // blank lines above the header
			}
			sheet.Header = rec
			width = len(rec)
			continue
		}
		if len(sheet.Rows) >= MaxSheetRows {
			problem(line, -1, fmt.Sprintf("the sheet has more than %d rows; split it", MaxSheetRows))
			break
		}
		width = max(width, len(rec))
		sheet.Rows = append(sheet.Rows, SheetRow{Line: line, Cells: rec})
	}
	if len(problems) == 0 && sheet.Header == nil {
		problems = append(problems, "row 1: the sheet is empty; the first row is a header with a Question column")
	}
	if len(problems) == 0 {
		if sheet.Question = questionColumn(sheet.Header); sheet.Question < 0 {
			problems = append(problems, "row 1: no column of the header is named Question")
		}
		sheet.Answer = findColumn(sheet.Header, "answer", "response")
	}
	if len(problems) > 0 {
		return nil, apperr.Field("file", strings.Join(problems, "; "))
	}
	for len(sheet.Header) < width {
		sheet.Header = append(sheet.Header, "")
	}
	for i := range sheet.Rows {
		for len(sheet.Rows[i].Cells) < width {
			sheet.Rows[i].Cells = append(sheet.Rows[i].Cells, "")
		}
	}
	return sheet, nil
}

// stopWords are left out of the word-overlap match: they say nothing of
// what a question is about.
var stopWords = map[string]bool{"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "by": true,
	"do": true, "does": true, "for": true, "from": true, "has": true, "have": true, "how": true, "in": true, "is": true, "it": true,
	"of": true, "on": true, "or": true, "the": true, "that": true, "this": true, "to": true, "what": true, "when": true, "which": true,
	"who": true, "with": true, "you": true, "your": true, "yours": true, "we": true, "our": true, "organization": true, "company": true,
	"please": true, "describe": true, "any": true, "all": true, "there": true}

// Normalize is a question as compared: lower case, letters and digits
// only, single spaces.
func Normalize(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }), " ")
}

func words(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(Normalize(s)) {
		if !stopWords[w] {
			out[w] = true
		}
	}
	return out
}

// MinSimilarity is the least word overlap (shared words over all words,
// stop words left out) at which a question takes a library answer.
const MinSimilarity = 0.6

func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	shared := 0
	for w := range a {
		if b[w] {
			shared++
		}
	}
	return float64(shared) / float64(len(a)+len(b)-shared)
}

// Match is how a question was answered.
type Match struct {
	Answer *Answer // nil: unmatched
	Exact  bool
	Score  float64
}

// matcher finds library answers for questions.
type matcher struct {
	exact   map[string]*Answer
	answers []Answer
	words   []map[string]bool
}

func newMatcher(answers []Answer) *matcher {
	m := &matcher{exact: map[string]*Answer{}, answers: answers}
	for i := range answers {
		key := Normalize(answers[i].Question)
		if _, ok := m.exact[key]; !ok {
			m.exact[key] = &answers[i]
		}
		m.words = append(m.words, words(answers[i].Question))
	}
	return m
}

// match finds the answer to question: the same question once normalised,
// else the one sharing the most words, if it shares enough.
func (m *matcher) match(question string) Match {
	if a, ok := m.exact[Normalize(question)]; ok {
		return Match{Answer: a, Exact: true, Score: 1}
	}
	q := words(question)
	best, score := -1, 0.0
	for i := range m.answers {
		if s := overlap(q, m.words[i]); s > score {
			best, score = i, s
		}
	}
	if best < 0 || score < MinSimilarity {
		return Match{}
	}
	return Match{Answer: &m.answers[best], Score: score}
}

// Filled is the result of filling a questionnaire.
type Filled struct {
	Questions, Matched int
}

// The columns a filled sheet adds (or fills, when the sheet has them).
var filledColumns = []string{"Answer", "Access level", "Evidence", "Match", "Library question"}

// Fill reads a questionnaire sheet, answers each question from the
// library's approved public and on-request answers not waiting for review
// (internal answers never leave the team), and writes the same sheet with
// the columns Answer, Access level, Evidence, Match and Library question
// filled or added. Every cell written is neutralised against spreadsheet
// formulas. The fill is an audit event. Errors: Invalid naming "file".
func (s *Service) Fill(ctx context.Context, by audit.Actor, r io.Reader, w io.Writer) (Filled, error) {
	sheet, err := ReadSheet(r)
	if err != nil {
		return Filled{}, err
	}
	answers, err := s.List(ctx, Filter{Usable: true})
	if err != nil {
		return Filled{}, err
	}
	shared := answers[:0]
	for _, a := range answers {
		if a.Access.Shareable() {
			shared = append(shared, a)
		}
	}
	docs := map[string]document.Access{}
	var rows []document.Document
	if err := s.db.WithContext(ctx).Select("slug", "access").Find(&rows).Error; err != nil {
		return Filled{}, err
	}
	for _, d := range rows {
		docs[d.Slug] = d.Access
	}
	m := newMatcher(shared)
	header := append([]string{}, sheet.Header...)
	at := make([]int, len(filledColumns))
	for i, name := range filledColumns {
		if name == "Answer" && sheet.Answer >= 0 {
			at[i] = sheet.Answer
			continue
		}
		if at[i] = findColumn(header, headerKey(name)); at[i] < 0 || headerKey(header[at[i]]) != headerKey(name) {
			at[i] = len(header)
			header = append(header, name)
		}
	}
	var res Filled
	out := make([][]string, 0, len(sheet.Rows)+1)
	out = append(out, header)
	for _, row := range sheet.Rows {
		cells := append(row.Cells, make([]string, len(header)-len(row.Cells))...)
		question := strings.TrimSpace(cells[sheet.Question])
		if question != "" {
			res.Questions++
			got := m.match(question)
			values := []string{"", "", "", "unmatched", ""}
			if a := got.Answer; a != nil {
				res.Matched++
				values = []string{a.Answer, a.Access.Label(), s.evidenceText(a, docs), "exact", a.Question}
				if !got.Exact {
					values[3] = fmt.Sprintf("similar (%.0f%% of words shared): check it", got.Score*100)
				}
			}
			for i, v := range values {
				if strings.TrimSpace(cells[at[i]]) == "" {
					cells[at[i]] = v
				}
			}
		}
		out = append(out, cells)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return audit.Append(tx, by, audit.Entry{At: s.clock(), Action: "answer.questionnaire_filled", ObjectType: "questionnaire",
			ObjectID: "sheet", After: map[string]any{"questions": res.Questions, "matched": res.Matched}})
	})
	if err != nil {
		return Filled{}, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	for _, rec := range out {
		for i := range rec {
			rec[i] = evidence.EscapeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return Filled{}, err
		}
	}
	cw.Flush()
	return res, cw.Error()
}

// evidenceText lists an answer's evidence for a prospect: each policy
// with the version checked and its section (policies are had on request),
// each document with its public link or as on request. Internal
// documents are not named.
func (s *Service) evidenceText(a *Answer, docs map[string]document.Access) string {
	base := strings.TrimRight(s.settings.BaseURL, "/")
	var parts []string
	for _, l := range a.Links {
		switch {
		case l.PolicySlug != "":
			p := l.Title + " " + l.CheckedVersion
			if l.Section != "" {
				p += ", section " + l.Section
			}
			parts = append(parts, p+" (on request: "+base+"/trust/request)")
		case docs[l.DocumentSlug] == document.Public:
			parts = append(parts, l.Title+" ("+base+"/trust/documents/"+url.PathEscape(l.DocumentSlug)+")")
		case docs[l.DocumentSlug] == document.OnRequest:
			parts = append(parts, l.Title+" (on request: "+base+"/trust/request)")
		}
	}
	return strings.Join(parts, "; ")
}

// ImportResult counts what an import made.
type ImportResult struct {
	Created int
}

// Import adds each question-and-answer pair of a sheet to the library as
// a draft with the given access level and owner, in one transaction: a
// bad row writes nothing. Rows without a question are skipped. Errors:
// Invalid naming "file" (with row and column) or the field.
func (s *Service) Import(ctx context.Context, by audit.Actor, r io.Reader, access, owner string) (ImportResult, error) {
	sheet, err := ReadSheet(r)
	if err != nil {
		return ImportResult{}, err
	}
	if sheet.Answer < 0 {
		return ImportResult{}, apperr.Field("file", "row 1: no column of the header is named Answer")
	}
	var res ImportResult
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, row := range sheet.Rows {
			q, a := strings.TrimSpace(row.Cells[sheet.Question]), strings.TrimSpace(row.Cells[sheet.Answer])
			if q == "" && a == "" {
				continue
			}
			_, err := s.create(tx, by, Input{Question: q, Answer: a, Access: access, OwnerEmail: owner})
			if ae, ok := apperr.As(err); ok && ae.Kind == apperr.Invalid {
				return rowProblem(row.Line, sheet, ae.Fields)
			} else if err != nil {
				return err
			}
			res.Created++
		}
		if res.Created == 0 {
			return apperr.Field("file", "row 2: the sheet has a header but no questions")
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// rowProblem names the row and column of an imported row's field errors;
// the access level and owner come from the form, so they keep their names.
func rowProblem(line int, sheet *Sheet, fields map[string]string) error {
	out := map[string]string{}
	var problems []string
	for field, msg := range fields {
		switch field {
		case "question":
			problems = append(problems, fmt.Sprintf("row %d, column %s (question): %s", line, columnName(sheet.Question), msg))
		case "answer":
			problems = append(problems, fmt.Sprintf("row %d, column %s (answer): %s", line, columnName(sheet.Answer), msg))
		default:
			out[field] = msg
		}
	}
	if len(problems) > 0 {
		out["file"] = strings.Join(problems, "; ")
	}
	return apperr.Fields(out)
}
