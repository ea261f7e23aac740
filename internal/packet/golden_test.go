package packet_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/policy"
)

// goldenRichBody exercises what the renderer treats specially: long
// paragraphs (fpdf's Write wraps them), non-Latin text, emphasis nested in
// links, lists (nested, ordered), quotes, code blocks and spans, tables
// and rules.
func goldenRichBody() string {
	var b strings.Builder
	b.WriteString("# Überblick — Données & 数据\n\n")
	for i := 0; i < 12; i++ {
		b.WriteString("Ein sehr langer Absatz mit Umlauten (äöüß), accents (éèêç), Cyrillic (Привет, мир), Greek (Καλημέρα), ")
		b.WriteString("CJK fallback characters 数据保护, emoji-free symbols (→ ← ✓ € £ ©), and **bold *bold italic* text** with `inline code` ")
	}
	b.WriteString("\nand a soft break\nthen a hard break  \nafter it, a link to [the *guide*](https://example.com/guide) and https://example.org/auto.\n\n")
	b.WriteString("A_very_long_word_without_spaces_" + strings.Repeat("x", 180) + " then normal words again.\n\n")
	b.WriteString("## Lists\n\n- first item with **bold**\n- second item\n  - nested item with a long line " + strings.Repeat("wrap me please ", 20) + "\n- third\n\n")
	b.WriteString("3. three\n4. four with ~~strike~~\n\n> A quote with *emphasis* and a second sentence that is long enough to wrap across the line once or twice at least, we hope.\n\n")
	b.WriteString("```\nfunc main() {\n\tfmt.Println(\"héllo, 世界\")\n}\n```\n\n    indented code\n\n---\n\n")
	b.WriteString("| Control | Owner | Notes |\n|---|---|---|\n| Restore test | Infrastructure *Lead* | Quarterly, with a long note that wraps in its cell |\n| Ключ | 数据 | ✓ |\n\n")
	b.WriteString("<div>raw html is left out</div>\n\n#### Level four heading\n\nEnd.\n")
	return b.String()
}

func goldenDocuments(t testing.TB) map[string]packet.Document {
	full := sampleDocument(t)
	single := full
	single.Policies = full.Policies[:1]
	rich := full
	rich.Recipient = packet.Recipient{Name: "Zoë Ångström-Łukasz", Email: "zoe@kunde.example", Company: "Kunde GmbH & Co. KG"}
	body := goldenRichBody()
	rich.Policies = []packet.DocumentPolicy{
		{Slug: "rich", Title: "Données — 数据 policy", Version: "2.1", EffectiveOn: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), SHA256: policy.HashText(body), Body: body},
		full.Policies[1],
		{Slug: "rich-2", Title: "Second rich", Version: "1.0", EffectiveOn: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), SHA256: policy.HashText(body + "x"), Body: body + "\nx\n"},
	}
	// More policies than one contents page holds.
	many := full
	many.Policies = append(append([]packet.DocumentPolicy(nil), full.Policies...), full.Policies...)
	return map[string]packet.Document{"full": full, "single": single, "rich": rich, "many": many}
}

// TestPacketPDFBytesUnchanged: issued packets are re-rendered on demand
// and checked against the SHA-256 in their signed manifest, so a change
// to the renderer must give the same bytes for the same input. These
// hashes were recorded with the renderer as it was before the one-pass
// work (issue 22, item 3); a difference here breaks every issued packet.
func TestPacketPDFBytesUnchanged(t *testing.T) {
	want := map[string]string{
		"full":   "b6b6dc35e3d6562196393fda6369b9099cb0a634f6bde7b68141f992204bd15f",
		"single": "83eb79501787bd75ac86b64a2231cfdcfb01bf20d7362005a82fc1e42d081884",
		"rich":   "51d29f9ab67736a5e4b38002239ea49c68ef125162c2c1c6a3acb0867385a445",
		"many":   "9a253923ae872649affb435e73cb48dd7fa1f7cb641d4022664783a997a6a623",
	}
	// Each twice, interleaved: a render must not disturb the next one
	// (fonts' bytes, cached identifiers).
	docs := goldenDocuments(t)
	for _, name := range []string{"full", "single", "rich", "many", "single", "full", "rich"} {
		d := docs[name]
		out, err := packet.RenderPDF(d)
		if err != nil {
			t.Fatal(name, err)
		}
		sum := sha256.Sum256(out)
		if got := hex.EncodeToString(sum[:]); got != want[name] {
			t.Errorf("%s: SHA-256 %s, want %s (%d bytes)", name, got, want[name], len(out))
		}
	}
}

// TestPacketPDFConcurrentRendersAgree: renders at the same time share the
// process's font identifiers and fpdf's pooled compressors, and must not
// disturb each other (run it with -race).
func TestPacketPDFConcurrentRendersAgree(t *testing.T) {
	docs := goldenDocuments(t)
	names := []string{"single", "rich", "single", "rich"}
	want := map[string][]byte{}
	for _, name := range names[:2] {
		out, err := packet.RenderPDF(docs[name])
		if err != nil {
			t.Fatal(err)
		}
		want[name] = out
	}
	errs := make(chan error, len(names))
	for _, name := range names {
		go func() {
			out, err := packet.RenderPDF(docs[name])
			if err == nil && !bytes.Equal(out, want[name]) {
				err = fmt.Errorf("%s: a concurrent render gave other bytes", name)
			}
			errs <- err
		}()
	}
	for range names {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
