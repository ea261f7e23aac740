package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/store"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The load test (make load; make soak for the long form): vegeta sends a
// constant rate over loopback to the real binary, a realistic mix of the
// public page, packet downloads, API reads and acknowledgement writes, and
// reports p50/p95/p99 and errors per kind. The soak form also samples the
// server's memory, goroutines and open files and checks they stay flat.
//
// Settings: CHARTER_LOAD_RATE (requests/s, default 100),
// CHARTER_LOAD_DURATION (default 60s), CHARTER_LOAD_SOAK=1.
func TestLoad(t *testing.T) {
	if os.Getenv("CHARTER_LOAD") == "" {
		t.Skip("run by make load and make soak")
	}
	rate := envInt(t, "CHARTER_LOAD_RATE", 100)
	duration := 60 * time.Second
	if v := os.Getenv("CHARTER_LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("CHARTER_LOAD_DURATION=%q: want a duration such as 60s", v)
		}
		duration = d
	}
	soak := os.Getenv("CHARTER_LOAD_SOAK") != ""

	bin := buildCharter(t)
	dir := t.TempDir()
	token := seededWithToken(t, bin, dir)
	const employees = 2000
	roster := filepath.Join(t.TempDir(), "roster.csv")
	var csv strings.Builder
	csv.WriteString("email,name,start_date\n")
	for i := range employees {
		fmt.Fprintf(&csv, "load-%d@example.com,Load %d,2026-01-05\n", i, i)
	}
	if err := os.WriteFile(roster, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	runBinary(t, bin, dir, "import", "employees", roster)
	link, policies := issueLoadPacket(t, dir)

	addr := freePort(t)
	srv := startServer(t, bin, dir, addr)
	defer stopServer(t, srv, syscall.SIGTERM)
	base := "http://" + addr
	authHeader := http.Header{"Authorization": {"Bearer " + token}}
	jsonAuth := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}

	// Out of every 20 requests: 8 public pages, 4 packet downloads, 5 API
	// reads, 3 acknowledgement writes.
	kinds := []string{"trust", "trust", "packet", "api", "ack", "trust", "api", "packet", "trust", "api",
		"ack", "trust", "packet", "api", "trust", "ack", "trust", "api", "packet", "trust"}
	var n, acks atomic.Int64
	targeter := func(tgt *vegeta.Target) error {
		i := n.Add(1)
		tgt.Method, tgt.Header, tgt.Body = http.MethodGet, nil, nil
		switch kinds[i%int64(len(kinds))] {
		case "trust":
			tgt.URL = base + "/trust"
		case "packet":
			tgt.URL = base + link + "/packet.pdf"
		case "api":
			tgt.URL, tgt.Header = base+"/api/v1/policies", authHeader
		case "ack":
			a := acks.Add(1)
			tgt.Method, tgt.Header = http.MethodPost, jsonAuth
			tgt.URL = fmt.Sprintf("%s/api/v1/employees/load-%d@example.com/acknowledgements", base, a%employees)
			tgt.Body = []byte(`{"policy":"` + policies[(a/employees)%int64(len(policies))] + `"}`)
		}
		return nil
	}
	kindOf := func(r *vegeta.Result) string {
		switch {
		case strings.HasSuffix(r.URL, "/trust"):
			return "GET /trust"
		case strings.HasSuffix(r.URL, "/packet.pdf"):
			return "GET /p/{token}/packet.pdf"
		case strings.HasSuffix(r.URL, "/api/v1/policies"):
			return "GET /api/v1/policies"
		default:
			return "POST /api/v1/employees/{email}/acknowledgements"
		}
	}

	var samples []serverSample
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(duration / 20)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				if s, err := sampleServer(base); err == nil {
					samples = append(samples, s)
				}
			}
		}
	}()

	attacker := vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.KeepAlive(true), vegeta.Workers(32), vegeta.MaxWorkers(512))
	all := &vegeta.Metrics{}
	byKind := map[string]*vegeta.Metrics{}
	for res := range attacker.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, duration, "load") {
		all.Add(res)
		k := kindOf(res)
		if byKind[k] == nil {
			byKind[k] = &vegeta.Metrics{}
		}
		byKind[k].Add(res)
	}
	close(stopSampling)
	<-sampled
	all.Close()

	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	fmt.Printf("load: %d req/s for %s over loopback, %d requests\n", rate, duration, all.Requests)
	fmt.Printf("| request | count | p50 ms | p95 ms | p99 ms | errors |\n|---|---|---|---|---|---|\n")
	names := make([]string, 0, len(byKind))
	for k := range byKind {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range append(names, "all") {
		m := all
		if k != "all" {
			m = byKind[k]
			m.Close()
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %d |\n", k, m.Requests, ms(m.Latencies.P50), ms(m.Latencies.P95), ms(m.Latencies.P99),
			m.Requests-uint64(float64(m.Requests)*m.Success+0.5))
	}
	if all.Success < 1 {
		t.Errorf("success %.4f; status codes %v; errors %v", all.Success, all.StatusCodes, all.Errors)
		for _, line := range srv.errorLines(5) {
			t.Log(line)
		}
	}
	if len(samples) >= 4 {
		first, last := samples[len(samples)/4], samples[len(samples)-1] // after the warm-up quarter
		fmt.Printf("server: resident memory %.1f → %.1f MB, goroutines %d → %d, open files %d → %d\n",
			first.rssMB, last.rssMB, first.goroutines, last.goroutines, first.openFiles, last.openFiles)
		if soak {
			if last.rssMB > first.rssMB*1.5+20 {
				t.Errorf("resident memory grew from %.1f to %.1f MB", first.rssMB, last.rssMB)
			}
			if last.goroutines > first.goroutines+50 || last.openFiles > first.openFiles+50 {
				t.Errorf("goroutines %d → %d, open files %d → %d", first.goroutines, last.goroutines, first.openFiles, last.openFiles)
			}
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

type serverSample struct {
	rssMB                 float64
	goroutines, openFiles int
}

// sampleServer reads the process figures from the server's /metrics.
func sampleServer(base string) (serverSample, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return serverSample{}, err
	}
	defer resp.Body.Close()
	var s serverSample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.rssMB = f / (1 << 20)
		case "go_goroutines":
			s.goroutines = int(f)
		case "process_open_fds":
			s.openFiles = int(f)
		}
	}
	return s, sc.Err()
}

// issueLoadPacket issues a full packet through the services (as the public
// form and the team would) and returns its link path and the policies' slugs.
func issueLoadPacket(t *testing.T, dir string) (string, []string) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir = dir
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
	var slugs []string
	if err := st.DB.Raw("SELECT slug FROM policies ORDER BY slug").Scan(&slugs).Error; err != nil || len(slugs) == 0 {
		t.Fatalf("policies: %v %v", slugs, err)
	}
	return link, slugs
}
