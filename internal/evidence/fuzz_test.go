package evidence_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

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
