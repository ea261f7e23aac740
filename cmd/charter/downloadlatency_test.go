package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The packet download latency (make bench; issue 22): 50 keep-alive
// connections to the real binary (SQLite, the seed, JSON logs as in
// production) each download the full twenty-policy packet 40 times, one
// download after the other, in three runs. Each download commits its
// count, access log entry and audit event before its bytes are sent. A
// download's latency runs from writing its request to reading the last
// byte of the PDF; the generator is the public pages' (getter). One
// BENCHROW line gives the min, median and max of the runs' p99 (goal:
// under 20 ms), one those of their p50. Nothing is asserted about the
// times: a failed download fails the test.
func TestPacketDownloadLatency(t *testing.T) {
	if os.Getenv("CHARTER_DOWNLOAD_LATENCY") == "" {
		t.Skip("run by make bench (CHARTER_DOWNLOAD_LATENCY=1)")
	}
	const conns, perConn, runs = 50, 40, 3
	bin := buildCharter(t)
	dir := t.TempDir()
	runBinary(t, bin, dir, "seed")
	link, _ := issueLoadPacket(t, dir)
	addr := freePort(t)
	srv := startServerEnv(t, append(binaryEnv(dir), "CHARTER_LOG_FORMAT=json"), bin, addr)
	defer stopServer(t, srv, syscall.SIGTERM)

	path := link + "/packet.pdf"
	var size int64
	// run downloads perConn times over each connection and returns every
	// latency, sorted.
	run := func(perConn int) []time.Duration {
		took := make([][]time.Duration, conns)
		errs := make([]error, conns)
		var wg sync.WaitGroup
		for i := range conns {
			wg.Go(func() {
				g, err := dialGetter(addr, path)
				if err != nil {
					errs[i] = err
					return
				}
				defer g.close()
				for range perConn {
					start := time.Now()
					n, err := g.get()
					if err != nil {
						errs[i] = err
						return
					}
					took[i] = append(took[i], time.Since(start))
					if i == 0 {
						size = n
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(slices.Values(slices.Concat(took...)))
	}
	run(2) // warm up: the connections and the server's caches
	pct := func(all []time.Duration, p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	var p50, p99, serverCPU []float64
	for range runs {
		before := processCPU(t, srv.cmd.Process.Pid)
		all := run(perConn)
		serverCPU = append(serverCPU, float64((processCPU(t, srv.cmd.Process.Pid)-before).Microseconds())/float64(len(all)))
		p50, p99 = append(p50, pct(all, 0.50)), append(p99, pct(all, 0.99))
	}
	if lines := srv.errorLines(5); len(lines) > 0 {
		t.Errorf("the server logged errors: %v", lines)
	}
	fmt.Printf("packet downloads: %d connections × %d downloads of %d bytes, %d runs, on the real binary; server CPU per download %s µs\n",
		conns, perConn, size, runs, minMedianMax(serverCPU, "%.0f"))
	fmt.Printf("BENCHROW | packet download p99, %d clients | %s ms | ref - | ratio - | goal < 20 ms\n", conns, minMedianMax(p99, "%.1f"))
	fmt.Printf("BENCHROW | packet download p50, %d clients | %s ms | ref - | ratio - | goal -\n", conns, minMedianMax(p50, "%.1f"))
}

// processCPU is the CPU time process pid has used so far (user and
// system, from /proc/PID/stat, in clock ticks of 10 ms).
func processCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: count after it.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	var ticks int64
	for _, f := range fields[11:13] { // utime and stime
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
