package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// issuedPacket requests, confirms and approves a full packet through the
// services and accepts its NDA; it returns the packet's link path.
func issuedPacket(b *testing.B, e *env) string {
	ctx := context.Background()
	from := audit.Actor{Label: "anonymous", IP: "203.0.113.5"}
	if _, err := e.packets.Submit(ctx, from, packet.RequestInput{Name: "Dana Reviewer", Email: "dana@customer.example", Company: "Customer Ltd",
		NDAVersion: 1, AcceptNDA: true}); err != nil {
		b.Fatal(err)
	}
	var m notify.Message
	e.st.DB.Where("to_addr = ?", "dana@customer.example").Order("id DESC").Take(&m)
	token := regexp.MustCompile(`/trust/request/confirm/([A-Za-z0-9_-]{43})`).FindStringSubmatch(m.Body)[1]
	r, _, err := e.packets.Confirm(ctx, from, token)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.packets.Approve(ctx, audit.System("bench"), r.ID, packet.Decision{ExpiryDays: 30}); err != nil {
		b.Fatal(err)
	}
	var approved notify.Message
	e.st.DB.Where("to_addr = ? AND kind = ?", "dana@customer.example", "packet_approved").Order("id DESC").Take(&approved)
	link := regexp.MustCompile(`/p/[A-Za-z0-9_-]{43}`).FindString(approved.Body)
	if err := e.packets.AcceptNDA(ctx, from, link[3:], 1, true); err != nil {
		b.Fatal(err)
	}
	return link
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
