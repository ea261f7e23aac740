package packet_test

import (
	"testing"

	"github.com/charter-registry/charter/internal/packet"
)

// BenchmarkRenderPacket builds the full twenty-policy packet PDF (goal:
// under 100 ms, issue 22).
func BenchmarkRenderPacket(b *testing.B) {
	d := sampleDocument(b)
	for b.Loop() {
		if _, err := packet.RenderPDF(d); err != nil {
			b.Fatal(err)
		}
	}
}
