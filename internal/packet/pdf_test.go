package packet_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/policy"
	"github.com/charter-registry/charter/policies"
)

func sampleDocument(t testing.TB) packet.Document {
	templates, err := policy.LoadTemplates(policies.Files)
	if err != nil {
		t.Fatal(err)
	}
	d := packet.Document{Company: "PostHog", PacketID: "PKT-7Q2M-4XKD", Recipient: packet.Recipient{Name: "Dana Reviewer", Email: "dana@customer.example", Company: "Customer Ltd"},
		IssuedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 12, 23, 10, 0, 0, 0, time.UTC)}
	for _, tpl := range templates {
		body := tpl.Body + "\n\n| Control | Owner |\n|---|---|\n| Restore test | Infrastructure *Lead* |\n\nSee [the guide](https://example.com/guide) and `code`.\n"
		d.Policies = append(d.Policies, packet.DocumentPolicy{Slug: tpl.Slug, Title: tpl.Title, Version: "1.0",
			EffectiveOn: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), SHA256: policy.HashText(body), Body: body})
	}
	return d
}

func TestPacketPDFIsDeterministicAndComplete(t *testing.T) {
	d := sampleDocument(t)
	a, err := packet.RenderPDF(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := packet.RenderPDF(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same packet differ")
	}
	if !bytes.HasPrefix(a, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CHARTER_REQUIRE_BROWSER") != "" {
			t.Fatal("pdftotext is not installed (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext is not installed (apt-get install poppler-utils); .ci/run installs it")
	}
	file := filepath.Join(t.TempDir(), "packet.pdf")
	if dir := os.Getenv("CHARTER_KEEP_PDF"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "packet.pdf"), a, 0o600)
	}
	if err := os.WriteFile(file, a, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-raw", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(strings.TrimRight(string(out), "\f"), "\f")
	if len(pages) < 22 {
		t.Fatalf("%d pages", len(pages))
	}
	for i, page := range pages {
		if !strings.Contains(page, "dana@customer.example") {
			t.Errorf("page %d lacks the recipient's email", i+1)
		}
		if !strings.Contains(page, "Page "+strconv.Itoa(i+1)+" of "+strconv.Itoa(len(pages))) {
			t.Errorf("page %d lacks its page x of y", i+1)
		}
	}
	if !strings.Contains(pages[1], "Contents") {
		t.Fatal("no table of contents on page 2")
	}
	// Each contents line gives the page the policy starts on, filled in
	// once the policies were laid out.
	for _, p := range d.Policies {
		m := regexp.MustCompile(regexp.QuoteMeta(p.Title+" (version "+p.Version+")") + ` (\d+)\n`).FindStringSubmatch(pages[1])
		if m == nil {
			t.Errorf("contents lack %s with a page number", p.Title)
			continue
		}
		start, _ := strconv.Atoi(m[1])
		if start < 3 || start > len(pages) || !strings.Contains(pages[start-1], "Version "+p.Version+" · effective") ||
			!strings.Contains(pages[start-1], p.Title) || strings.Contains(pages[start-2], p.Title+" "+p.Version) {
			t.Errorf("contents: %s on page %d, which is not where it starts", p.Title, start)
		}
	}
	if !strings.Contains(pages[0], "Policy packet for Dana Reviewer, Customer Ltd") || !strings.Contains(pages[0], "PKT-7Q2M-4XKD") {
		t.Fatalf("cover: %s", pages[0])
	}
}
