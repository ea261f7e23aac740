package server_test

import (
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/charter-registry/charter/internal/packet/packettest"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// issuedPacket issues a full packet for a reviewer and returns its link path.
func issuedPacket(b *testing.B, e *env) string {
	return packettest.Issue(b, e.packets, e.st.DB, "dana@customer.example")
}

// BenchmarkPacketDownloads downloads the full twenty-policy packet b.N
// times over 50 concurrent keep-alive connections, in process, through the
// whole stack on a SQLite file (each download commits its count, access
// log entry and audit event before its bytes are sent): the one to
// profile (-cpuprofile, -memprofile). make bench's latency row is
// cmd/charter's TestPacketDownloadLatency, on the real binary.
func BenchmarkPacketDownloads(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	url := e.ts.URL + issuedPacket(b, e) + "/packet.pdf"
	const clients = 50
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Errorf("%d %v", resp.StatusCode, err)
				return
			}
		}
	})
}

// BenchmarkPacketApproval measures issuing a packet: freezing the twenty
// policies and rendering the full PDF and one PDF per policy.
func BenchmarkPacketApproval(b *testing.B) {
	e := newEnv(b, storetest.SQLite(b))
	for b.Loop() {
		issuedPacket(b, e)
	}
}
