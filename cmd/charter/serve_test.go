package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the server's logger to write
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBaseURLWarning(t *testing.T) {
	for _, c := range []struct {
		url  string
		warn bool
	}{
		{"http://localhost:8080", true},
		{"http://127.0.0.1:8080", true},
		{"http://charter.example.com", true},
		{"https://charter.example.com", false},
		{"HTTPS://charter.example.com", false},
	} {
		got := baseURLWarning(c.url)
		if (got != "") != c.warn {
			t.Errorf("baseURLWarning(%q) = %q, want a warning: %v", c.url, got, c.warn)
		}
		if c.warn && (!strings.Contains(got, "RFC 9116") || !strings.Contains(got, "local trial")) {
			t.Errorf("baseURLWarning(%q) = %q", c.url, got)
		}
	}
}

func TestServeRestrictsMetricsAndWarnsWithoutHTTPS(t *testing.T) {
	dataDir(t)
	addr, metricsAddr := freePort(t), freePort(t)
	const token = "a-metrics-token-for-the-test-0001"
	t.Setenv("CHARTER_METRICS_TOKEN", token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--metrics-addr", metricsAddr, "--log-format", "text"}, io.Discard, &stderr)
	}()
	get := func(base, path, authorization string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+base+path, nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	var err error
	for range 100 {
		var resp *http.Response
		if resp, err = http.Get(fmt.Sprintf("http://%s/readyz", addr)); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not come up: %v\n%s", err, stderr.String())
	}
	for _, c := range []struct {
		base, path, authorization string
		want                      int
	}{
		{addr, "/metrics", "Bearer " + token, http.StatusNotFound},
		{metricsAddr, "/metrics", "", http.StatusUnauthorized},
		{metricsAddr, "/metrics", "Bearer wrong-token-wrong-token-wrong", http.StatusUnauthorized},
		{metricsAddr, "/metrics", "Bearer " + token, http.StatusOK},
		{metricsAddr, "/readyz", "", http.StatusNotFound},
	} {
		if code, body := get(c.base, c.path, c.authorization); code != c.want {
			t.Errorf("%s%s (%q): %d, want %d: %.200s", c.base, c.path, c.authorization, code, c.want, body)
		}
	}
	if _, body := get(metricsAddr, "/metrics", "Bearer "+token); !strings.Contains(body, "charter_outbox_messages") {
		t.Errorf("metrics body: %.300s", body)
	}
	if log := stderr.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "RFC 9116") || !strings.Contains(log, "local trial") {
		t.Errorf("no warning about the http base URL in:\n%s", log)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	// Both addresses are closed.
	for _, a := range []string{addr, metricsAddr} {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after shutdown", a)
		}
	}
}

func TestServeRefusesATakenMetricsAddress(t *testing.T) {
	dataDir(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := freePort(t)
	code, out := charter(t, "serve", "--addr", addr, "--metrics-addr", taken.Addr().String())
	if code != 1 || !strings.Contains(out, "listening on "+taken.Addr().String()) {
		t.Fatalf("%d %s", code, out)
	}
	// The main address was released too.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the main address is still held: %v", err)
	}
	ln.Close()
}
