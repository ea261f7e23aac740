package evidence_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/evidence"
)

// FuzzEscapeCell: no escaped cell starts a formula, a safe cell is left
// alone, and the escaped text survives a CSV round trip.
func FuzzEscapeCell(f *testing.F) {
	for _, s := range []string{`=HYPERLINK("http://x")`, "+1", "-2", "@SUM(A1)", "\tx", "\rx", "\x00", "plain", "", "a,b\n\"c\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := evidence.EscapeCell(s)
		if got != "" && strings.ContainsRune("=+-@\t\r\x00", rune(got[0])) {
			t.Fatalf("%q escapes to %q, which still starts a formula", s, got)
		}
		if s == "" || !strings.ContainsRune("=+-@\t\r\x00", rune(s[0])) {
			if got != s {
				t.Fatalf("a safe cell %q changed to %q", s, got)
			}
		} else if got != "'"+s {
			t.Fatalf("%q escapes to %q", s, got)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{got, "end"})
		w.Flush()
		rec, err := csv.NewReader(&buf).Read()
		// encoding/csv reads \r\n inside a quoted field as \n.
		if err != nil || len(rec) != 2 || rec[0] != strings.ReplaceAll(got, "\r\n", "\n") {
			t.Fatalf("round trip of %q: %q %v", got, rec, err)
		}
	})
}

// FuzzCSVWriter: CSVWriter quotes a cell exactly where encoding/csv does
// and writes the same bytes, except that the record ends with CRLF.
func FuzzCSVWriter(f *testing.F) {
	for _, s := range []string{"plain", "", "a,b", `say "hi"`, "two\nlines", "a\rb", " lead", "\tx", "\u00a0nbsp", "\u2028x", `\.`, "é", "\xff"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var ours, theirs bytes.Buffer
		if err := evidence.NewCSVWriter(&ours).Write([]string{a, b}); err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(&theirs)
		_ = w.Write([]string{a, b})
		w.Flush()
		want := strings.TrimSuffix(theirs.String(), "\n") + "\r\n"
		if ours.String() != want {
			t.Fatalf("%q, %q: CSVWriter wrote %q, encoding/csv %q", a, b, ours.String(), want)
		}
	})
}

// FuzzParsePeriod: from and to of any text give a period whose days are
// exactly the ones given, in order, or a field error; never a panic.
func FuzzParsePeriod(f *testing.F) {
	f.Add("2026-01-01", "2026-12-31")
	f.Add("2026-12-31", "2026-01-01")
	f.Add(" 2026-02-29", "2026-02-30")
	f.Add("", "yesterday")
	f.Fuzz(func(t *testing.T, from, to string) {
		p, err := evidence.ParsePeriod(from, to)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("%q..%q: not a field error: %v", from, to, err)
			}
			return
		}
		if p.To.Before(p.From) || p.From.Format(time.DateOnly) != strings.TrimSpace(from) || p.To.Format(time.DateOnly) != strings.TrimSpace(to) {
			t.Fatalf("%q..%q parsed to %v..%v", from, to, p.From, p.To)
		}
	})
}
