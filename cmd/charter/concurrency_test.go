package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Sixteen clients write over HTTP for a while (15 s; CHARTER_CONCURRENCY_SECONDS
// changes it): no request may fail with a 5xx or a "database is locked",
// and the write rate is reported beside the rate of bare SQLite commits
// by as many writers with the same settings, measured in the same run.
func TestConcurrentWritersNeverSeeLockErrors(t *testing.T) {
	seconds := 15
	if v := os.Getenv("CHARTER_CONCURRENCY_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CHARTER_CONCURRENCY_SECONDS=%q: want a positive number", v)
		}
		seconds = n
	}
	duration := time.Duration(seconds) * time.Second
	bin := buildCharter(t)
	dir := t.TempDir()
	token := seededWithToken(t, bin, dir)
	addr := freePort(t)
	srv := startServer(t, bin, dir, addr)

	const writers = 16
	var ok, serverErrors, otherErrors atomic.Int64
	var mu sync.Mutex
	var firstProblem string
	problem := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if firstProblem == "" {
			firstProblem = s
		}
	}
	// No client timeout: a slow answer on a loaded machine is not a failure.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: writers}}
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; time.Now().Before(deadline); seq++ {
				email := fmt.Sprintf("load-%d-%d@example.com", w, seq)
				// Alternate a roster write and an acknowledgement.
				for _, req := range []*http.Request{
					jsonRequest(http.MethodPut, "http://"+addr+"/api/v1/employees/"+email, token,
						`{"name":"Load","start_date":"2026-01-05"}`),
					jsonRequest(http.MethodPost, "http://"+addr+"/api/v1/employees/"+email+"/acknowledgements", token,
						`{"policy":"acceptable-use"}`),
				} {
					resp, err := client.Do(req)
					if err != nil {
						otherErrors.Add(1)
						problem(err.Error())
						continue
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					switch {
					case resp.StatusCode >= 500 || strings.Contains(string(body), "locked"):
						serverErrors.Add(1)
						problem(fmt.Sprintf("%d %s", resp.StatusCode, body))
					case resp.StatusCode >= 300:
						otherErrors.Add(1)
						problem(fmt.Sprintf("%d %s", resp.StatusCode, body))
					default:
						ok.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	stopServer(t, srv, syscall.SIGTERM)
	if strings.Contains(srv.logs.String(), "database is locked") {
		t.Error(`the server logged "database is locked"`)
	}
	if serverErrors.Load() > 0 || otherErrors.Load() > 0 {
		t.Errorf("%d 5xx and %d other failures; first: %s", serverErrors.Load(), otherErrors.Load(), firstProblem)
		for _, line := range srv.errorLines(10) {
			t.Log(line)
		}
	}
	httpRate := float64(ok.Load()) / duration.Seconds()
	rawRate := rawSQLiteCommitRate(t, filepath.Join(t.TempDir(), "raw.db"), writers, 3*time.Second)
	fmt.Printf("concurrency: %d writers, %d writes in %s: %.0f writes/s over HTTP; bare SQLite commits %.0f/s; ratio %.2f\n",
		writers, ok.Load(), duration, httpRate, rawRate, httpRate/rawRate)
}

// rawSQLiteCommitRate is the reference: writers goroutines, each
// committing one small row per transaction, with Charter's settings (WAL,
// synchronous=FULL, BEGIN IMMEDIATE) and driver, on a file beside the
// subject's (same disk). A commit SQLite refuses as busy is not counted.
func rawSQLiteCommitRate(t *testing.T, path string, writers int, d time.Duration) float64 {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(writers)
	db.SetMaxIdleConns(writers)
	var mode string
	if err := db.QueryRow("PRAGMA synchronous").Scan(&mode); err != nil || mode != "2" {
		t.Fatalf("reference database: synchronous=%s %v, want 2 (FULL)", mode, err)
	}
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for time.Since(start) < d {
				err := func() error {
					tx, err := db.Begin()
					if err != nil {
						return err
					}
					defer func() { _ = tx.Rollback() }()
					if _, err := tx.Exec("INSERT INTO t (v) VALUES (?)", "row"); err != nil {
						return err
					}
					return tx.Commit()
				}()
				if err != nil {
					if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					continue
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatalf("reference writer: %v", err)
	}
	return float64(n.Load()) / time.Since(start).Seconds()
}
