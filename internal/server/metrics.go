package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/jobs"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// registryCollector reads, at each scrape, what an operator alerts on
// beyond HTTP: mail stuck in the outbox and scheduled jobs that failed or
// stopped running.
type registryCollector struct {
	db  *gorm.DB
	box *notify.Outbox

	outbox, jobFinished, jobFailed, scrapeErrors *prometheus.Desc
}

func newRegistryCollector(db *gorm.DB, box *notify.Outbox) *registryCollector {
	return &registryCollector{
		db:           db,
		box:          box,
		outbox:       prometheus.NewDesc("charter_outbox_messages", "Emails in the outbox by state (pending, sent, failed).", []string{"state"}, nil),
		jobFinished:  prometheus.NewDesc("charter_job_last_run_timestamp_seconds", "When the latest run of each scheduled job started.", []string{"job"}, nil),
		jobFailed:    prometheus.NewDesc("charter_job_last_run_failed", "1 when the latest run of the job ended in an error.", []string{"job"}, nil),
		scrapeErrors: prometheus.NewDesc("charter_metrics_query_errors", "Queries for these metrics that failed in this scrape.", nil, nil),
	}
}

func (rc *registryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rc.outbox
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
