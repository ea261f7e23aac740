package evidence

import (
	"bytes"
	"strings"
	"testing"
)

// A verifier names the exact byte when one was changed, the block when
// several were, and the sizes when the length changed.
func TestFirstChangeNamesTheChangedByte(t *testing.T) {
	original := bytes.Repeat([]byte("seq,at,actor,action\r\n"), 200) // 4200 bytes: five blocks
	f := BundleFile{Name: "audit_log.csv", Size: int64(len(original)), Blocks: blockSums(original)}
	cases := []struct {
		name   string
		change func([]byte) []byte
		want   string
	}{
		{"one byte", func(b []byte) []byte { b[2500] = 'X'; return b }, ": byte 2500 changed (it was 0x"},
		{"last partial block", func(b []byte) []byte { b[len(b)-1] = '!'; return b }, ": byte 4199 changed (it was 0x0a, it is 0x21)"},
		{"two bytes in one block", func(b []byte) []byte { b[1030], b[1031] = 'Y', 'Z'; return b }, "first changed byte is at offset 1024 to 2047"},
		{"a byte cut", func(b []byte) []byte { return append(b[:10:10], b[11:]...) }, "first changed byte is at offset 0 to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := firstChange(c.change(bytes.Clone(original)), f, BlockSize)
			if !strings.Contains(got, c.want) {
				t.Errorf("got %q, want it to contain %q", got, c.want)
			}
		})
	}
}
