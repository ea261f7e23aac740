package questionnaire_test

import (
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/questionnaire"
)

// FuzzReadSheet: any upload is either a sheet whose rows all have the
// header's width and a question column inside it, or an Invalid error
// naming the file; never a panic or another error.
func FuzzReadSheet(f *testing.F) {
	for _, seed := range []string{"ID,Question\r\n1,Do you encrypt?\r\n", "\ufeffQuestion\n\"a\"\"b\",x\n", "Question,Answer\n\"open\n",
		"", "\n\nQuestion\n", "A,B\n1\n", "Question\n\xff\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sheet, err := questionnaire.ReadSheet(strings.NewReader(in))
		if err != nil {
			if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Invalid || ae.Fields["file"] == "" {
				t.Fatalf("error %v is not Invalid naming file", err)
			}
			return
		}
		if sheet.Question < 0 || sheet.Question >= len(sheet.Header) {
			t.Fatalf("question column %d of %d", sheet.Question, len(sheet.Header))
		}
		for _, r := range sheet.Rows {
			if len(r.Cells) != len(sheet.Header) {
				t.Fatalf("row %d has %d cells, header %d", r.Line, len(r.Cells), len(sheet.Header))
			}
		}
	})
}

func TestParseEvidence(t *testing.T) {
	got, err := questionnaire.ParseEvidence("policy/encryption#Data at rest\r\n\n  document/soc-2-report \n")
	if err != nil || len(got) != 2 || got[0].Policy != "encryption" || got[0].Section != "Data at rest" || got[1].Document != "soc-2-report" {
		t.Fatalf("%+v, %v", got, err)
	}
	_, err = questionnaire.ParseEvidence("policy/a\nencryption")
	if ae, ok := apperr.As(err); !ok || !strings.HasPrefix(ae.Fields["evidence"], "line 2:") {
		t.Fatalf("a line without a kind: %v", err)
	}
}

func TestReadSheetFindsTheQuestionColumn(t *testing.T) {
	cases := []struct {
		header string
		want   int
	}{
		{"ID,Question,Category", 1},
		{"Question ID,Question Text,Answer", 1},
		{"Question Number,Control Question", 1},
		{"Question ID,Notes", 0},
		{" QUESTION ,Question text", 0},
	}
	for _, c := range cases {
		sheet, err := questionnaire.ReadSheet(strings.NewReader(c.header + "\n"))
		if err != nil || sheet.Question != c.want {
			t.Errorf("%q: column %v, %v; want %d", c.header, sheet, err, c.want)
		}
	}
}
