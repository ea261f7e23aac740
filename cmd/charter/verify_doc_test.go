package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/privacy"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// The OSV schema that docs/verify.md checks records against, from the Go
// module proxy (ossf/osv-schema is a Go module); the doc checks its SHA-256.
const osvSchemaModule = "github.com/ossf/osv-schema@v1.9.0"

// shBlock is a ```sh fenced block of a Markdown file.
var shBlock = regexp.MustCompile("(?ms)^```sh\n(.*?)^```\n")

// docs/verify.md, run as written: every ```sh block, in order, in one bash
// with set -euo pipefail, against a fresh instance holding one of each
// artifact, with the variables the doc declares at its top. The audit
// log's blocks build a small Go program against golang.org/x/mod, offline.
func TestVerifyDocCommands(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl", "sha256sum", "jq", "unzip", "iconv", "base64", "jsonschema", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: docs/verify.md needs it (.ci/run installs what is missing)", tool)
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "verify.md"))
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	for _, m := range shBlock.FindAllStringSubmatch(string(doc), -1) {
		script.WriteString(m[1])
	}
	if strings.Count(script.String(), "openssl pkeyutl -verify") < 5 || !strings.Contains(script.String(), "auditcheck-bin consistency") {
		t.Fatalf("docs/verify.md has too few ```sh blocks:\n%s", script.String())
	}
	schema := osvSchemaPath(t)
	goEnv := offlineGoEnv(t)
	t.Run("sqlite", func(t *testing.T) { runVerifyDoc(t, storetest.SQLiteURL(t), script.String(), schema, goEnv) })
	t.Run("postgres", func(t *testing.T) { runVerifyDoc(t, storetest.PostgresURL(t), script.String(), schema, goEnv) })
}

// modSumPrefix selects the go.sum lines of the module docs/verify.md's
// audit log program gets (the version it names).
const modSumPrefix = "golang.org/x/mod v0.42.0"

// offlineGo is what docs/verify.md's Go program needs to build with no
// network: golang.org/x/mod is in the module cache, as Charter builds with
// it, and its hashes are in Charter's go.sum (the checksum database is not
// reachable from every test machine).
type offlineGo struct {
	sums string   // the go.sum lines of golang.org/x/mod, to seed the program's module with
	env  []string // GOPROXY=off and the module and build caches of this go
}

func offlineGoEnv(t *testing.T) offlineGo {
	t.Helper()
	sums, err := os.ReadFile(filepath.Join("..", "..", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	var modSums strings.Builder
	for _, line := range strings.SplitAfter(string(sums), "\n") {
		if strings.HasPrefix(line, modSumPrefix) {
			modSums.WriteString(line)
		}
	}
	if modSums.Len() == 0 {
		t.Fatalf("go.sum has no line for %s", modSumPrefix)
	}
	cache, err := exec.Command("go", "env", "GOMODCACHE", "GOCACHE").Output()
	dirs := strings.Fields(string(cache))
	if err != nil || len(dirs) != 2 {
		t.Fatalf("go env GOMODCACHE GOCACHE: %v %q", err, cache)
	}
	return offlineGo{sums: modSums.String(),
		env: []string{"GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOMODCACHE=" + dirs[0], "GOCACHE=" + dirs[1]}}
}

// osvSchemaPath is validation/schema.json of the OSV schema module in the
// module cache, downloaded when missing.
func osvSchemaPath(t *testing.T) string {
	out, err := exec.Command("go", "mod", "download", "-json", osvSchemaModule).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v %s", osvSchemaModule, err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: %v %s", osvSchemaModule, err, out)
	}
	return filepath.Join(mod.Dir, "validation", "schema.json")
}

