package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/evidence"
)

// auditLogDocBlock is a ```sh block of the "Verifying the audit log"
// section of docs/exports.md.
var auditLogDocBlock = regexp.MustCompile("(?ms)^```sh\n(.*?)^```\n")

// The auditor's commands in docs/exports.md, run as written: every ```sh
// block of "Verifying the audit log", in order, in one bash with
// set -euo pipefail, against a served instance with a checkpoint.
func TestAuditLogVerificationDocRunsAsWritten(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl", "base64", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: the audit log's verification commands need it", tool)
		}
	}
	doc := evidence.Markdown()
	_, section, found := strings.Cut(doc, "## Verifying the audit log\n")
	if !found {
		t.Fatal("docs/exports.md has no section \"Verifying the audit log\"")
	}
	var script strings.Builder
	for _, m := range auditLogDocBlock.FindAllStringSubmatch(section, -1) {
		script.WriteString(m[1])
	}
	if !strings.Contains(script.String(), "openssl pkeyutl -verify") || !strings.Contains(script.String(), "auditcheck-bin consistency") {
		t.Fatalf("the section lost its commands:\n%s", script.String())
	}

	dataDir(t)
	if code, out := charter(t, "seed"); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	if code, out := charter(t, "user", "add", "--email", "auditor@example.com", "--role", "auditor"); code != 0 {
		t.Fatalf("user add: %s", out)
	}
	code, out := charter(t, "token", "create", "--email", "auditor@example.com", "--name", "audit log")
	apiToken := regexp.MustCompile(`(?m)^charter_[A-Za-z0-9_-]{43}$`).FindString(out)
	if code != 0 || apiToken == "" {
		t.Fatalf("token create: %d %s", code, out)
	}
	if code, out := charter(t, "audit", "checkpoint"); code != 0 {
		t.Fatalf("audit checkpoint: %s", out)
	}
	_, keyOut := charter(t, "keys", "show")
	publicKey := strings.Fields(keyOut)[1]

	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--log-format", "text"}, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	base := "http://" + addr
	for deadline := testDeadline(t); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not become ready")
		}
	}

	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script.String())
	cmd.Dir = t.TempDir()
	// golang.org/x/mod is in the module cache, as Charter builds with it,
	// and its hashes are in Charter's go.sum: no network is needed (the
	// checksum database is not reachable from every test machine), and
	// none is used.
	sums, err := os.ReadFile(filepath.Join("..", "..", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	var modSums strings.Builder
	for _, line := range strings.SplitAfter(string(sums), "\n") {
		if strings.HasPrefix(line, "golang.org/x/mod v0.42.0") {
			modSums.WriteString(line)
		}
	}
	if err := os.MkdirAll(filepath.Join(cmd.Dir, "auditcheck"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cmd.Dir, "auditcheck", "go.sum"), []byte(modSums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "BASE="+base, "API_TOKEN="+apiToken, "PUBLIC_KEY="+publicKey, "GOPROXY=off", "GOFLAGS=-mod=mod",
		"GOWORK=off", "HOME="+filepath.Join(cmd.Dir, "home"))
	if cache, err := exec.Command("go", "env", "GOMODCACHE", "GOCACHE").Output(); err == nil {
		dirs := strings.Fields(string(cache))
		cmd.Env = append(cmd.Env, "GOMODCACHE="+dirs[0], "GOCACHE="+dirs[1])
	}
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		t.Fatalf("the audit log's verification commands failed: %v\n%s", err, output.String())
	}
	for _, want := range []string{"Signature Verified Successfully", "ok: audit.checkpoint is signed by localhost:8080/audit-log",
		"ok: the event with seq 1 ", "ok: the log of "} {
		if !strings.Contains(output.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, output.String())
		}
	}
}
