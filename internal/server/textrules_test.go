package server

import (
	"testing"
)

func TestTextProblem(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		multiLine bool
		ok        bool
	}{
		{"plain", "Dana Jones", false, true},
		{"unicode", "Zoë Ångström 日本", false, true},
		{"LF in a single line", "X\nBcc: a@b.c", false, false},
		{"CR in a single line", "X\rY", false, false},
		{"TAB in a single line", "X\tY", false, false},
		{"LF in free text", "line one\nline two\r\n\tindented", true, true},
		{"NUL in free text", "a\x00b", true, false},
		{"NUL in a single line", "a\x00b", false, false},
		{"bell in free text", "a\x07b", true, false},
		{"escape in a single line", "a\x1b[31mred", false, false},
		{"DEL", "a\x7fb", false, false},
		{"invalid UTF-8", "a\xffb", true, false},
		{"C1 next-line", "a\u0085b", true, false},
		{"line separator in a single line", "a\u2028b", false, false},
		{"paragraph separator in free text", "a\u2029b", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if msg := textProblem(c.in, c.multiLine); (msg == "") != c.ok {
				t.Fatalf("textProblem(%q, %v) = %q, want ok=%v", c.in, c.multiLine, msg, c.ok)
			}
		})
	}
}

func TestIsMultiLine(t *testing.T) {
	cases := map[string]bool{
		"name":                false,
		"email":               false,
		"details":             true,
		"incidents[0].notes":  true,
		"fix_links[2]":        true,
		"contacts[0].name":    false,
		"legal_entities.name": false,
		"a.b.summary":         true,
		"summary_title":       false,
	}
	for field, want := range cases {
		if got := isMultiLine(field); got != want {
			t.Errorf("isMultiLine(%q) = %v, want %v", field, got, want)
		}
	}
}
