package document_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/clocktest"
	"github.com/charter-registry/charter/internal/document"
	"github.com/charter-registry/charter/internal/document/documenttest"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

type fixture struct {
	ctx   context.Context
	st    *store.Store
	svc   *document.Service
	clock *clocktest.Clock
	by    audit.Actor
}

func setup(t *testing.T, st *store.Store) *fixture {
	fs := files.InDatabase(st.DB)
	c := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	svc := document.NewService(st.DB, c.Now, fs, document.Settings{BaseURL: "https://charter.example"})
	return &fixture{ctx: context.Background(), st: st, svc: svc, clock: c, by: audit.Actor{UserID: 1, Label: "ed@hiberly.example"}}
}

func samplePDF(t testing.TB, pages int) []byte {
	return documenttest.PDF(t, "Independent auditor's report", pages)
}

func soc2(access string) document.Input {
	return document.Input{Title: "SOC 2 Type II report", Kind: "soc2_report", Access: access, OwnerEmail: "Compliance@Hiberly.example", AutoApprove: true}
}

func (f *fixture) create(t *testing.T, in document.Input, validUntil string) *document.Document {
	t.Helper()
	d, err := f.svc.Create(f.ctx, f.by, in, document.VersionInput{Version: "2026", IssuedOn: "2026-01-15", ValidUntil: validUntil},
		document.Upload{Name: "report.pdf", Body: bytes.NewReader(samplePDF(t, 3))})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCreateAndShare(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		report := f.create(t, soc2("on_request"), "2026-12-31")
		if report.Slug != "soc-2-type-ii-report" || report.OwnerEmail != "compliance@hiberly.example" || report.Current == nil || report.Current.Pages != 3 {
			t.Fatalf("created %+v (current %+v)", report, report.Current)
		}
		public := f.create(t, document.Input{Title: "ISO 27001 certificate", Kind: "iso_certificate", Access: "public", OwnerEmail: "ciso@hiberly.example"}, "")
		f.create(t, document.Input{Title: "Pen test full findings", Kind: "pentest_summary", Access: "internal", OwnerEmail: "ciso@hiberly.example"}, "")

		shared, err := f.svc.Shared(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, d := range shared {
			slugs = append(slugs, d.Slug)
		}
		if strings.Join(slugs, " ") != "soc-2-type-ii-report iso-27001-certificate" {
			t.Fatalf("shared %v: the internal one must not be listed, and SOC 2 comes first", slugs)
		}
		if _, err := f.svc.PublicDocument(f.ctx, public.Slug); err != nil {
			t.Fatal(err)
		}
		for _, slug := range []string{report.Slug, "pen-test-full-findings", "nothing-here"} {
			if _, err := f.svc.PublicDocument(f.ctx, slug); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("PublicDocument(%s): %v, want not found", slug, err)
			}
		}
		got, err := f.svc.Requestable(f.ctx, "documents", []string{report.Slug})
		if err != nil || len(got) != 1 || got[0].Current == nil {
			t.Fatalf("requestable: %v %v", got, err)
		}
		for _, slugs := range [][]string{{public.Slug}, {"pen-test-full-findings"}, {"nothing-here"}} {
			if _, err := f.svc.Requestable(f.ctx, "documents", slugs); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("Requestable(%v): %v, want invalid", slugs, err)
			}
		}
	})
}

