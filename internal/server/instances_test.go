package server_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/app/apptest"
	"github.com/charter-registry/charter/internal/server"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// Issue 20, item 2: a file uploaded through one instance downloads
// byte-identical from another instance on the same database, which has a
// data directory of its own (as a second machine does).
func TestAFileUploadedOnOneInstanceDownloadsFromAnother(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		first := newEnv(t, st)
		cfg := apptest.Config(t)
		if err := cfg.Finish(); err != nil {
			t.Fatal(err)
		}
		other, err := app.New(cfg, st, app.Deps{Now: first.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(server.Options{App: other, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		second := httptest.NewServer(srv.Handler())
		defer second.Close()

		code, dpa := first.api("editor", http.MethodPost, "/api/v1/dpas", map[string]any{"direction": "customer", "counterparty": "Acme",
			"contact_email": "legal@acme.example", "domain": "acme.example", "status": "requested"})
		if code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, dpa)
		}
		path := fmt.Sprintf("/api/v1/dpas/%v/file", dpa["id"])
		content := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("signed by both parties\n"), 100000)...) // over two chunks
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("file", "signed.pdf")
		fw.Write(content)
		w.Close()
		req, _ := http.NewRequest(http.MethodPut, first.ts.URL+path, &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+first.tokens["editor"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload on the first instance: %d", resp.StatusCode)
		}

		req, _ = http.NewRequest(http.MethodGet, second.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+first.tokens["auditor"])
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
			t.Fatalf("download from the second instance: %d, %d bytes of %d", resp.StatusCode, len(got), len(content))
		}
	})
}
