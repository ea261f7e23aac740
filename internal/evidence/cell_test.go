package evidence

import "testing"

// FuzzAppendCellEscapes: escaping while appending a cell gives what
// EscapeCell then quoting gives, for text and bytes alike.
func FuzzAppendCellEscapes(f *testing.F) {
	for _, s := range []string{"plain", "", "=1+2", "-", "@x,y", "\t lead", "\r\n", `\.`, " lead", "\u00a0", `"q"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := string(appendCell(nil, EscapeCell(s), false))
		if got := string(appendCell([]byte("x,"), s, true)); got != "x,"+want {
			t.Fatalf("%q: appended %q, want %q", s, got, "x,"+want)
		}
		if got := string(appendCell(nil, []byte(s), true)); got != want {
			t.Fatalf("%q as bytes: %q, want %q", s, got, want)
		}
	})
}
