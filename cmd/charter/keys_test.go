package main

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeKey writes a random 32-byte key (an Ed25519 seed or an MFA key,
// the same size) with mode 0600 and returns its path.
func writeKey(t *testing.T, dir, name string) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, k, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveUntilReady runs serve in-process until it answers /readyz, then
// stops it; it fails the test when serve exits first.
func serveUntilReady(t *testing.T) {
	t.Helper()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--log-format", "text"}, io.Discard, &stderr)
	}()
	for deadline := testDeadline(t); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited %d before it was ready: %s", code, stderr.String())
		default:
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
}

// An instance given other keys than the ones the database was set up with
// refuses to start, naming the key and the setting that fixes it.
func TestKeySettingsAndRefusalOfOtherKeys(t *testing.T) {
	dataDir(t)
	keyDir := t.TempDir()
	signing, mfa := writeKey(t, keyDir, "signing.key"), writeKey(t, keyDir, "mfa.key")
	otherSigning, otherMFA := writeKey(t, keyDir, "other-signing.key"), writeKey(t, keyDir, "other-mfa.key")
	t.Setenv("CHARTER_SIGNING_KEY_FILE", signing)
	t.Setenv("CHARTER_MFA_KEY_FILE", mfa)
	serveUntilReady(t)
	code, shown := charter(t, "keys", "show")
	if code != 0 || !strings.Contains(shown, signing) {
		t.Fatalf("keys show with the setting: %d %s", code, shown)
	}

	for _, c := range []struct{ name, signing, mfa, want string }{
		{"another signing key", otherSigning, mfa, "the signing key (packets, evidence bundles and audit checkpoints) " + otherSigning},
		{"another MFA key", signing, otherMFA, "the MFA key (it encrypts the TOTP secrets) " + otherMFA},
	} {
		t.Setenv("CHARTER_SIGNING_KEY_FILE", c.signing)
		t.Setenv("CHARTER_MFA_KEY_FILE", c.mfa)
		code, out := charter(t, "serve", "--addr", freePort(t))
		if code == 0 || !strings.Contains(out, c.want) || !strings.Contains(out, "differs from the one this database was set up with") {
			t.Fatalf("%s: serve exited %d: %s", c.name, code, out)
		}
	}
	// A key file named by a setting is never made: each instance making
	// its own is the divergence the setting exists to prevent.
	t.Setenv("CHARTER_SIGNING_KEY_FILE", filepath.Join(keyDir, "missing.key"))
	t.Setenv("CHARTER_MFA_KEY_FILE", mfa)
	if code, out := charter(t, "serve", "--addr", freePort(t)); code == 0 || !strings.Contains(out, "does not exist") {
		t.Fatalf("a missing key file: %d %s", code, out)
	}
	// Back to the right keys: it starts.
	t.Setenv("CHARTER_SIGNING_KEY_FILE", signing)
	serveUntilReady(t)
}
