package packet_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/packet"
)

// BenchmarkRenderPacket builds the full twenty-policy packet PDF, and
// prints the BENCHROW lines make bench collects: min / median / max over
// the renders (make bench runs ten) of the time (goal: under 100 ms, issue
// 22) and of the allocations.
func BenchmarkRenderPacket(b *testing.B) {
	d := sampleDocument(b)
	pages := pageCount(b, d) // also computes the process's font identifiers, once, as a server has
	var ms, kallocs, mb []float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		if _, err := packet.RenderPDF(d); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		ms = append(ms, float64(elapsed.Microseconds())/1000)
		kallocs = append(kallocs, float64(after.Mallocs-before.Mallocs)/1000)
		mb = append(mb, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
	}
	if len(ms) < 3 {
		b.Logf("%d renders: BENCHROW needs at least 3 (-benchtime 10x)", len(ms))
		return
	}
	fmt.Printf("BENCHROW | packet PDF, 20 policies (%d pages), %d renders | %s ms | ref - | ratio - | goal < 100 ms\n", pages, len(ms), spread(ms, "%.1f"))
	fmt.Printf("BENCHROW | packet PDF, 20 policies: allocated per render | %s k allocs (%s MB) | ref - | ratio - | goal -\n",
		spread(kallocs, "%.0f"), spread(mb, "%.1f"))
}

// pageCount counts the pages of d's PDF (the /Type /Page objects).
func pageCount(b *testing.B, d packet.Document) int {
	out, err := packet.RenderPDF(d)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for i := 0; i+len("/Type /Page\n") <= len(out); i++ {
		if string(out[i:i+len("/Type /Page\n")]) == "/Type /Page\n" {
			n++
		}
	}
	return n
}

// spread is "min / median / max" of the measurements, each in layout.
func spread(xs []float64, layout string) string {
	s := slices.Sorted(slices.Values(xs))
	return fmt.Sprintf(layout+" / "+layout+" / "+layout, s[0], s[len(s)/2], s[len(s)-1])
}
