package main

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash test: clients write employees and acknowledgements over HTTP
// while the server is SIGKILLed at a random moment, again and again. A
// write's key is chosen by the client (the employee's email; the email and
// policy for an acknowledgement), so a write whose answer was lost is
// retried after the restart and must land exactly once. After each kill:
// every write that got a 2xx is there and whole, nothing is half-written
// (each row has its audit event and each event its row), integrity_check
// and foreign_key_check pass, and `charter audit verify` passes.
//
// make test runs 20 iterations; make crashtest sets CHARTER_CRASH_ITERATIONS.
func TestCrashRecovery(t *testing.T) {
	iterations := 20
	if v := os.Getenv("CHARTER_CRASH_ITERATIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CHARTER_CRASH_ITERATIONS=%q: want a positive number", v)
		}
		iterations = n
	}
	bin := buildCharter(t)
	dir := t.TempDir()
	token := seededWithToken(t, bin, dir)
	const workers = 4
	const policy = "acceptable-use"

	confirmed := &crashLedger{employees: map[string]string{}, acks: map[string]bool{}}
	unsure := make([]string, workers) // each worker's write whose answer was lost
	passed, failed := 0, 0
	for it := range iterations {
		addr := freePort(t)
		srv := startServer(t, bin, dir, addr)
		client := &http.Client{Timeout: 10 * time.Second}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// First the retry of what the previous crash left unanswered.
				if email := unsure[w]; email != "" {
					if confirmed.write(client, addr, token, email, policy) {
						unsure[w] = ""
					}
				}
				for seq := 0; ; seq++ {
					email := fmt.Sprintf("crash-%d-%d-%d@example.com", it, w, seq)
					if !confirmed.write(client, addr, token, email, policy) {
						unsure[w] = email
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		stopServer(t, srv, syscall.SIGKILL)
		wg.Wait()

		if err := checkAfterCrash(bin, dir, confirmed); err != nil {
			failed++
			t.Errorf("iteration %d: %v", it+1, err)
		} else {
			passed++
		}
	}
	// The server still takes writes after the last crash.
	addr := freePort(t)
	srv := startServer(t, bin, dir, addr)
	if status, err := putEmployee(http.DefaultClient, addr, token, "after-crashes@example.com", "After"); err != nil || status != http.StatusCreated {
		t.Errorf("a write after the crashes: %d %v", status, err)
	}
	stopServer(t, srv, syscall.SIGTERM)
	fmt.Printf("crash test: %d passed, %d failed (%d employees and %d acknowledgements confirmed)\n",
		passed, failed, len(confirmed.employees), len(confirmed.acks))
}

// crashLedger is what the server confirmed with a 2xx.
type crashLedger struct {
	mu        sync.Mutex
	employees map[string]string // email → name
	acks      map[string]bool   // email (of the one policy)
}

// write creates an employee and records their acknowledgement, and reports
// whether both were confirmed; it stops at the first failure.
func (l *crashLedger) write(client *http.Client, addr, token, email, policy string) bool {
	name := "Crash " + strings.TrimSuffix(email, "@example.com")
	status, err := putEmployee(client, addr, token, email, name)
	if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
		return false
	}
	l.mu.Lock()
	l.employees[email] = name
	l.mu.Unlock()
	resp, err := client.Do(jsonRequest(http.MethodPost, "http://"+addr+"/api/v1/employees/"+email+"/acknowledgements", token,
		`{"policy":"`+policy+`"}`))
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	l.mu.Lock()
	l.acks[email] = true
	l.mu.Unlock()
	return true
}

func checkAfterCrash(bin, dir string, confirmed *crashLedger) error {
	db, err := sql.Open("sqlite3", filepath.Join(dir, "charter.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		return fmt.Errorf("integrity_check: %q %v", integrity, err)
	}
	fk, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	dangling := fk.Next()
	fk.Close()
	if dangling {
		return errors.New("foreign_key_check reports rows")
	}

	stored := map[string]string{}
	if err := scanPairs(db, "SELECT email, name || '|' || department FROM employees WHERE email LIKE 'crash-%'", stored); err != nil {
		return err
	}
	created := map[string]string{}
	if err := scanPairs(db, "SELECT object_id, COUNT(*) FROM audit_events WHERE action = 'employee.created' AND object_id LIKE 'crash-%' GROUP BY object_id", created); err != nil {
		return err
	}
	acks := map[string]string{}
	if err := scanPairs(db, "SELECT e.email, COUNT(*) FROM acknowledgements a JOIN employees e ON e.id = a.employee_id WHERE e.email LIKE 'crash-%' GROUP BY e.email", acks); err != nil {
		return err
	}
	ackEvents := map[string]string{}
	if err := scanPairs(db, "SELECT object_id, COUNT(*) FROM audit_events WHERE action = 'acknowledgement.recorded' AND object_id LIKE 'crash-%' GROUP BY object_id", ackEvents); err != nil {
		return err
	}

	confirmed.mu.Lock()
	defer confirmed.mu.Unlock()
	for email, name := range confirmed.employees {
		if got := stored[email]; got != name+"|Proof" {
			return fmt.Errorf("confirmed employee %s: stored %q", email, got)
		}
	}
	for email := range confirmed.acks {
		if acks[email] != "1" {
			return fmt.Errorf("confirmed acknowledgement of %s: %q stored", email, acks[email])
		}
	}
	for email := range stored {
		if created[email] != "1" {
			return fmt.Errorf("employee %s has %q creation events", email, created[email])
		}
	}
	for email := range created {
		if _, ok := stored[email]; !ok {
			return fmt.Errorf("a creation event for %s without the employee", email)
		}
	}
	for email, n := range acks {
		if n != "1" || ackEvents[email] != "1" {
			return fmt.Errorf("acknowledgements of %s: %s rows, %q events", email, n, ackEvents[email])
		}
	}
	for email := range ackEvents {
		if _, ok := acks[email]; !ok {
			return fmt.Errorf("an acknowledgement event for %s without the acknowledgement", email)
		}
	}
	db.Close()
	verify := exec.Command(bin, "audit", "verify")
	verify.Env = binaryEnv(dir)
	if out, err := verify.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ok: ") {
		return fmt.Errorf("audit verify: %v %s", err, out)
	}
	return nil
}

func scanPairs(db *sql.DB, query string, into map[string]string) error {
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		into[k] = v
	}
	return rows.Err()
}
