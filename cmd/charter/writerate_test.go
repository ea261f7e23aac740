package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// The confirmed-write rate (make bench; issues 20 and 22): 16 clients send
// PUT /api/v1/employees/{email} with an editor's API token, each request
// counted only when it answers 2xx, against (a) one instance on SQLite and
// (b) two instances on one PostgreSQL database, the clients split between
// them. Each run measures its reference right after: on SQLite 16 writer
// goroutines committing one small row per transaction on a bare file
// beside the instance's (WAL, synchronous=FULL, same driver and disk), on
// PostgreSQL one writer on the same server. Three runs; one BENCHROW line
// per row gives min, median and max of the rates and of the per-run
// ratios. Loopback only; each run is bounded in time
// (CHARTER_WRITE_RATE_SECONDS, default 10) and in requests (20,000).
//
// Run by make bench (CHARTER_WRITE_RATE=1); the PostgreSQL row needs
// CHARTER_TEST_POSTGRES_URL and is skipped without it. Nothing is asserted
// about the rates: a failed write fails the test.
func TestWriteRate(t *testing.T) {
	if os.Getenv("CHARTER_WRITE_RATE") == "" {
		t.Skip("run by make bench (CHARTER_WRITE_RATE=1)")
	}
	seconds := envInt(t, "CHARTER_WRITE_RATE_SECONDS", 10)
	duration := time.Duration(seconds) * time.Second
	const runs, clients, maxRequests = 3, 16, 20000
	bin := buildCharter(t)
	fmt.Printf("write rate: %d clients, PUT /api/v1/employees/{email}, %d runs of %s (at most %d requests each)\n",
		clients, runs, duration, maxRequests)

	// (a) One instance on SQLite.
	{
		dir := t.TempDir()
		env := binaryEnv(dir)
		token := editorToken(t, bin, env)
		addr := freePort(t)
		srv := startServerEnv(t, env, bin, addr)
		var rates, refs []float64
		for run := range runs {
			rates = append(rates, confirmedWriteRate(t, []string{addr}, token, fmt.Sprintf("s%d", run), clients, duration, maxRequests, srv))
			// Beside the instance's database: the same disk.
			refs = append(refs, rawSQLiteCommitRate(t, filepath.Join(dir, fmt.Sprintf("reference-%d.db", run)), clients, 3*time.Second))
		}
		stopServer(t, srv, syscall.SIGTERM)
		printBenchRow(fmt.Sprintf("confirmed HTTP writes, %d clients, SQLite, 1 instance (ref: raw SQLite, %d writer goroutines, 1 row/tx, WAL + FULL)", clients, clients),
			"writes/s", rates, "commits/s", refs, "≥ 0.5")
	}

	// (b) Two instances on one PostgreSQL database.
	if os.Getenv(storetest.PostgresEnv) == "" {
		fmt.Printf("write rate: %s is not set: skipping the PostgreSQL row (two instances)\n", storetest.PostgresEnv)
		return
	}
	dbURL := storetest.PostgresURL(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	envA := append(binaryEnv(dirA), "CHARTER_DATABASE_URL="+dbURL)
	envB := append(binaryEnv(dirB), "CHARTER_DATABASE_URL="+dbURL)
	token := editorToken(t, bin, envA)
	addrA, addrB := freePort(t), freePort(t)
	srvA := startServerEnv(t, envA, bin, addrA)
	// The second instance shares the first one's keys, as a deployment's
	// instances must.
	for _, name := range []string{packet.KeyFile, auth.MFAKeyFile} {
		if b, err := os.ReadFile(filepath.Join(dirA, name)); err == nil {
			if err := os.WriteFile(filepath.Join(dirB, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	srvB := startServerEnv(t, envB, bin, addrB)
	var rates, refs []float64
	for run := range runs {
		rates = append(rates, confirmedWriteRate(t, []string{addrA, addrB}, token, fmt.Sprintf("p%d", run), clients, duration, maxRequests, srvA, srvB))
		refs = append(refs, rawPostgresCommitRate(t, dbURL, 3*time.Second))
	}
	stopServer(t, srvA, syscall.SIGTERM)
	stopServer(t, srvB, syscall.SIGTERM)
	printBenchRow(fmt.Sprintf("confirmed HTTP writes, %d clients, PostgreSQL, 2 instances (ref: bare PostgreSQL commits, 1 writer)", clients),
		"writes/s", rates, "commits/s", refs, "-")
}

// printBenchRow prints one row in make bench's format: min / median / max
// of the subject's runs, of the references measured in the same runs, and
// of the per-run ratios.
func printBenchRow(name, unit string, subject []float64, refUnit string, ref []float64, goal string) {
	ratios := make([]float64, len(subject))
	for i := range subject {
		ratios[i] = subject[i] / ref[i]
	}
	spread := func(v []float64, format string) string {
		v = slices.Sorted(slices.Values(v))
		return fmt.Sprintf(format+" / "+format+" / "+format, v[0], v[len(v)/2], v[len(v)-1])
	}
	fmt.Printf("BENCHROW | %s | %s %s | ref %s %s | ratio %s | goal %s\n",
		name, spread(subject, "%.0f"), unit, spread(ref, "%.0f"), refUnit, spread(ratios, "%.2f"), goal)
}

// editorToken seeds the database of env, adds an editor and returns an API
// token acting as that editor.
func editorToken(t *testing.T, bin string, env []string) string {
	t.Helper()
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("charter %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("seed")
	run("user", "add", "--email", "writer@example.com", "--role", "editor", "--name", "Writer")
	out := run("token", "create", "--email", "writer@example.com", "--name", "write rate")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "charter_") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("no token in %q", out)
	return ""
}

// confirmedWriteRate runs clients writers for d or until maxRequests were
// sent, client i talking to addrs[i%len(addrs)], and returns the 2xx
// answers per second. Any other answer fails t.
func confirmedWriteRate(t *testing.T, addrs []string, token, prefix string, clients int, d time.Duration, maxRequests int64, servers ...*charterProcess) float64 {
	t.Helper()
	var sent, ok, failed atomic.Int64
	var mu sync.Mutex
	var firstProblem string
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := addrs[c%len(addrs)]
			for seq := 0; time.Now().Before(deadline) && sent.Add(1) <= maxRequests; seq++ {
				email := fmt.Sprintf("rate-%s-%d-%d@example.com", prefix, c, seq)
				resp, err := client.Do(jsonRequest(http.MethodPut, "http://"+addr+"/api/v1/employees/"+email, token,
					`{"name":"Rate","start_date":"2026-01-05"}`))
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if firstProblem == "" {
						firstProblem = err.Error()
					}
					mu.Unlock()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 200 && resp.StatusCode < 300 {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				mu.Lock()
				if firstProblem == "" {
					firstProblem = fmt.Sprintf("%d %s", resp.StatusCode, body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed.Load() > 0 {
		t.Errorf("%d writes failed; first: %s", failed.Load(), firstProblem)
		for _, srv := range servers {
			for _, line := range srv.errorLines(5) {
				t.Log(line)
			}
		}
	}
	return float64(ok.Load()) / elapsed.Seconds()
}

// rawPostgresCommitRate is the PostgreSQL reference: one writer committing
// one small row per transaction on the server of dbURL, in a table of its
// own that is dropped afterwards.
func rawPostgresCommitRate(t *testing.T, dbURL string, d time.Duration) float64 {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE write_rate_reference (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = db.Exec("DROP TABLE write_rate_reference") }()
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO write_rate_reference (v) VALUES ($1)", "row"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}
