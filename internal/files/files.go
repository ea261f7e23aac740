// Package files is Charter's one store for uploaded files (training
// certificates, signed DPAs, trust documents, logos, privacy-request
// responses): content-addressed by SHA-256, checked by content and
// extension, size-limited per kind, and kept in the database (db.go), so
// every instance sharing a database, and every backup of it, has every
// file. The content lives behind Backend, which an S3-compatible store
// could implement too.
package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
)

// Kind is a class of upload with its limits.
type Kind struct {
	Name     string
	MaxBytes int64
	// Types maps each accepted content type to its file extensions.
	Types map[string][]string
}

// Certificate is a training certificate: PDF, PNG or JPEG up to 10 MB.
var Certificate = Kind{Name: "certificate", MaxBytes: 10 << 20, Types: map[string][]string{
	"application/pdf": {".pdf"}, "image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg"},
}}

// TrustDocument is a document of the trust documents register: a PDF up
// to 25 MB (a SOC 2 report runs to a few hundred pages).
var TrustDocument = Kind{Name: "trust document", MaxBytes: 25 << 20, Types: map[string][]string{"application/pdf": {".pdf"}}}

// File describes a stored file.
type File struct {
	SHA256      string
	Size        int64
	ContentType string
	Name        string // the uploader's file name, cleaned, for downloads
}

// Backend keeps checked content by its SHA-256.
type Backend interface {
	// Has reports whether content with this SHA-256 is stored.
	Has(ctx context.Context, sum string) (bool, error)
	// Write stores f's content, read from content, durably before it
	// returns; content already stored (also by a concurrent Write) is
	// left as it is.
	Write(ctx context.Context, f File, kind string, content io.Reader) error
	// Open returns stored content, or an error that Is apperr.NotFound.
	Open(ctx context.Context, sum string) (Content, error)
}

// Content is a stored file being read.
type Content interface {
	io.ReadSeekCloser
	Size() int64
}

// Store checks uploads and keeps them in a Backend.
type Store struct{ backend Backend }

// New returns a store keeping content in backend.
func New(backend Backend) *Store { return &Store{backend: backend} }

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Put checks and stores an upload of the given kind; storing content that
// is already there changes nothing. The upload is spooled to a temporary
// file (in $TMPDIR) while it is hashed and checked, so a large one is
// never held whole in memory. Errors: Invalid, naming the field "file",
// for a file too large, empty, of a type not accepted, or whose content
// does not match its extension.
func (s *Store) Put(kind Kind, name string, r io.Reader) (*File, error) {
	ctx := context.Background()
	tmp, err := os.CreateTemp("", "charter-upload-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(tmp, h, &limitedBuffer{&head, 512}), io.LimitReader(r, kind.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	switch {
	case n == 0:
		return nil, apperr.Field("file", "is empty")
	case n > kind.MaxBytes:
		return nil, apperr.Field("file", fmt.Sprintf("is larger than %d MB", kind.MaxBytes>>20))
	}
	ctype, _, _ := strings.Cut(http.DetectContentType(head.Bytes()), ";")
	exts, ok := kind.Types[ctype]
	if !ok {
		return nil, apperr.Field("file", "must be one of: "+acceptedNames(kind))
	}
	ext := strings.ToLower(filepath.Ext(name))
	if !slices.Contains(exts, ext) {
		return nil, apperr.Field("file", fmt.Sprintf("content is %s but the name ends in %q", ctype, ext))
	}
	f := &File{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, ContentType: ctype, Name: cleanName(name)}
	if err := s.write(ctx, *f, kind.Name, tmp); err != nil {
		return nil, err
	}
	return f, nil
}

// write stores f from the spooled file unless the backend has it already.
func (s *Store) write(ctx context.Context, f File, kind string, spooled *os.File) error {
	if has, err := s.backend.Has(ctx, f.SHA256); err != nil || has {
		return err
	}
	if _, err := spooled.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := s.backend.Write(ctx, f, kind, spooled); err != nil {
		return fmt.Errorf("storing file %s: %w", f.SHA256, err)
	}
	return nil
}

// Open returns a stored file. Errors: NotFound.
func (s *Store) Open(sum string) (Content, error) {
	if !shaPattern.MatchString(sum) {
		return nil, apperr.New(apperr.NotFound, "no such file")
	}
	return s.backend.Open(context.Background(), sum)
}

// Has reports whether a file with this SHA-256 is stored.
func (s *Store) Has(ctx context.Context, sum string) (bool, error) {
	if !shaPattern.MatchString(sum) {
		return false, nil
	}
	return s.backend.Has(ctx, sum)
}

// cleanName keeps a download name to safe characters.
func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	clean := strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '/' || r == '\\' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	if len(clean) > 120 {
		clean = clean[len(clean)-120:]
	}
	return clean
}

func acceptedNames(k Kind) string {
	var out []string
	for _, exts := range k.Types {
		out = append(out, strings.TrimPrefix(strings.ToUpper(exts[0]), "."))
	}
	return strings.Join(out, ", ")
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
