package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
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

	"github.com/labstack/echo/v4"
)

// The public pages' rate (make bench; issue 22): GET /trust and
// /trust/subprocessors.json on the real binary (SQLite, the seed, JSON
// logs as in production), against a bare echo v4 server serving the same
// bytes with the same Content-Type, measured in the same run. The bare
// server is this test binary run again as a helper process (bareEchoEnv),
// so that each server has a process of its own and the load generator
// (here) is the same for both. Three rounds, each the subject then its
// reference for CHARTER_TRUST_RATE_SECONDS (default 3) with 16 keep-alive
// connections; the ratio is the subject's rate over the reference's in the
// same round. Loopback only. Nothing is asserted about the rates: a
// failed request fails the test.
func TestTrustRate(t *testing.T) {
	if os.Getenv("CHARTER_TRUST_RATE") == "" {
		t.Skip("run by make bench (CHARTER_TRUST_RATE=1)")
	}
	duration := time.Duration(envInt(t, "CHARTER_TRUST_RATE_SECONDS", 3)) * time.Second
	const rounds, conns = 3, 16
	bin := buildCharter(t)
	dir := t.TempDir()
	runBinary(t, bin, dir, "seed")
	addr := freePort(t)
	srv := startServerEnv(t, append(binaryEnv(dir), "CHARTER_LOG_FORMAT=json"), bin, addr)
	defer stopServer(t, srv, syscall.SIGTERM)

	for _, row := range []struct{ name, path, goal string }{
		{"GET /trust", "/trust", "≥ 0.8"},
		{"GET /trust/subprocessors.json", "/trust/subprocessors.json", "-"},
	} {
		resp, err := http.Get("http://" + addr + row.path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", row.path, resp.StatusCode, err)
		}
		bareAddr := startBareEcho(t, row.path, resp.Header.Get("Content-Type"), body)
		// Warm both up: connections, caches, the page built once.
		loadRate(t, addr, row.path, conns, duration/4)
		loadRate(t, bareAddr, row.path, conns, duration/4)
		var subject, reference, ratio []float64
		for range rounds {
			s := loadRate(t, addr, row.path, conns, duration)
			r := loadRate(t, bareAddr, row.path, conns, duration)
			subject, reference, ratio = append(subject, s), append(reference, r), append(ratio, s/r)
		}
		fmt.Printf("trust rate: %s, %d bytes, %d connections, %d rounds of %s each side\n", row.path, len(body), conns, rounds, duration)
		fmt.Printf("BENCHROW | %s | %s req/s | ref %s req/s | ratio %s | goal %s\n", row.name,
			minMedianMax(subject, "%.0f"), minMedianMax(reference, "%.0f"), minMedianMax(ratio, "%.2f"), row.goal)
	}
	if lines := srv.errorLines(5); len(lines) > 0 {
		t.Errorf("the server logged errors: %v", lines)
	}
}

// minMedianMax formats the min, median and max of v.
func minMedianMax(v []float64, format string) string {
	v = slices.Sorted(slices.Values(v))
	return fmt.Sprintf(format+" / "+format+" / "+format, v[0], v[len(v)/2], v[len(v)-1])
}

// loadRate sends GET path over conns keep-alive connections, each one
// request after the other, for d, and returns the answers per second. Any
// answer but 200 fails t.
func loadRate(t *testing.T, addr, path string, conns int, d time.Duration) float64 {
	t.Helper()
	var answered atomic.Int64
	errs := make([]error, conns)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			g, err := dialGetter(addr, path)
			if err != nil {
				errs[i] = err
				return
			}
			defer g.close()
			for time.Now().Before(deadline) {
				if _, errs[i] = g.get(); errs[i] != nil {
					return
				}
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return float64(answered.Load()) / time.Since(start).Seconds()
}

// getter sends GET path again and again over one keep-alive connection.
// The benchmarks' load generator: the request is written ready-made and
// the answer read with http.ReadResponse, so that it spends little of the
// two cores it shares with the server (net/http's client took a third of
// them in the packet downloads, with two goroutines of its own per
// connection to wake for each answer).
type getter struct {
	conn    net.Conn
	r       *bufio.Reader
	path    string
	request []byte
}

func dialGetter(addr, path string) (*getter, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &getter{
		conn:    c,
		r:       bufio.NewReaderSize(c, 64<<10),
		path:    path,
		request: []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: charter-bench\r\n\r\n"),
	}, nil
}

// get sends the request once and reads the whole answer, returning the
// body's size; any answer but 200 is an error.
func (g *getter) get() (int64, error) {
	if _, err := g.conn.Write(g.request); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(g.r, nil)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d %v", g.path, resp.StatusCode, err)
	}
	return n, nil
}

func (g *getter) close() { g.conn.Close() }

// The bare echo helper's settings, in its environment.
const (
	bareEchoEnv     = "CHARTER_BARE_ECHO_ADDR"
	bareEchoPath    = "CHARTER_BARE_ECHO_PATH"
	bareEchoType    = "CHARTER_BARE_ECHO_CONTENT_TYPE"
	bareEchoBodyEnv = "CHARTER_BARE_ECHO_BODY"
)

// startBareEcho runs TestBareEchoHelper in a process of its own, serving
// body at path with contentType, and returns its address once it answers.
func startBareEcho(t *testing.T, path, contentType string, body []byte) string {
	t.Helper()
	bodyFile := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestBareEchoHelper$")
	cmd.Env = append(os.Environ(), bareEchoEnv+"="+addr, bareEchoPath+"="+path, bareEchoType+"="+contentType, bareEchoBodyEnv+"="+bodyFile)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := testDeadline(t); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			continue
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != string(body) || resp.Header.Get("Content-Type") != contentType {
			t.Fatalf("the bare server answers %d, %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
		}
		return addr
	}
	t.Fatal("the bare echo server did not start")
	return ""
}

// TestBareEchoHelper is the reference server of TestTrustRate: echo v4
// with no middleware, answering GET path with the body as c.Blob does. It
// runs only as startBareEcho's helper process, until it is killed.
func TestBareEchoHelper(t *testing.T) {
	addr := os.Getenv(bareEchoEnv)
	if addr == "" {
		t.Skip("the reference server of TestTrustRate, run by it")
	}
	body, err := os.ReadFile(os.Getenv(bareEchoBodyEnv))
	if err != nil {
		t.Fatal(err)
	}
	contentType := os.Getenv(bareEchoType)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(os.Getenv(bareEchoPath), func(c echo.Context) error { return c.Blob(http.StatusOK, contentType, body) })
	if err := e.Start(addr); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Fatal(err)
	}
}
