package main

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
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/store"
)

// mainSchemaVersion is the schema of the versions that kept uploads under
// <data dir>/files, before they moved into the database (issue 20).
const mainSchemaVersion = 24

// storedLogo returns the organization's logo SHA-256 and bytes.
func storedLogo(t *testing.T, st *store.Store) (string, []byte) {
	t.Helper()
	var sum string
	if err := st.DB.Table("organizations").Select("logo_sha256").Where("logo_sha256 <> ''").Take(&sum).Error; err != nil {
		t.Fatalf("no logo recorded: %v", err)
	}
	r, err := files.InDatabase(st.DB).Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return sum, b
}

// Issue 20, item 2: a data directory as the earlier versions left it
// (schema 24, uploads on disk under files/, records naming them by
// SHA-256) serves its files after the upgrade, from the database.
func TestUpgradeImportsFilesFromDisk(t *testing.T) {
	dir := dataDir(t)
	ctx := context.Background()
	if code, out := charter(t, "seed"); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	// Make it what the earlier version left: the logo on disk where it
	// kept uploads, and the schema before the files table.
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "charter.db"))
	if err != nil {
		t.Fatal(err)
	}
	sum, logo := storedLogo(t, st)
	onDisk := filepath.Join(dir, "files", sum[:2], sum)
	if err := os.MkdirAll(filepath.Dir(onDisk), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(onDisk, logo, 0o640); err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, st.SQL, st.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, mainSchemaVersion); err != nil {
		t.Fatal(err)
	}
	if v, _ := p.GetDBVersion(ctx); v != mainSchemaVersion {
		t.Fatalf("schema %d, want %d", v, mainSchemaVersion)
	}
	st.Close()

	addr := freePort(t)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{"serve", "--addr", addr, "--log-format", "text"}, io.Discard, io.Discard)
	}()
	var resp *http.Response
	for deadline := testDeadline(t); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = http.Get(fmt.Sprintf("http://%s/trust/logo", addr)); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("server did not come up: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := sha256.Sum256(got)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, logo) || hex.EncodeToString(h[:]) != sum {
		t.Fatalf("logo after the upgrade: %d, %d bytes", resp.StatusCode, len(got))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	// In the database now, and still on disk for the operator to remove.
	st, err = store.Open(ctx, "sqlite://"+filepath.Join(dir, "charter.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var kind string
	st.DB.Table("files").Select("kind").Where("sha256 = ?", sum).Take(&kind)
	if kind != files.ImportedKind {
		t.Fatalf("the logo's row: kind %q, want %q", kind, files.ImportedKind)
	}
	if _, err := os.Stat(onDisk); err != nil {
		t.Fatalf("the file on disk: %v", err)
	}
}
