package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/server"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
)

// logLines keeps what the server logged, as JSON lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// named returns the lines whose message is msg, decoded.
func (l *logLines) named(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// newLoggedEnv is newEnv with the server's log kept.
func newLoggedEnv(t *testing.T, st *store.Store) (*env, *logLines) {
	logs := &logLines{}
	e := newEnvWith(t, st, func(o *server.Options) { o.App.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	return e, logs
}

// The public pages served from the cache answer as the router does: the
// same headers (security headers included), body, HEAD and conditional
// GET. The first request of a page is built behind the router (it is
// logged); the next is a hit (it is not).
func TestPublicCacheHitsAnswerAsTheRouterDoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e, logs := newLoggedEnv(t, st)
		e.seedPrivacy()
		// Served in process: a request returns when its handler has,
		// log line included.
		anon := e.browserFrom("198.51.100.7:4000")
		requestIDs := map[string]bool{}
		for _, path := range []string{"/trust", "/trust/subprocessors", "/trust/subprocessors.json", "/trust/subprocessors.atom",
			"/trust/advisories", "/trust/advisories.json", "/trust/advisories.atom"} {
			logged := len(logs.named(t, "request"))
			miss := anon.get(path)
			if miss.status != http.StatusOK || len(logs.named(t, "request")) != logged+1 {
				t.Fatalf("%s: %d, not built behind the router", path, miss.status)
			}
			hit := anon.get(path)
			if hit.status != http.StatusOK || hit.body != miss.body || len(logs.named(t, "request")) != logged+1 {
				t.Fatalf("%s: the second request was not a hit of the same page (%d)", path, hit.status)
			}
			if diff := headerDiff(miss.header, hit.header); diff != "" {
				t.Errorf("%s: the hit's headers differ from the router's: %s", path, diff)
			}
			if got := hit.header.Get("Content-Length"); got != strconv.Itoa(len(hit.body)) {
				t.Errorf("%s: Content-Length %q for %d bytes", path, got, len(hit.body))
			}
			for _, r := range []response{miss, hit} {
				requestIDs[r.header.Get("X-Request-Id")] = true
			}

			head, _ := http.NewRequest(http.MethodHead, e.ts.URL+path, nil)
			if r := anon.do(head); r.status != http.StatusOK || r.body != "" || headerDiff(miss.header, r.header) != "" {
				t.Errorf("HEAD %s: %d, %d bytes, %s", path, r.status, len(r.body), headerDiff(miss.header, r.header))
			}
			conditional, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
			conditional.Header.Set("If-None-Match", miss.header.Get("ETag"))
			r := anon.do(conditional)
			if r.status != http.StatusNotModified || r.body != "" || r.header.Get("ETag") != miss.header.Get("ETag") ||
				r.header.Get("Content-Security-Policy") != miss.header.Get("Content-Security-Policy") || r.header.Get("Cache-Control") != "public, max-age=60" {
				t.Errorf("conditional GET %s: %d %v", path, r.status, r.header)
			}
			requestIDs[r.header.Get("X-Request-Id")] = true
			if len(logs.named(t, "request")) != logged+1 {
				t.Errorf("%s: hits were logged one line each", path)
			}
		}
		wellFormed := regexp.MustCompile(`^[0-9a-f]{24}$`)
		for id := range requestIDs {
			if !wellFormed.MatchString(id) {
				t.Errorf("request ID %q", id)
			}
		}
		if len(requestIDs) != 7*3 {
			t.Errorf("%d distinct request IDs for %d answers", len(requestIDs), 7*3)
		}
	})
}

// headerDiff names the headers that differ between a and b, but for Date
// and the request ID.
func headerDiff(a, b http.Header) string {
	var diff []string
	for k := range a {
		if k != "Date" && k != "X-Request-Id" && !slices.Equal(a[k], b[k]) {
			diff = append(diff, fmt.Sprintf("%s: %q ≠ %q", k, a[k], b[k]))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s: only %q", k, b[k]))
		}
	}
	slices.Sort(diff)
	return strings.Join(diff, "; ")
}

// Cache hits are counted in one log line per minute instead of one line
// each; every other request is still logged, one line each; the HTTP
// metrics count hits as they count the router's answers.
func TestPublicCacheHitsAreCountedNotLoggedOneByOne(t *testing.T) {
	e, logs := newLoggedEnv(t, storetest.SQLite(t))
	anon := e.browserFrom("198.51.100.7:4000")
	const hits = 5
	anon.get("/trust") // built behind the router
	for range hits {
		if r := anon.get("/trust"); r.status != http.StatusOK {
			t.Fatal(r.status)
		}
	}
	conditional, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/trust", nil)
	conditional.Header.Set("If-None-Match", anon.get("/trust").header.Get("ETag"))
	anon.do(conditional)
	if n := len(logs.named(t, "request")); n != 1 {
		t.Fatalf("%d request lines for one miss and %d hits", n, hits+2)
	}
	if got := logs.named(t, "public cache hits"); len(got) != 0 {
		t.Fatalf("hits logged before a minute passed: %v", got)
	}
	if r := anon.get("/trust/advisories/NO-SUCH-ID"); r.status != http.StatusNotFound {
		t.Fatalf("unknown advisory: %d", r.status)
	}
	if lines := logs.named(t, "request"); len(lines) != 2 || lines[1]["status"] != float64(http.StatusNotFound) {
		t.Fatalf("the 404 was not logged: %v", lines)
	}

	e.clock.Advance(time.Minute)
	anon.get("/trust")
	got := logs.named(t, "public cache hits")
	if len(got) != 1 {
		t.Fatalf("%d count lines after a minute", len(got))
	}
	route, _ := got[0]["/trust"].(map[string]any)
	if got[0]["requests"] != float64(hits+3) || route["200"] != float64(hits+2) || route["304"] != float64(1) {
		t.Fatalf("count line: %v", got[0])
	}
	anon.get("/trust")
	if n := len(logs.named(t, "public cache hits")); n != 1 {
		t.Fatalf("%d count lines within the next minute", n)
	}
	// At shutdown the hits counted since the last line are written at once.
	e.srv.FlushHitCounts()
	if got := logs.named(t, "public cache hits"); len(got) != 2 || got[1]["requests"] != float64(1) {
		t.Fatalf("count lines after the flush at shutdown: %v", got)
	}
	e.srv.FlushHitCounts()
	if n := len(logs.named(t, "public cache hits")); n != 2 {
		t.Fatalf("%d count lines after flushing no hits", n)
	}

	metrics := anon.get("/metrics").body
	for _, want := range []string{
		fmt.Sprintf(`charter_http_requests_total{code="200",host="",method="GET",url="/trust"} %d`, hits+4),
		`charter_http_requests_total{code="304",host="",method="GET",url="/trust"} 1`,
		`charter_http_requests_total{code="404",host="",method="GET",url="/trust/advisories/:id"} 1`,
		`charter_http_response_size_bytes_count{code="200",host="",method="GET",url="/trust"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