func TestRefusals(t *testing.T) {
	f := setup(t, storetest.SQLite(t))
	good := samplePDF(t, 1)
	encrypted := []byte("%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R /Encrypt 2 0 R>>\n%%EOF\n")
	tests := []struct {
		name  string
		in    document.Input
		ver   document.VersionInput
		file  string
		body  []byte
		field string
	}{
		{"no title", document.Input{Kind: "soc2_report", Access: "public", OwnerEmail: "a@b.example"}, document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", good, "title"},
		{"unknown kind", document.Input{Title: "X", Kind: "novel", Access: "public", OwnerEmail: "a@b.example"}, document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", good, "kind"},
		{"unknown access", document.Input{Title: "X", Kind: "other", Access: "secret", OwnerEmail: "a@b.example"}, document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", good, "access"},
		{"bad owner", document.Input{Title: "X", Kind: "other", Access: "public", OwnerEmail: "nobody"}, document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", good, "owner_email"},
		{"bad slug", document.Input{Title: "X", Slug: "Not A Slug", Kind: "other", Access: "public", OwnerEmail: "a@b.example"}, document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", good, "slug"},
		{"no version", soc2("public"), document.VersionInput{IssuedOn: "2026-01-01"}, "r.pdf", good, "version"},
		{"bad date", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "1/1/2026"}, "r.pdf", good, "issued_on"},
		{"ends before it starts", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01", ValidUntil: "2025-12-31"}, "r.pdf", good, "valid_until"},
		{"not a PDF", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", []byte("<html><script>alert(1)</script></html>"), "file"},
		{"PDF named otherwise", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.exe", good, "file"},
		{"broken PDF", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", []byte("%PDF-1.7\nthis is not really a PDF\n"), "file"},
		{"encrypted PDF", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", encrypted, "file"},
		{"empty", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", []byte{}, "file"},
		{"too large", soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01"}, "r.pdf", append([]byte("%PDF-1.7\n"), make([]byte, files.TrustDocument.MaxBytes)...), "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Create(f.ctx, f.by, tt.in, tt.ver, document.Upload{Name: tt.file, Body: bytes.NewReader(tt.body)})
			ae, ok := apperr.As(err)
			if !ok || ae.Kind != apperr.Invalid || ae.Fields[tt.field] == "" {
				t.Fatalf("got %v, want a problem with %s", err, tt.field)
			}
		})
	}
	if docs, _ := f.svc.List(f.ctx); len(docs) != 0 {
		t.Fatalf("a refused document was stored: %v", docs)
	}
	f.create(t, soc2("public"), "")
	if _, err := f.svc.Create(f.ctx, f.by, soc2("public"), document.VersionInput{Version: "1", IssuedOn: "2026-01-01"},
		document.Upload{Name: "r.pdf", Body: bytes.NewReader(good)}); err != document.ErrSlugTaken {
		t.Fatalf("second document with the same slug: %v", err)
	}
	if _, err := f.svc.AddVersion(f.ctx, f.by, "soc-2-type-ii-report", document.VersionInput{Version: "2026", IssuedOn: "2026-02-01"},
		document.Upload{Name: "r.pdf", Body: bytes.NewReader(good)}); err != document.ErrVersionUsed {
		t.Fatalf("second version with the same name: %v", err)
	}
}

// TestLapse: a month and a week before its validity ends the owner is
// reminded, once each; after it, the document leaves /trust, cannot be
// requested, the lapse is in the audit trail and the owner is told.
func TestLapse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		d := f.create(t, soc2("on_request"), "2026-04-15")
		remind := func(want int) {
			t.Helper()
			if n, err := f.svc.RemindOwners(f.ctx); err != nil || n != want {
				t.Fatalf("%s: %d reminder(s), %v; want %d", f.clock.Now().Format(time.DateOnly), n, err, want)
			}
		}
		remind(0) // 44 days ahead
		f.clock.Advance(14 * 24 * time.Hour)
		remind(1) // 30 days ahead
		remind(0)
		f.clock.Advance(20 * 24 * time.Hour)
		remind(0) // 10 days ahead
		f.clock.Advance(3 * 24 * time.Hour)
		remind(1) // 7 days ahead: the final reminder
		f.clock.Advance(7 * 24 * time.Hour)
		if shared, _ := f.svc.Shared(f.ctx); len(shared) != 1 {
			t.Fatalf("on its last valid day the document is still shared: %v", shared)
		}
		f.clock.Advance(24 * time.Hour)
		remind(1) // lapsed
		remind(0)
		if shared, _ := f.svc.Shared(f.ctx); len(shared) != 0 {
			t.Fatalf("a lapsed document is shared: %v", shared)
		}
		if _, err := f.svc.Requestable(f.ctx, "documents", []string{d.Slug}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a lapsed document can be requested: %v", err)
		}
		var msgs []notify.Message
		if err := st.DB.Order("id").Find(&msgs).Error; err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for _, m := range msgs {
			if m.ToAddr != "compliance@hiberly.example" {
				t.Errorf("reminder to %s", m.ToAddr)
			}
			subjects = append(subjects, m.Subject)
		}
		want := "SOC 2 Type II report lapses on 2026-04-15|SOC 2 Type II report lapses on 2026-04-15|SOC 2 Type II report has lapsed"
		if strings.Join(subjects, "|") != want {
			t.Fatalf("subjects %q", subjects)
		}
		var n int64
		st.DB.Model(&audit.Event{}).Where("action = ? AND object_id = ?", "document.lapsed", d.Slug).Count(&n)
		if n != 1 {
			t.Fatalf("%d lapse events", n)
		}
		// A new version puts it back.
		if _, err := f.svc.AddVersion(f.ctx, f.by, d.Slug, document.VersionInput{Version: "2027", IssuedOn: "2026-04-20", ValidUntil: "2027-04-15"},
			document.Upload{Name: "report-2027.pdf", Body: bytes.NewReader(samplePDF(t, 2))}); err != nil {
			t.Fatal(err)
		}
		if shared, _ := f.svc.Shared(f.ctx); len(shared) != 1 || shared[0].Current.Version != "2027" {
			t.Fatalf("after the new version: %v", shared)
		}
	})
}

// TestStamp: every page of the stamped copy names its recipient, and the
// copy keeps the original's pages.
func TestStamp(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	f := setup(t, storetest.SQLite(t))
	d := f.create(t, soc2("on_request"), "")
	out, err := f.svc.StampVersion(f.ctx, d.Current, document.Stamp{Footer: "Prepared for Ana Díaz <ana@acme.example>, AT&T · PKT-7Q2M-4XKD", Diagonal: "Confidential · ana@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	for page := 1; page <= 3; page++ {
		cmd := exec.Command("pdftotext", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), "-raw", "-", "-")
		cmd.Stdin = bytes.NewReader(out)
		text, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{fmt.Sprintf("page %d", page), "Prepared for Ana Díaz <ana@acme.example>, AT&T · PKT-7Q2M-4XKD"} {
			if !strings.Contains(string(text), want) {
				t.Errorf("page %d lacks %q:\n%s", page, want, text)
			}
		}
	}
}
