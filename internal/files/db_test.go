package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// bigPDF is n bytes that pass as a PDF.
func bigPDF(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	copy(b, "%PDF-1.7\n")
	return b
}

// A file larger than a chunk comes back byte for byte, from any position,
// through a second store on the same database (another instance); storing
// it again, also from several uploads at once, changes nothing.
func TestLargeFilesRoundTripThroughTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		content := bigPDF(2<<20 + 12345)
		a, b := files.InDatabase(st.DB), files.InDatabase(st.DB)
		var wg sync.WaitGroup
		sums := make([]string, 3)
		errs := make([]error, 3)
		for i := range 3 {
			wg.Go(func() {
				f, err := a.Put(files.TrustDocument, "report.pdf", bytes.NewReader(content))
				if err == nil {
					sums[i] = f.SHA256
				}
				errs[i] = err
			})
		}
		wg.Wait()
		want := sha256.Sum256(content)
		for i := range 3 {
			if errs[i] != nil || sums[i] != hex.EncodeToString(want[:]) {
				t.Fatalf("upload %d: %s %v", i, sums[i], errs[i])
			}
		}
		r, err := b.Open(sums[0])
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, content) || r.Size() != int64(len(content)) {
			t.Fatalf("read back %d bytes of %d: %v", len(got), len(content), err)
		}
		at := int64(1<<20 - 3)
		if _, err := r.Seek(at, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 10)
		if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, content[at:at+10]) {
			t.Fatalf("read across a chunk boundary: %v", err)
		}
		var rows, chunks int64
		st.DB.Table("files").Count(&rows)
		st.DB.Table("file_chunks").Count(&chunks)
		if rows != 1 || chunks != 3 {
			t.Fatalf("%d file rows and %d chunks, want 1 and 3", rows, chunks)
		}
		if has, err := b.Has(context.Background(), sums[0]); !has || err != nil {
			t.Fatalf("Has: %v %v", has, err)
		}
		if _, err := b.Open(hex.EncodeToString(make([]byte, 32))); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a missing file: %v", err)
		}
	})
}

// Files an earlier version kept under <data dir>/files are imported once,
// checked against their names; a file whose content does not match its
// name is left out, and importing again changes nothing.
func TestImportDirTakesInTheFilesOfEarlierVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dir := filepath.Join(t.TempDir(), "files")
		write := func(name string, content []byte) string {
			sum := sha256.Sum256(content)
			if name == "" {
				name = hex.EncodeToString(sum[:])
			}
			if err := os.MkdirAll(filepath.Join(dir, name[:2]), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name[:2], name), content, 0o640); err != nil {
				t.Fatal(err)
			}
			return name
		}
		good := write("", pdf)
		large := write("", bigPDF(1<<20+1))
		corrupt := write(hex.EncodeToString(make([]byte, 32)), []byte("not what the name says"))
		if err := os.WriteFile(filepath.Join(dir, "upload-123"), []byte("interrupted"), 0o640); err != nil {
			t.Fatal(err)
		}
		s := files.InDatabase(st.DB)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		n, err := s.ImportDir(ctx, dir, log)
		if err != nil || n != 2 {
			t.Fatalf("imported %d: %v", n, err)
		}
		for _, sum := range []string{good, large} {
			r, err := s.Open(sum)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			h := sha256.Sum256(got)
			if hex.EncodeToString(h[:]) != sum {
				t.Fatalf("%s: imported content differs", sum)
			}
		}
		if has, _ := s.Has(ctx, corrupt); has {
			t.Fatal("a file whose content does not match its name was imported")
		}
		if n, err := s.ImportDir(ctx, dir, log); err != nil || n != 0 {
			t.Fatalf("second import: %d %v", n, err)
		}
		if _, err := os.Stat(filepath.Join(dir, good[:2], good)); err != nil {
			t.Fatalf("the file on disk was not left in place: %v", err)
		}
		if n, err := s.ImportDir(ctx, filepath.Join(t.TempDir(), "none"), log); err != nil || n != 0 {
			t.Fatalf("no directory: %d %v", n, err)
		}
	})
}
