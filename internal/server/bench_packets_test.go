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
// log entry and audit event). Goal: p99 under 50 ms.
func BenchmarkPacketDownloads(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	link := issuedPacket(b, e)
	const clients = 50
	const perClient = 40
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	get := func() (time.Duration, error) {
		start := time.Now()
		resp, err := client.Get(e.ts.URL + link + "/packet.pdf")
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}
	// Warm up: open the 50 connections and fill the cache, unmeasured.
	var warm sync.WaitGroup
	for range clients {
		warm.Go(func() {
			if _, err := get(); err != nil {
				b.Error(err)
			}
		})
	}
	warm.Wait()
	var all []time.Duration
	for b.Loop() {
		var mu sync.Mutex
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
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(all)), "downloads")
}

// BenchmarkPacketApproval measures issuing a packet: freezing the twenty
// policies and rendering the full PDF and one PDF per policy.
func BenchmarkPacketApproval(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	for b.Loop() {
		issuedPacket(b, e)
	}
}
