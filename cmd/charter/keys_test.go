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

// runningServe starts serve in-process and waits until it is ready; stop
// ends it and returns its exit code.
func runningServe(t *testing.T) (addr string, stop func() int) {
	t.Helper()
	addr = freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--log-format", "text"}, io.Discard, &stderr)
	}()
	for deadline := testDeadline(t); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not become ready: %s", stderr.String())
		}
	}
	return addr, func() int { cancel(); return <-done }
}

func readyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Rotating a key records its fingerprint: the running instance with the
// old key stops answering ready, will not start again with it, and starts
// with the new one; the audit trail verifies throughout.
func TestKeyRotationCommands(t *testing.T) {
	dataDir(t)
	keyDir := t.TempDir()
	signing, mfa := writeKey(t, keyDir, "signing.key"), writeKey(t, keyDir, "mfa.key")
	t.Setenv("CHARTER_SIGNING_KEY_FILE", signing)
	t.Setenv("CHARTER_MFA_KEY_FILE", mfa)
	for _, c := range []struct {
		key, env, old string
		rotate        []string
		newFile       string
		want          string
	}{
		{"signing", "CHARTER_SIGNING_KEY_FILE", signing, []string{"audit", "rotate-key"}, filepath.Join(keyDir, "signing-2.key"), "new fingerprint: sha256:"},
		{"mfa", "CHARTER_MFA_KEY_FILE", mfa, []string{"keys", "rotate-mfa"}, filepath.Join(keyDir, "mfa-2.key"), "re-encrypted 0 TOTP secrets"},
	} {
		addr, stop := runningServe(t)
		code, out := charter(t, append(c.rotate, "--new-key", c.newFile)...)
		if code != 0 || !strings.Contains(out, c.want) || !strings.Contains(out, "fail /readyz") {
			t.Fatalf("%s rotation: %d %s", c.key, code, out)
		}
		if status, body := readyz(t, addr); status != http.StatusServiceUnavailable || !strings.Contains(body, `"key":"`+c.key+`"`) {
			t.Fatalf("readyz of the instance holding the old %s key: %d %s", c.key, status, body)
		}
		if code := stop(); code != 0 {
			t.Fatalf("serve exited %d", code)
		}
		if code, out := charter(t, "serve", "--addr", freePort(t)); code == 0 || !strings.Contains(out, c.env) {
			t.Fatalf("serve with the old %s key: %d %s", c.key, code, out)
		}
		t.Setenv(c.env, c.newFile)
		_, stop = runningServe(t)
		if code := stop(); code != 0 {
			t.Fatalf("serve with the new %s key exited %d", c.key, code)
		}
	}
	if code, out := charter(t, "audit", "verify"); code != 0 || strings.Contains(out, "FAILED") {
		t.Fatalf("audit verify: %d %s", code, out)
	}
}

// A command run with other keys than the recorded ones refuses too: it
// would sign bundles and checkpoints nobody can verify with the
// published key.
func TestKeyMismatchRefusesCommands(t *testing.T) {
	dataDir(t)
	keyDir := t.TempDir()
	t.Setenv("CHARTER_SIGNING_KEY_FILE", writeKey(t, keyDir, "signing.key"))
	t.Setenv("CHARTER_MFA_KEY_FILE", writeKey(t, keyDir, "mfa.key"))
	serveUntilReady(t)
	t.Setenv("CHARTER_SIGNING_KEY_FILE", writeKey(t, keyDir, "other.key"))
	if code, out := charter(t, "audit", "checkpoint"); code == 0 || !strings.Contains(out, "CHARTER_SIGNING_KEY_FILE") {
		t.Fatalf("audit checkpoint with another signing key: %d %s", code, out)
	}
}
