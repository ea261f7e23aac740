package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary as a separate process, the way an
// operator does, so that signals, restarts and system calls are real.

// buildCharter builds the binary once per test (the build cache makes the
// second build a link).
func buildCharter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "charter")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binaryEnv is the environment of a charter process using dataDir, without
// the CHARTER_* variables of the test's own environment.
func binaryEnv(dataDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHARTER_") {
			env = append(env, kv)
		}
	}
	return append(env, "CHARTER_DATA_DIR="+dataDir, "CHARTER_LOG_FORMAT=text", "CHARTER_REMINDERS=false")
}

// runBinary runs a one-off command of the binary and returns its output.
func runBinary(t *testing.T, bin, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = binaryEnv(dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("charter %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// seededWithToken seeds a data directory and returns an admin API token.
func seededWithToken(t *testing.T, bin, dataDir string) string {
	t.Helper()
	runBinary(t, bin, dataDir, "seed")
	out := runBinary(t, bin, dataDir, "token", "create", "--email", "admin@example.com", "--name", "proof")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "charter_") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("no token in %q", out)
	return ""
}

// charterProcess is a running charter server and what it has logged.
type charterProcess struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startServer starts `charter serve` (behind wrapper, such as strace, when
// given) in its own process group and waits until it is ready.
func startServer(t *testing.T, bin, dataDir, addr string, wrapper ...string) *charterProcess {
	t.Helper()
	return startServerEnv(t, binaryEnv(dataDir), bin, addr, wrapper...)
}

// startServerEnv is startServer with the process's whole environment given.
func startServerEnv(t *testing.T, env []string, bin, addr string, wrapper ...string) *charterProcess {
	t.Helper()
	args := append(append([]string{}, wrapper...), bin, "serve", "--addr", addr)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := testDeadline(t); time.Now().Before(deadline); {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &charterProcess{cmd: cmd, logs: &logs}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
	t.Fatalf("server did not become ready:\n%s", logs.String())
	return nil
}

// stopServer signals the whole process group and waits for it to exit.
func stopServer(t *testing.T, srv *charterProcess, sig syscall.Signal) {
	t.Helper()
	_ = syscall.Kill(-srv.cmd.Process.Pid, sig)
	_ = srv.cmd.Wait()
}

// errorLines returns up to max of the lines the server logged at ERROR.
func (p *charterProcess) errorLines(max int) []string {
	var lines []string
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") && len(lines) < max {
			lines = append(lines, line)
		}
	}
	return lines
}

// jsonRequest is an API request with a bearer token and a JSON body.
func jsonRequest(method, url, token, body string) *http.Request {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// putEmployee upserts an employee through the API and returns the status.
func putEmployee(client *http.Client, addr, token, email, name string) (int, error) {
	body := fmt.Sprintf(`{"name":%q,"start_date":"2026-01-05","department":"Proof"}`, name)
	resp, err := client.Do(jsonRequest(http.MethodPut, "http://"+addr+"/api/v1/employees/"+email, token, body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// The durability probe: under strace, N more acknowledged writes make at
// least N more fsync/fdatasync calls, evidence that synchronous=FULL is
// really in effect.
func TestDurabilityProbeFsyncsEveryAcknowledgedWrite(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CHARTER_REQUIRE_STRACE") != "" {
			t.Fatal("strace is required (CHARTER_REQUIRE_STRACE) but not installed")
		}
		t.Skip("strace is not installed")
	}
	bin := buildCharter(t)
	dir := t.TempDir()
	token := seededWithToken(t, bin, dir)
	const writes = 40
	syncsDuring := func(n int) int {
		out := filepath.Join(t.TempDir(), "strace.txt")
		addr := freePort(t)
		srv := startServer(t, bin, dir, addr, strace, "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", out)
		for i := range n {
			status, err := putEmployee(http.DefaultClient, addr, token, fmt.Sprintf("probe-%d-%d@example.com", n, i), "Probe")
			if err != nil || status != http.StatusCreated {
				t.Fatalf("write %d: %d %v", i, status, err)
			}
		}
		stopServer(t, srv, syscall.SIGTERM)
		return countSyncCalls(t, out)
	}
	// The first start runs the day's scheduled jobs, which write; after it
	// they are claimed for today. A job the warm-up left unfinished runs at
	// the next start, so the larger burst goes first: leftover work can
	// only add to it, never make the probe fail on a loaded machine.
	warmUp := startServer(t, bin, dir, freePort(t))
	waitForJobRuns(t, dir)
	stopServer(t, warmUp, syscall.SIGTERM)
	large, small := syncsDuring(2*writes), syncsDuring(writes)
	t.Logf("fsync+fdatasync: %d with %d writes, %d with %d writes", large, 2*writes, small, writes)
	if large-small < writes {
		t.Fatalf("%d more writes made only %d more sync calls (%d vs %d): commits are not synced", writes, large-small, large, small)
	}
}

// waitForJobRuns waits until the scheduler has finished its first round.
func waitForJobRuns(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "charter.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := testDeadline(t); time.Now().Before(deadline); {
		var running, total int
		db.QueryRow("SELECT COUNT(*) FILTER (WHERE finished_at IS NULL), COUNT(*) FROM job_runs").Scan(&running, &total)
		if total > 0 && running == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the scheduled jobs did not run")
}

// countSyncCalls reads the fsync and fdatasync call counts of a strace -c
// summary (a table that is empty when no call was made).
func countSyncCalls(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		if name := fields[len(fields)-1]; name == "fsync" || name == "fdatasync" {
			n, err := strconv.Atoi(fields[3])
			if err != nil {
				t.Fatalf("strace summary line %q: %v", sc.Text(), err)
			}
			total += n
		}
	}
	return total
}
