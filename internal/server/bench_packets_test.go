package server_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// issuedPacket issues a full packet for a reviewer and returns its link path.
func issuedPacket(b *testing.B, e *env) string {
	return packettest.Issue(b, e.packets, e.st.DB, "dana@customer.example")
}

// BenchmarkPacketDownloads measures repeated downloads of the full
// twenty-policy packet by 50 concurrent clients on loopback, through the
// whole stack on a SQLite file (each download commits its count, access
// log entry and audit event before its bytes are sent). Three runs of 40
// downloads per client; it prints the p99 of each run as a BENCHROW
// (make bench; goal: under 20 ms) and the p50 beside it. In process: the
// clients share the server's runtime and the machine's 2 cores, as the
// real binary's clients would share the cores.
func BenchmarkPacketDownloads(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	link := issuedPacket(b, e)
	const clients, perClient, runs = 50, 40, 3
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var size int64
	get := func() (time.Duration, error) {
		start := time.Now()
		resp, err := client.Get(e.ts.URL + link + "/packet.pdf")
		if err != nil {
			return 0, err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		size = n
		return time.Since(start), nil
	}
	// one is a run: every client downloads perClient times, one download
	// after the other; it returns every latency, sorted.
	one := func(perClient int) []time.Duration {
		var mu sync.Mutex
		var all []time.Duration
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				var mine []time.Duration
				for range perClient {
					d, err := get()
					if err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, d)
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(all)
		return all
	}
	// Warm up: open the 50 connections and fill the cache, unmeasured.
	one(1)
	pct := func(all []time.Duration, p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	var p50, p99 []float64
	for b.Loop() {
		p50, p99 = nil, nil
		for range runs {
			all := one(perClient)
			p50, p99 = append(p50, pct(all, 0.50)), append(p99, pct(all, 0.99))
		}
	}
	b.ReportMetric(slices.Max(p99), "worst-p99-ms")
	fmt.Printf("packet downloads: %d clients × %d downloads of %d bytes, %d runs\n", clients, perClient, size, runs)
	fmt.Printf("BENCHROW | packet download p99, %d clients | %s ms | ref - | ratio - | goal < 20 ms\n", clients, minMedianMax(p99, "%.1f"))
	fmt.Printf("BENCHROW | packet download p50, %d clients | %s ms | ref - | ratio - | goal -\n", clients, minMedianMax(p50, "%.1f"))
}

// minMedianMax formats the min, median and max of v.
func minMedianMax(v []float64, format string) string {
	v = slices.Sorted(slices.Values(v))
	return fmt.Sprintf(format+" / "+format+" / "+format, v[0], v[len(v)/2], v[len(v)-1])
}

// BenchmarkPacketApproval measures issuing a packet: freezing the twenty
// policies and rendering the full PDF and one PDF per policy.
func BenchmarkPacketApproval(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	for b.Loop() {
		issuedPacket(b, e)
	}
}
