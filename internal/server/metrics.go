package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/webhook"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// registryCollector reads, at each scrape, what an operator alerts on
// beyond HTTP: mail stuck in the outbox, webhooks that fail, and scheduled
// jobs that failed or stopped running.
type registryCollector struct {
	db       *gorm.DB
	box      *notify.Outbox
	webhooks *webhook.Service

	outbox, deliveries, jobFinished, jobFailed, scrapeErrors *prometheus.Desc
}

func newRegistryCollector(db *gorm.DB, box *notify.Outbox, webhooks *webhook.Service) *registryCollector {
	return &registryCollector{
		db:           db,
		box:          box,
		webhooks:     webhooks,
		outbox:       prometheus.NewDesc("charter_outbox_messages", "Emails in the outbox by state (pending, sent, failed).", []string{"state"}, nil),
		deliveries:   prometheus.NewDesc("charter_webhook_deliveries", "Webhook deliveries by state (pending, delivered, failed, cancelled).", []string{"state"}, nil),
		jobFinished:  prometheus.NewDesc("charter_job_last_run_timestamp_seconds", "When the latest run of each scheduled job started.", []string{"job"}, nil),
		jobFailed:    prometheus.NewDesc("charter_job_last_run_failed", "1 when the latest run of the job ended in an error.", []string{"job"}, nil),
		scrapeErrors: prometheus.NewDesc("charter_metrics_query_errors", "Queries for these metrics that failed in this scrape.", nil, nil),
	}
}

func (rc *registryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rc.outbox
	ch <- rc.deliveries
	ch <- rc.jobFinished
	ch <- rc.jobFailed
	ch <- rc.scrapeErrors
}

func (rc *registryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failures := 0
	counts, err := rc.box.Counts(ctx)
	if err != nil {
		failures++
	}
	for _, state := range []string{notify.Pending, notify.Sent, notify.Failed} {
		ch <- prometheus.MustNewConstMetric(rc.outbox, prometheus.GaugeValue, float64(counts[state]), state)
	}
	deliveries, err := rc.webhooks.Counts(ctx)
	if err != nil {
		failures++
	}
	for _, state := range []string{webhook.Pending, webhook.Delivered, webhook.Failed, webhook.Cancelled} {
		ch <- prometheus.MustNewConstMetric(rc.deliveries, prometheus.GaugeValue, float64(deliveries[state]), state)
	}
	runs, err := jobs.LastRuns(ctx, rc.db)
	if err != nil {
		failures++
	}
	for _, r := range runs {
		ch <- prometheus.MustNewConstMetric(rc.jobFinished, prometheus.GaugeValue, float64(r.StartedAt.Unix()), r.Job)
		failed := 0.0
		if r.Failed() {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(rc.jobFailed, prometheus.GaugeValue, failed, r.Job)
	}
	ch <- prometheus.MustNewConstMetric(rc.scrapeErrors, prometheus.GaugeValue, float64(failures))
}

// MetricsHandler serves GET /metrics alone (404 for anything else), for
// the separate listen address of --metrics-addr.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics)
	return mux
}

// requireMetricsToken lets through only requests with Authorization:
// Bearer token; with no token, every request. The comparison is of
// SHA-256 digests in constant time, so neither the token's bytes nor its
// length show in the timing.
func requireMetricsToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <the metrics token>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// httpMetrics are the HTTP request metrics (charter_http_*), with the
// names, labels and buckets echo-contrib's echoprometheus gave them, so
// that dashboards keep working. The middleware resolves the labels per
// request; the public cache resolves its pages' once (route).
type httpMetrics struct {
	requests                            *prometheus.CounterVec
	duration, requestSize, responseSize *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	// host stays empty (the Host header is the client's to choose; as a
	// label it would let anyone grow the series without bound); url is
	// the route's pattern.
	httpLabels := []string{"code", "method", "host", "url"}
	const kb, mb = 1 << 10, 1 << 20
	sizes := []float64{1 * kb, 2 * kb, 5 * kb, 10 * kb, 100 * kb, 500 * kb, 1 * mb, 2.5 * mb, 5 * mb, 10 * mb}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "charter", Subsystem: "http", Name: "requests_total",
			Help: "How many HTTP requests processed, partitioned by status code and HTTP method."}, httpLabels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "charter", Subsystem: "http", Name: "request_duration_seconds",
			Help: "The HTTP request latencies in seconds.", Buckets: prometheus.DefBuckets}, httpLabels),
		responseSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "charter", Subsystem: "http", Name: "response_size_bytes",
			Help: "The HTTP response sizes in bytes.", Buckets: sizes}, httpLabels),
		requestSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "charter", Subsystem: "http", Name: "request_size_bytes",
			Help: "The HTTP request sizes in bytes.", Buckets: sizes}, httpLabels),
	}
	reg.MustRegister(m.requests, m.duration, m.responseSize, m.requestSize)
	return m
}

// routeMetrics are one (status, method, route)'s series, resolved.
type routeMetrics struct {
	requests                            prometheus.Counter
	duration, requestSize, responseSize prometheus.Observer
}

func (m *httpMetrics) route(status int, method, route string) routeMetrics {
	values := []string{strconv.Itoa(status), method, "", strings.ToValidUTF8(route, "\uFFFD")}
	return routeMetrics{requests: m.requests.WithLabelValues(values...), duration: m.duration.WithLabelValues(values...),
		requestSize: m.requestSize.WithLabelValues(values...), responseSize: m.responseSize.WithLabelValues(values...)}
}

func (r routeMetrics) observe(elapsed time.Duration, requestBytes, responseBytes int) {
	r.requests.Inc()
	r.duration.Observe(elapsed.Seconds())
	r.requestSize.Observe(float64(requestBytes))
	r.responseSize.Observe(float64(responseBytes))
}

// middleware measures every request but the scrapes of /metrics. The
// status of a request that failed is the one the error handler will
// answer (classify).
func (m *httpMetrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Path() == "/metrics" {
			return next(c)
		}
		reqBytes := requestSize(c.Request())
		start := time.Now()
		err := next(c)
		elapsed := time.Since(start)
		route := c.Path()
		if route == "" {
			route = c.Request().URL.Path
		}
		status := c.Response().Status
		if err != nil {
			status, _, _, _ = classify(err)
		}
		m.route(status, c.Request().Method, route).observe(elapsed, reqBytes, int(c.Response().Size))
		return err
	}
}

// requestSize approximates a request's size on the wire, as
// echoprometheus did: path, method, protocol, headers, host and body.
func requestSize(r *http.Request) int {
	n := len(r.URL.Path) + len(r.Method) + len(r.Proto) + len(r.Host)
	for name, values := range r.Header {
		n += len(name)
		for _, v := range values {
			n += len(v)
		}
	}
	if r.ContentLength > 0 {
		n += int(r.ContentLength)
	}
	return n
}