func runVerifyDoc(t *testing.T, databaseURL, script, osvSchema string, goEnv offlineGo) {
	dir := dataDir(t)
	t.Setenv("CHARTER_DATABASE_URL", databaseURL)
	if code, out := charter(t, "seed"); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	if code, out := charter(t, "user", "add", "--email", "auditor@example.com", "--role", "auditor"); code != 0 {
		t.Fatalf("user add: %s", out)
	}
	auditorToken := cliToken(t, "auditor@example.com")
	adminToken := cliToken(t, "admin@example.com")
	_, keyOut := charter(t, "keys", "show")
	publicKey := strings.Fields(keyOut)[1]

	// A packet and a countersigned DPA, made the way a customer makes
	// them (the links read from the outbox), before the server starts.
	packetLink, dpaID, dpaSignature := customerArtifacts(t, dir, databaseURL)
	// A checkpoint the auditor kept, signed before the events to come (the
	// advisories, the exports), so that the doc proves a log that grew.
	work := t.TempDir()
	var kept, keptErr bytes.Buffer
	if code := run(context.Background(), []string{"audit", "checkpoint"}, &kept, &keptErr); code != 0 {
		t.Fatalf("audit checkpoint: %s%s", kept.String(), keptErr.String())
	}
	oldCheckpoint := filepath.Join(work, "kept.checkpoint")
	if err := os.WriteFile(oldCheckpoint, kept.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

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
	waitReady(t, base)
	// Two published advisories, one with a CVE, and a draft.
	for i, a := range []map[string]any{
		{"title": "Stored XSS in dashboard names", "date": "2026-03-08", "cve": "CVE-2026-12345", "severity": "critical", "status": "fixed",
			"description": "A dashboard name could carry a **script**.", "affected_regions": "EU", "resolution": "Names are escaped.",
			"fix_links": "https://github.com/example/repo/pull/1", "fixed_on": "2026-03-07", "declare_incident": map[string]any{"title": "Dashboard XSS", "severity": "critical"}},
		{"title": "Session fixation", "date": "2026-04-02", "severity": "low", "status": "resolved", "description": "Sessions were kept at sign-in.",
			"affected_regions": "both", "fixed_on": "2026-04-01", "declare_incident": map[string]any{"title": "Sessions", "severity": "low"}},
		{"title": "Not yet public", "date": "2026-05-01", "severity": "high", "status": "reported", "description": "Draft.",
			"affected_regions": "US", "declare_incident": map[string]any{"title": "Draft", "severity": "high"}},
	} {
		created := apiJSON(t, base, adminToken, http.MethodPost, "/api/v1/advisories", a, http.StatusCreated)
		if i < 2 {
			apiJSON(t, base, adminToken, http.MethodPost, "/api/v1/advisories/"+created["id"].(string)+"/publish", nil, http.StatusOK)
		}
	}

	year := time.Now().UTC().Year()
	// The Go program's module starts with the go.sum lines of
	// golang.org/x/mod, so that `go get` needs no network (GOPROXY=off).
	if err := os.MkdirAll(filepath.Join(work, "auditcheck"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "auditcheck", "go.sum"), []byte(goEnv.sums), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "BASE="+base, "PUBLIC_KEY="+publicKey, "TOKEN="+strings.TrimPrefix(packetLink, "/p/"),
		"API_TOKEN="+auditorToken, fmt.Sprintf("FROM=%d-01-01", year), fmt.Sprintf("TO=%d-12-31", year),
		fmt.Sprintf("DPA_ID=%d", dpaID), "DPA_SIGNATURE="+dpaSignature, "OSV_SCHEMA="+osvSchema, "DATE="+time.Now().UTC().Format(time.DateOnly), "OLD_CHECKPOINT="+oldCheckpoint,
		"HOME="+filepath.Join(work, "home"))
	cmd.Env = append(cmd.Env, goEnv.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("docs/verify.md's commands failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Signature Verified Successfully", "packet.pdf: OK", "x_POSTHOG-SA-2026-0001: valid OSV", "x_POSTHOG-SA-2026-0002: valid OSV",
		"ok: audit.checkpoint is signed by ", "ok: bundle/audit/checkpoint.txt is signed by ", "ok: the event with seq 1 ", "ok: the log of "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "Signature Verified Successfully"); n != 6 || strings.Contains(out.String(), "x_POSTHOG-SA-2026-0003") {
		t.Errorf("%d signatures verified (want the packet's, the DPA's, the promises snapshot's, the bundle's manifest and checkpoint, the newest checkpoint), or the draft was listed:\n%s", n, out.String())
	}
	// The kept checkpoint is older than the newest: the consistency proof
	// spans events added since, not just a tree of the same size.
	if m := regexp.MustCompile(`ok: the log of (\d+) events extends the log of (\d+)`).FindAllStringSubmatch(out.String(), -1); len(m) != 2 || m[0][1] == m[0][2] {
		t.Errorf("want two consistency proofs, the first from the kept checkpoint to a larger log: %q\n%s", m, out.String())
	}
}

// cliToken creates an API token for email with the command line.
func cliToken(t *testing.T, email string) string {
	t.Helper()
	code, out := charter(t, "token", "create", "--email", email, "--name", "verify")
	token := regexp.MustCompile(`(?m)^charter_[A-Za-z0-9_-]{43}$`).FindString(out)
	if code != 0 || token == "" {
		t.Fatalf("token create: %d %s", code, out)
	}
	return token
}

// customerArtifacts issues a packet (NDA accepted) and has a customer sign
// and confirm the standard DPA, through the services; it returns the
// packet's link, the DPA's register entry and its signature.
func customerArtifacts(t *testing.T, dir, databaseURL string) (string, int64, string) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir, cfg.DatabaseURL = dir, databaseURL
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := app.New(cfg, st, app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	link := packettest.Issue(t, a.Packets, st.DB, "dana@customer.example")
	visitor := audit.Actor{Label: "public", IP: "203.0.113.9"}
	if _, err := a.Privacy.RequestSignature(ctx, visitor, privacy.SignatureInput{Version: "1", SignerName: "Dana Reyes", SignerTitle: "General Counsel",
		Company: "AT&T <Labs>", Email: "dana@att.example", DataRegion: "EU (AWS, Germany)",
		TransferMechanism: "EU Standard Contractual Clauses (SCCs) for transfers from the UK, EU or EEA to the US-West environment",
		SCCModule:         "2", Authority: true}); err != nil {
		t.Fatal(err)
	}
	var m notify.Message
	if err := st.DB.Where("to_addr = ?", "dana@att.example").Order("id DESC").Take(&m).Error; err != nil {
		t.Fatal(err)
	}
	confirm := regexp.MustCompile(`/trust/dpa/sign/confirm/([A-Za-z0-9_-]{43})`).FindStringSubmatch(m.Body)
	if confirm == nil {
		t.Fatalf("no confirmation link in %q", m.Body)
	}
	sig, dpa, err := a.Privacy.ConfirmSignature(ctx, visitor, confirm[1])
	if err != nil {
		t.Fatal(err)
	}
	return link, dpa.ID, sig.PDFSignature
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for deadline := testDeadline(t); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("the server did not become ready")
}

// apiJSON makes an API request and returns its JSON answer, failing on
// any status other than want.
func apiJSON(t *testing.T, base, token, method, path string, body any, want int) map[string]any {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, in)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}
