// Package files is Charter's one store for uploaded files (training
// certificates now; signed DPAs and reports later): kept under the data
// directory, named by their SHA-256, checked by content and extension, and
// size-limited per kind. A file is fsynced before its name is used, so a
// record never points at a file that a crash lost.
package files

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// Store keeps files in a directory.
type Store struct{ dir string }

// New returns a store in dir, created if missing.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	return &Store{dir: dir}, nil
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Store) path(sum string) string { return filepath.Join(s.dir, sum[:2], sum) }

// Put checks and stores an upload of the given kind. Errors: Invalid,
// naming the field "file", for a file too large, empty, of a type not
// accepted, or whose content does not match its extension.
func (s *Store) Put(kind Kind, name string, r io.Reader) (*File, error) {
	tmp, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // after the rename this is a no-op
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
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	final := s.path(sum)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return nil, err
	}
	return &File{SHA256: sum, Size: n, ContentType: ctype, Name: cleanName(name)}, nil
}

// Open returns a stored file. Errors: NotFound.
func (s *Store) Open(sum string) (*os.File, error) {
	if !shaPattern.MatchString(sum) {
		return nil, apperr.New(apperr.NotFound, "no such file")
	}
	f, err := os.Open(s.path(sum))
	if errors.Is(err, os.ErrNotExist) {
		return nil, apperr.New(apperr.NotFound, "no such file")
	}
	return f, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
