package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/server"
	"github.com/charter-registry/charter/internal/store/storetest"
	"github.com/labstack/echo/v4"
)

// loadFor sends GET url from workers keep-alive connections for d and
// returns the completed requests per second. Any status but 200 fails.
func loadFor(b *testing.B, url string, workers int, d time.Duration) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var done atomic.Int64
	var failed atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				resp, err := client.Get(url)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Store(resp.Status)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatalf("%s: %v", url, f)
	}
	return float64(done.Load()) / d.Seconds()
}

// BenchmarkTrustThroughput serves /trust and /trust/subprocessors.json
// under load on loopback through the whole stack, as configured in
// production (registers checked for changes once a second), and a bare
// echo handler serving the same bytes in the same run, all in this
// process: it is where to profile the public path (-cpuprofile). The
// table's row (make bench) is TestTrustRate in cmd/charter, on the real
// binary against a bare server in a process of its own.
func BenchmarkTrustThroughput(b *testing.B) {
	e := newEnvWith(b, storetest.SQLite(b), func(o *server.Options) { o.PublicCacheTTL = time.Second })
	e.seedPrivacy()
	const workers = 16
	const window = 3 * time.Second
	for _, path := range []string{"/trust", "/trust/subprocessors.json"} {
		b.Run(path, func(b *testing.B) {
			page := e.browser().get(path)
			if page.status != http.StatusOK {
				b.Fatalf("%s: %d", path, page.status)
			}
			bare := echo.New()
			contentType := page.header.Get("Content-Type")
			body := []byte(page.body)
			bare.GET(path, func(c echo.Context) error { return c.Blob(http.StatusOK, contentType, body) })
			bareSrv := httptest.NewServer(bare)
			defer bareSrv.Close()
			var charter, plain float64
			for b.Loop() {
				charter = loadFor(b, e.ts.URL+path, workers, window)
				plain = loadFor(b, bareSrv.URL+path, workers, window)
			}
			b.ReportMetric(charter, "charter-req/s")
			b.ReportMetric(plain, "bare-req/s")
			b.ReportMetric(charter/plain, "ratio")
		})
	}
}
