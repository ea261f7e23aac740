package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/store/storetest"
)

const metricsToken = "s3cret-metrics-token-0123456789"

// scrape gets /metrics from h with the given Authorization header.
func scrape(h http.Handler, path, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMetricsBearerToken(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(c *config.Config) { c.MetricsToken = metricsToken })
	cases := []struct {
		name, authorization string
		want                int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer not-the-token-at-all-000000", http.StatusUnauthorized},
		{"a prefix of the token", "Bearer " + metricsToken[:20], http.StatusUnauthorized},
		{"the token as Basic", "Basic " + metricsToken, http.StatusUnauthorized},
		{"an API token", "Bearer " + e.tokens["admin"], http.StatusUnauthorized},
		{"the token", "Bearer " + metricsToken, http.StatusOK},
		{"the scheme in lower case", "bearer " + metricsToken, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := scrape(e.srv.Handler(), "/metrics", c.authorization)
			if r.Code != c.want {
				t.Fatalf("%d, want %d", r.Code, c.want)
			}
			if c.want == http.StatusOK && !strings.Contains(r.Body.String(), "charter_outbox_messages") {
				t.Fatal("no metrics in the body")
			}
			if c.want == http.StatusUnauthorized && (r.Header().Get("WWW-Authenticate") == "" || strings.Contains(r.Body.String(), "charter_")) {
				t.Fatalf("refusal: %q %s", r.Header().Get("WWW-Authenticate"), r.Body.String())
			}
		})
	}
}

func TestMetricsOnASeparateAddress(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(c *config.Config) {
		c.MetricsAddr = "127.0.0.1:9090"
		c.MetricsToken = metricsToken
	})
	if r := scrape(e.srv.Handler(), "/metrics", "Bearer "+metricsToken); r.Code != http.StatusNotFound {
		t.Fatalf("the main address serves /metrics: %d", r.Code)
	}
	m := e.srv.MetricsHandler()
	for _, c := range []struct {
		path, authorization string
		want                int
	}{
		{"/metrics", "Bearer " + metricsToken, http.StatusOK},
		{"/metrics", "", http.StatusUnauthorized},
		{"/readyz", "", http.StatusNotFound},
		{"/app/", "Bearer " + metricsToken, http.StatusNotFound},
	} {
		if r := scrape(m, c.path, c.authorization); r.Code != c.want {
			t.Errorf("metrics address %s (%q): %d, want %d", c.path, c.authorization, r.Code, c.want)
		}
	}
	// Without a token the separate address is open: it is meant to be
	// reachable only from the monitoring network.
	open := newEnv(t, storetest.SQLite(t), func(c *config.Config) { c.MetricsAddr = "127.0.0.1:9090" })
	if r := scrape(open.srv.MetricsHandler(), "/metrics", ""); r.Code != http.StatusOK || !strings.Contains(r.Body.String(), "go_goroutines") {
		t.Fatalf("open metrics address: %d", r.Code)
	}
}
