package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// ImportedKind is the kind recorded for files imported from the directory
// where Charter kept uploads before they moved into the database: their
// kind was checked at upload and not recorded.
const ImportedKind = "imported from disk"

// ImportDir copies into the store the files that earlier versions kept
// under dir (<data dir>/files: dir/ab/abcd…, named by SHA-256). Each is
// hashed and imported only when its content matches its name; one that
// does not is logged and left out, as a record pointing at it would
// serve the wrong bytes. Files already stored are skipped, so importing
// again (at every start, or on each instance with its own directory) is
// harmless. The files on disk are left in place: they are the operator's
// to delete once every instance has started on this version.
func (s *Store) ImportDir(ctx context.Context, dir string, log *slog.Logger) (imported int, err error) {
	var skipped int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		sum := d.Name()
		if !shaPattern.MatchString(sum) || filepath.Base(filepath.Dir(path)) != sum[:2] {
			return nil // an interrupted upload's temporary file, or not ours
		}
		if has, err := s.backend.Has(ctx, sum); err != nil || has {
			return err
		}
		if err := s.importFile(ctx, path, sum); err != nil {
			if errors.Is(err, errWrongContent) {
				log.Error("not importing a stored file whose content does not match its name", "path", path, "error", err)
				skipped++
				return nil
			}
			return fmt.Errorf("importing %s: %w", path, err)
		}
		imported++
		return nil
	})
	if imported > 0 || skipped > 0 {
		log.Info("imported uploaded files from disk into the database", "dir", dir, "imported", imported, "skipped", skipped)
	}
	return imported, err
}

var errWrongContent = errors.New("content does not match the file's SHA-256")

func (s *Store) importFile(ctx context.Context, path, sum string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(h, &limitedBuffer{&head, 512}), f)
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%w: it hashes to %s", errWrongContent, got)
	}
	ctype, _, _ := strings.Cut(http.DetectContentType(head.Bytes()), ";")
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return s.backend.Write(ctx, File{SHA256: sum, Size: n, ContentType: ctype}, ImportedKind, f)
}
