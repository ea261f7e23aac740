package files_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

var (
	pdf = []byte("%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
	png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
)

func TestPutChecksContentSizeAndName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { putChecksContentSizeAndName(t, files.InDatabase(st.DB)) })
}

func putChecksContentSizeAndName(t *testing.T, s *files.Store) {
	f, err := s.Put(files.Certificate, "Security Awareness 2025.PDF", bytes.NewReader(pdf))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdf)
	if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(pdf)) || f.ContentType != "application/pdf" || f.Name != "Security Awareness 2025.PDF" {
		t.Fatalf("stored: %+v", f)
	}
	r, err := s.Open(f.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, pdf) {
		t.Fatal("content changed")
	}
	if _, err := s.Put(files.Certificate, "again.pdf", bytes.NewReader(pdf)); err != nil {
		t.Fatalf("same content twice: %v", err)
	}
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty.pdf", nil, "empty"},
		{"script.pdf", []byte("<html><script>alert(1)</script></html>"), "must be one of"},
		{"image.pdf", png, "content is image/png"},
		{"doc.exe", pdf, `name ends in ".exe"`},
		{"big.pdf", append(append([]byte{}, pdf...), bytes.Repeat([]byte("x"), 10<<20)...), "larger than 10 MB"},
	}
	for _, c := range cases {
		_, err := s.Put(files.Certificate, c.name, bytes.NewReader(c.content))
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.Invalid || !strings.Contains(e.Fields["file"], c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, bad := range []string{"../../etc/passwd", strings.Repeat("a", 64), ""} {
		if _, err := s.Open(bad); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("Open(%q): %v", bad, err)
		}
	}
	if f, _ := s.Put(files.Certificate, `..\..\evil"name.png`, bytes.NewReader(png)); f == nil || strings.ContainsAny(f.Name, `\/"`) {
		t.Fatalf("name not cleaned: %+v", f)
	}
}
