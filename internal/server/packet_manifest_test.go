package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/notify/notifytest"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// openssl returns the openssl binary; the verification commands of
// docs/packets.md and docs/verify.md are what these tests run.
func openssl(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is not installed (apt-get install openssl): the published verification commands need it")
	}
	return bin
}

// A company with the characters Go escapes in JSON by default: the
// manifest is served as signed, and openssl verifies it over the bytes as
// downloaded, with the key published at /trust/signing-key.pem.
func TestPacketManifestVerifiesWithOpenSSL(t *testing.T) {
	bin := openssl(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		mb, smtp := notifytest.Start(t)
		requestPacketFor(t, e, smtp, mb, "dana@att.example", "AT&T <Labs>", "backup")
		link := approveNewest(t, e, smtp, mb, "dana@att.example", url.Values{"expiry_days": {"30"}})

		recipient := e.browser()
		if page := recipient.get(link); !strings.Contains(page.body, `href="`+link+`/manifest.sig"`) || !strings.Contains(page.body, `href="`+link+`/manifest.json"`) {
			t.Fatalf("the packet page does not link manifest.json and manifest.sig: %s", page.body)
		}
		manifest := recipient.get(link + "/manifest.json")
		sig := recipient.get(link + "/manifest.sig")
		key := e.browser().get("/trust/signing-key.pem")
		if manifest.status != http.StatusOK || sig.status != http.StatusOK || key.status != http.StatusOK {
			t.Fatalf("manifest %d, signature %d, key %d", manifest.status, sig.status, key.status)
		}
		if !strings.Contains(manifest.body, `"company":"AT&T <Labs>"`) || len(sig.body) != 64 || !strings.HasPrefix(key.body, "-----BEGIN PUBLIC KEY-----\n") {
			t.Fatalf("manifest %s, signature of %d bytes, key %q", manifest.body, len(sig.body), key.body)
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
			if sig.header.Get(h) != want {
				t.Errorf("manifest.sig %s: %q", h, sig.header.Get(h))
			}
		}
		dir := t.TempDir()
		for name, data := range map[string]string{"manifest.json": manifest.body, "manifest.sig": sig.body, "signing-key.pem": key.body,
			"changed.json": strings.Replace(manifest.body, "AT&T", "AT&X", 1)} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		verify := func(file string) ([]byte, error) {
			cmd := exec.Command(bin, "pkeyutl", "-verify", "-pubin", "-inkey", "signing-key.pem", "-rawin", "-in", file, "-sigfile", "manifest.sig")
			cmd.Dir = dir
			return cmd.CombinedOutput()
		}
		if out, err := verify("manifest.json"); err != nil || !bytes.Contains(out, []byte("Signature Verified Successfully")) {
			t.Fatalf("openssl refused the served manifest: %v %s", err, out)
		}
		if out, err := verify("changed.json"); err == nil {
			t.Fatalf("openssl accepted a changed manifest: %s", out)
		}
		// Fetching the signature is logged as the manifest is, and
		// counts against no file's limit.
		ed := e.browser().login("editor")
		if r := ed.get("/app/packets/" + signedPacketID(t, manifest.body)); !strings.Contains(r.body, "manifest.sig") {
			t.Fatal("the access log does not show manifest.sig")
		}
	})
}
