package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store"
	_ "github.com/mattn/go-sqlite3"
)

// charter runs the command line in-process and returns its exit code and output.
func charter(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// dataDir points every command at a fresh data directory.
func dataDir(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("CHARTER_DATA_DIR", dir)
	t.Setenv("CHARTER_DATABASE_URL", "")
	return dir
}

func TestVersionAndHelp(t *testing.T) {
	if code, out := charter(t, "version"); code != 0 || !strings.HasPrefix(out, "charter ") {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out := charter(t, "serve", "--help")
	if code != 0 {
		t.Fatalf("serve --help: %d", code)
	}
	for _, want := range []string{
		`--addr string`, `(default ":8080")`, "CHARTER_ADDR",
		"--data-dir", `(default "./data")`, "CHARTER_DATA_DIR",
		"--database-url", "CHARTER_DATABASE_URL",
		"--base-url", `(default "http://localhost:8080")`, "CHARTER_BASE_URL",
		"--log-level", `(default "info")`, "--log-format", `(default "json")`,
		"--trusted-proxies", "CHARTER_TRUSTED_PROXIES",
		"--session-idle-timeout", "(default 30m0s)", "--session-lifetime", "(default 12h0m0s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	if code, out := charter(t, "--help"); code != 0 || !strings.Contains(out, "audit") || !strings.Contains(out, "token") {
		t.Fatalf("--help: %d %s", code, out)
	}
}

func countEvents(t *testing.T, dir string) int {
	db, err := sql.Open("sqlite3", filepath.Join(dir, "charter.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var passwordLine = regexp.MustCompile(`password(?: \(shown once\))?:\s+(\S+)`)

func TestSeedIsIdempotentAndCreatesTheFirstAdminOnce(t *testing.T) {
	dir := dataDir(t)
	code, out := charter(t, "seed")
	if code != 0 || !strings.Contains(out, "Loaded 20 policies") || !strings.Contains(out, `"Security awareness" training course`) || !strings.Contains(out, "admin@example.com") || !passwordLine.MatchString(out) {
		t.Fatalf("first seed: %d\n%s", code, out)
	}
	events := countEvents(t, dir)
	code, out = charter(t, "seed")
	if code != 0 || strings.Contains(out, "Loaded") || strings.Contains(out, "password") {
		t.Fatalf("second seed: %d\n%s", code, out)
	}
	if n := countEvents(t, dir); n != events {
		t.Fatalf("second seed wrote %d audit events", n-events)
	}
}

func TestUsersTokensAndAuditVerify(t *testing.T) {
	dir := dataDir(t)
	if code, out := charter(t, "migrate"); code != 0 || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate: %d %s", code, out)
	}
	charter(t, "seed")
	code, out := charter(t, "user", "add", "--email", "Ed@Example.com", "--role", "editor")
	if code != 0 || !strings.Contains(out, "user ed@example.com added with role editor") || !passwordLine.MatchString(out) {
		t.Fatalf("user add: %d %s", code, out)
	}
	if code, out := charter(t, "user", "add", "--email", "x@example.com", "--role", "root"); code != 1 || !strings.Contains(out, "role") {
		t.Fatalf("bad role: %d %s", code, out)
	}
	if code, out := charter(t, "user", "add", "--email", "ed@example.com", "--role", "viewer"); code != 1 || !strings.Contains(out, "already exists") {
		t.Fatalf("duplicate user: %d %s", code, out)
	}
	code, out = charter(t, "token", "create", "--email", "ed@example.com", "--name", "HRIS sync", "--expires", "30d")
	if code != 0 || !regexp.MustCompile(`(?m)^charter_[A-Za-z0-9_-]{43}$`).MatchString(out) {
		t.Fatalf("token create: %d %s", code, out)
	}
	for _, exp := range []string{"0d", "soon", "400d"} {
		if code, out := charter(t, "token", "create", "--email", "ed@example.com", "--name", "n", "--expires", exp); code != 1 || !strings.Contains(out, "--expires") {
			t.Errorf("--expires %s: %d %s", exp, code, out)
		}
	}
	if code, out := charter(t, "token", "list", "--email", "ed@example.com"); code != 0 || !strings.Contains(out, "HRIS sync") || !strings.Contains(out, "active") {
		t.Fatalf("token list: %d %s", code, out)
	}
	if code, out := charter(t, "token", "revoke", "1"); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke: %d %s", code, out)
	}
	if code, out := charter(t, "token", "revoke", "1"); code != 1 || !strings.Contains(out, "already revoked") {
		t.Fatalf("token revoke twice: %d %s", code, out)
	}
	if code, out := charter(t, "user", "disable", "--email", "admin@example.com"); code != 1 || !strings.Contains(out, "last active admin") {
		t.Fatalf("disabling the last admin: %d %s", code, out)
	}
	if code, out := charter(t, "user", "disable", "--email", "ed@example.com"); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("user disable: %d %s", code, out)
	}
	if code, out := charter(t, "user", "list"); code != 0 || !strings.Contains(out, "disabled") || !strings.Contains(out, "admin@example.com") {
		t.Fatalf("user list: %d %s", code, out)
	}

	code, out = charter(t, "audit", "verify")
	if code != 0 || !regexp.MustCompile(`^ok: \d+ events, head [0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("audit verify: %d %q", code, out)
	}

	// Alter one row behind the application's back.
	db, err := sql.Open("sqlite3", filepath.Join(dir, "charter.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		"DROP TRIGGER audit_events_no_update",
		"UPDATE audit_events SET actor = 'someone-else' WHERE seq = 5",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	code, out = charter(t, "audit", "verify")
	if code != 1 || !strings.Contains(out, "FAILED: seq 5:") {
		t.Fatalf("tampered audit verify: %d %q", code, out)
	}
}

func TestBadSettingsAreNamed(t *testing.T) {
	dataDir(t)
	cases := map[string]string{
		"CHARTER_LOG_LEVEL":            "log-level",
		"CHARTER_BASE_URL":             "base-url",
		"CHARTER_TRUSTED_PROXIES":      "trusted-proxies",
		"CHARTER_SESSION_IDLE_TIMEOUT": "CHARTER_SESSION_IDLE_TIMEOUT",
	}
	values := map[string]string{
		"CHARTER_LOG_LEVEL": "loud", "CHARTER_BASE_URL": "ftp://x", "CHARTER_TRUSTED_PROXIES": "10.0.0.1",
		"CHARTER_SESSION_IDLE_TIMEOUT": "soon",
	}
	for env, name := range cases {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, values[env])
			code, out := charter(t, "serve")
			if code != 1 || !strings.Contains(out, name) {
				t.Fatalf("%s=%s: %d %q", env, values[env], code, out)
			}
		})
	}
	t.Run("unsafe sqlite URL", func(t *testing.T) {
		t.Setenv("CHARTER_DATABASE_URL", "sqlite://"+filepath.Join(t.TempDir(), "x.db")+"?_synchronous=OFF")
		if code, out := charter(t, "serve"); code != 1 || !strings.Contains(out, "synchronous") {
			t.Fatalf("%d %q", code, out)
		}
	})
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestServeStartsSeededAndStopsCleanly(t *testing.T) {
	dataDir(t)
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", addr, "--log-format", "text"}, io.Discard, io.Discard)
	}()
	var resp *http.Response
	var err error
	for deadline := testDeadline(t); time.Now().Before(deadline); {
		resp, err = http.Get(fmt.Sprintf("http://%s/readyz", addr))
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not come up: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz %d", resp.StatusCode)
	}
	// What make run shows: the public page with the seed's facts.
	resp, err = http.Get(fmt.Sprintf("http://%s/trust", addr))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"SOC 2 Type 1", "2023-04-01", "Charles Cook", "Hiberly Ltd.", "EU (AWS, Germany)", "US (AWS, US-West)", "Vendor Management Policy", "Zendesk"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("/trust lacks %q", want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}

// testDeadline is when a test that waits for something should give up:
// shortly before go test's own -timeout, so that a loaded machine makes a
// test slower, never failed, and a real hang still reports its cause.
func testDeadline(t *testing.T) time.Time {
	d, ok := t.Deadline()
	if !ok {
		return time.Now().Add(time.Hour)
	}
	return d.Add(-30 * time.Second)
}

func TestImportEmployees(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	writeFile(t, bad, "email,name,start_date\nana@example.com,Ana,2024-02-01\nnot-an-email,Ben,2024-02-01\n")
	writeFile(t, good, "\ufeffemail,name,start_date\nana@example.com,Ana,2024-02-01\nben@example.com,Ben,2024-02-01\n")
	code, out := charter(t, "import", "employees", bad)
	if code != 1 || !strings.Contains(out, "line 3, column email: must be an email address") || !strings.Contains(out, "nothing was imported") {
		t.Fatalf("bad file: %d %s", code, out)
	}
	if code, out := charter(t, "import", "employees", good); code != 0 || !strings.Contains(out, "2 created, 0 updated, 0 unchanged") {
		t.Fatalf("good file: %d %s", code, out)
	}
	if code, out := charter(t, "import", "employees", good); code != 0 || !strings.Contains(out, "0 created, 0 updated, 2 unchanged") {
		t.Fatalf("same file again: %d %s", code, out)
	}
	if code, out := charter(t, "import", "employees", filepath.Join(dir, "missing.csv")); code != 1 || !strings.Contains(out, "no such file") {
		t.Fatalf("missing file: %d %s", code, out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// seedTwoEmployees seeds a data directory and imports Ana and Ben, who
// have acknowledged nothing, and returns the directory.
func seedTwoEmployees(t *testing.T) string {
	t.Helper()
	dir := dataDir(t)
	charter(t, "seed")
	roster := filepath.Join(dir, "roster.csv")
	writeFile(t, roster, "email,name,start_date\nana@example.com,Ana,2024-02-01\nben@example.com,Ben,2024-02-01\n")
	if code, out := charter(t, "import", "employees", roster); code != 0 {
		t.Fatalf("import: %s", out)
	}
	return dir
}

func TestSendAckLinks(t *testing.T) {
	dir := seedTwoEmployees(t)
	code, out := charter(t, "people", "send-ack-links", "--base-url", "https://charter.example.com")
	if code != 0 || !strings.Contains(out, "2 acknowledgement link(s) queued") {
		t.Fatalf("send-ack-links: %d %s", code, out)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "charter.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var body string
	if err := db.QueryRow("SELECT body FROM outbox WHERE to_addr = 'ben@example.com'").Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "https://charter.example.com/ack/") {
		t.Fatalf("link does not use the base URL: %s", body)
	}
}

func TestImportAcknowledgements(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	roster := filepath.Join(dir, "roster.csv")
	writeFile(t, roster, "email,name,start_date\nana@example.com,Ana,2024-02-01\n")
	charter(t, "import", "employees", roster)
	acks := filepath.Join(dir, "acks.csv")
	writeFile(t, acks, "email,policy,version,acknowledged_at\nana@example.com,backup,1.0,2025-11-02\nana@example.com,backup,7.0,2025-11-02\n")
	if code, out := charter(t, "import", "acknowledgements", acks); code != 1 || !strings.Contains(out, "line 3, column version: backup has no published version 7.0") {
		t.Fatalf("bad file: %d %s", code, out)
	}
	writeFile(t, acks, "email,policy,version,acknowledged_at\nana@example.com,backup,1.0,2025-11-02\n")
	if code, out := charter(t, "import", "acknowledgements", acks); code != 0 || !strings.Contains(out, "1 recorded, 0 already recorded") {
		t.Fatalf("good file: %d %s", code, out)
	}
	if code, out := charter(t, "import", "acknowledgements", acks); code != 0 || !strings.Contains(out, "0 recorded, 1 already recorded") {
		t.Fatalf("again: %d %s", code, out)
	}
}

func TestImportTraining(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	roster := filepath.Join(dir, "roster.csv")
	writeFile(t, roster, "email,name,start_date\nana@example.com,Ana,2024-02-01\n")
	charter(t, "import", "employees", roster)
	file := filepath.Join(dir, "training.csv")
	writeFile(t, file, "email,course,completed_on\nana@example.com,Security awareness,2025-10-01\nana@example.com,Juggling,2025-10-01\n")
	if code, out := charter(t, "import", "training", file); code != 1 || !strings.Contains(out, `line 3, column course: no course is named "Juggling"`) {
		t.Fatalf("bad file: %d %s", code, out)
	}
	writeFile(t, file, "email,course,completed_on\nana@example.com,Security awareness,2025-10-01\n")
	if code, out := charter(t, "import", "training", file); code != 0 || !strings.Contains(out, "1 recorded, 0 already recorded") {
		t.Fatalf("good file: %d %s", code, out)
	}
}

func TestRemind(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	roster := filepath.Join(dir, "roster.csv")
	writeFile(t, roster, "email,name,start_date\nana@example.com,Ana,2024-02-01\n")
	charter(t, "import", "employees", roster)
	if code, out := charter(t, "people", "remind"); code != 0 || !strings.Contains(out, "1 reminder(s) queued") {
		t.Fatalf("remind: %d %s", code, out)
	}
	if code, out := charter(t, "people", "remind"); code != 0 || !strings.Contains(out, "0 reminder(s) queued") {
		t.Fatalf("remind again: %d %s", code, out)
	}
}

func TestDemoRegistersAndApplyDue(t *testing.T) {
	dataDir(t)
	if code, out := charter(t, "seed", "--demo"); code != 0 || !strings.Contains(out, "Loaded demo sub-processors and DPAs.") {
		t.Fatalf("seed --demo: %d %s", code, out)
	}
	code, out := charter(t, "subprocessors", "list")
	if code != 0 || strings.Count(out, "active") != 4 || !strings.Contains(out, "Amazon Web Services") {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out := charter(t, "subprocessors", "apply-due"); code != 0 || !strings.Contains(out, "0 sub-processor change(s) applied") {
		t.Fatalf("apply-due: %d %s", code, out)
	}
	if code, out := charter(t, "seed", "--demo"); code != 0 || strings.Contains(out, "sub-processors") {
		t.Fatalf("second seed --demo: %d %s", code, out)
	}
}

func TestKeysShowCreatesTheKeyOnce(t *testing.T) {
	dir := dataDir(t)
	code, first := charter(t, "keys", "show")
	if code != 0 || !strings.HasPrefix(first, "ed25519 ") {
		t.Fatalf("keys show: %d %s", code, first)
	}
	info, err := os.Stat(filepath.Join(dir, "packet-signing.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	if _, again := charter(t, "keys", "show"); again != first {
		t.Fatalf("the key changed: %s then %s", first, again)
	}
	if err := os.Chmod(filepath.Join(dir, "packet-signing.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := charter(t, "keys", "show"); code == 0 || !strings.Contains(out, "readable by other users") {
		t.Fatalf("a world-readable key was accepted: %d %s", code, out)
	}
}

func TestExportDataset(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	year := time.Now().UTC().Year()
	file := filepath.Join(dir, "policies.csv")
	code, out := charter(t, "export", "policies", "--from", fmt.Sprintf("%d-01-01", year), "--to", fmt.Sprintf("%d-12-31", year), "-o", file)
	if code != 0 || !strings.Contains(out, "policies: 20 rows, sha256 ") {
		t.Fatalf("export: %d %s", code, out)
	}
	data, err := os.ReadFile(file)
	// RFC 4180: the header and 20 records, each ending with CRLF.
	if err != nil || !strings.HasPrefix(string(data), "slug,title,owner_role") || strings.Count(string(data), "\r\n") != 21 || strings.Count(string(data), "\n") != 21 {
		t.Fatalf("file: %v %q", err, data)
	}
	if code, out := charter(t, "export", "salaries", "--from", "2026-01-01", "--to", "2026-12-31"); code == 0 || !strings.Contains(out, "no dataset") {
		t.Fatalf("unknown dataset: %d %s", code, out)
	}
	if code, out := charter(t, "export", "policies", "--from", "2026-12-31", "--to", "2026-01-01"); code == 0 || !strings.Contains(out, "to") {
		t.Fatalf("reversed period: %d %s", code, out)
	}
	// The audit log as the operator sees it, and as a viewer would: the
	// seed's user.created carries the admin account, which is admin data.
	period := []string{"--from", fmt.Sprintf("%d-01-01", year), "--to", fmt.Sprintf("%d-12-31", year)}
	for _, c := range []struct{ role, withheld string }{{"", ""}, {"admin", ""}, {"viewer", "after_json"}} {
		args := append([]string{"export", "audit_log", "-o", file}, period...)
		if c.role != "" {
			args = append(args, "--role", c.role)
		}
		if code, out := charter(t, args...); code != 0 {
			t.Fatalf("export audit_log as %q: %d %s", c.role, code, out)
		}
		data, _ := os.ReadFile(file)
		var created string
		for _, line := range strings.Split(string(data), "\r\n") {
			if strings.Contains(line, ",user.created,user,") {
				created = line
			}
		}
		if !strings.HasSuffix(created, ","+c.withheld) || strings.Contains(created, "@") == (c.withheld != "") {
			t.Errorf("audit_log as %q: user.created is %q, want withheld %q", c.role, created, c.withheld)
		}
	}
	if code, out := charter(t, append([]string{"export", "audit_log", "--role", "superuser"}, period...)...); code == 0 || !strings.Contains(out, "--role") {
		t.Fatalf("unknown role: %d %s", code, out)
	}
}

func TestExportBundleAndVerify(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	year := time.Now().UTC().Year()
	zipFile := filepath.Join(dir, "evidence.zip")
	code, out := charter(t, "export", "bundle", "--from", fmt.Sprintf("%d-01-01", year), "--to", fmt.Sprintf("%d-12-31", year), "-o", zipFile)
	if code != 0 || !strings.Contains(out, "evidence bundle: ") {
		t.Fatalf("export bundle: %d %s", code, out)
	}
	code, out = charter(t, "verify-bundle", zipFile)
	if code != 0 || !strings.Contains(out, "ok      datasets/acknowledgements.csv") || !strings.Contains(out, "verified: ") {
		t.Fatalf("verify-bundle: %d %s", code, out)
	}
	for _, want := range []string{"ok      audit/checkpoint.txt (signature)", "ok      audit/inclusion-proofs.json (proofs)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("verify-bundle did not check the audit log (%q): %s", want, out)
		}
	}
	_, keyLine := charter(t, "keys", "show")
	pub := strings.Fields(keyLine)[1]
	if code, _ := charter(t, "verify-bundle", "--public-key", pub, zipFile); code != 0 {
		t.Fatal("the published key does not verify the bundle")
	}
	data, _ := os.ReadFile(zipFile)
	data[len(data)/2] ^= 0xff
	bad := filepath.Join(dir, "bad.zip")
	os.WriteFile(bad, data, 0o600)
	if code, out := charter(t, "verify-bundle", bad); code == 0 || !strings.Contains(out, "FAILED") {
		t.Fatalf("a corrupted bundle verified: %d %s", code, out)
	}
}

func TestBackupAndRestoreRoundTrip(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	// The seed's logo is a stored file: the backup carries it (issue 20).
	dbURL := "sqlite://" + filepath.Join(dir, "charter.db")
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	logoSum, logo := storedLogo(t, st)
	st.Close()
	backup := filepath.Join(t.TempDir(), "nightly.db")
	if code, out := charter(t, "backup", backup); code != 0 || !strings.Contains(out, "integrity ok") {
		t.Fatalf("backup: %d %s", code, out)
	}
	if code, out := charter(t, "backup", backup); code == 0 || !strings.Contains(out, "exists") {
		t.Fatalf("backup over a file: %d %s", code, out)
	}
	// A change after the backup is undone by the restore.
	charter(t, "user", "add", "--email", "later@example.com", "--role", "viewer")
	if _, out := charter(t, "user", "list"); !strings.Contains(out, "later@example.com") {
		t.Fatal("the user was not added")
	}
	// Not while a server holds the data directory.
	lock, err := store.AcquireLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := charter(t, "restore", backup); code == 0 || !strings.Contains(out, "running charter server") {
		t.Fatalf("restore under a server: %d %s", code, out)
	}
	lock.Release()
	// A damaged backup is refused and changes nothing.
	data, _ := os.ReadFile(backup)
	bad := filepath.Join(t.TempDir(), "bad.db")
	damaged := append([]byte(nil), data...)
	for i := 8192; i < 8192+4096 && i < len(damaged); i++ {
		damaged[i] ^= 0x5a
	}
	os.WriteFile(bad, damaged, 0o600)
	if code, out := charter(t, "restore", bad); code == 0 {
		t.Fatalf("a damaged backup was restored: %s", out)
	}
	if _, out := charter(t, "user", "list"); !strings.Contains(out, "later@example.com") {
		t.Fatal("a refused restore changed the database")
	}
	code, out := charter(t, "restore", backup)
	if code != 0 || !strings.Contains(out, "audit trail ok") || !strings.Contains(out, "before-restore") {
		t.Fatalf("restore: %d %s", code, out)
	}
	if _, out := charter(t, "user", "list"); strings.Contains(out, "later@example.com") {
		t.Fatal("the restore did not take the database back")
	}
	if code, out := charter(t, "audit", "verify"); code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("audit after restore: %d %s", code, out)
	}
	// The files come back with the database, from nothing but the backup.
	if err := os.RemoveAll(filepath.Join(dir, "files")); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if sum, got := storedLogo(t, st); sum != logoSum || !bytes.Equal(got, logo) {
		t.Fatal("the restored database lacks the logo's file")
	}
}

func TestScheduledBackupsKeepTheNewest(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	cfg := config.Defaults()
	cfg.DataDir, cfg.BackupInterval, cfg.BackupKeep = dir, time.Hour, 2
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	a, err := app.New(cfg, st, app.Deps{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	job := a.BackupJob()
	for i := range 3 {
		at = at.Add(time.Duration(i+1) * time.Hour)
		if out, err := job.Do(context.Background()); err != nil {
			t.Fatalf("backup %d: %v %s", i, err, out)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "backups", "charter-*.db"))
	if len(left) != 2 || !strings.HasSuffix(left[1], "20260301T070000Z.db") {
		t.Fatalf("backups kept: %v", left)
	}
}

// On PostgreSQL both commands point to pg_dump and pg_restore without
// touching the server (none listens on this port).
func TestBackupOnPostgresPointsToPgDump(t *testing.T) {
	dataDir(t)
	t.Setenv("CHARTER_DATABASE_URL", "postgres://charter@127.0.0.1:1/charter")
	for _, args := range [][]string{{"backup", "x.db"}, {"restore", "x.db"}} {
		if code, out := charter(t, args...); code == 0 || !strings.Contains(out, "pg_dump") {
			t.Errorf("%v: %d %s", args, code, out)
		}
	}
}

func TestRemindApprovers(t *testing.T) {
	dataDir(t)
	charter(t, "seed")
	code, out := charter(t, "policies", "remind-approvers", "--approval-reminder-days", "2")
	if code != 0 || !strings.Contains(out, "0 draft(s) brought to their approvers again") {
		t.Fatalf("remind-approvers: %d %s", code, out)
	}
	if code, out := charter(t, "policies", "remind-approvers", "--approval-reminder-days", "0"); code == 0 || !strings.Contains(out, "approval-reminder-days") {
		t.Fatalf("a reminder after 0 days: %d %s", code, out)
	}
}
