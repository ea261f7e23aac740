// Package server wires Charter's HTTP interface: the dashboard, the JSON API
// and the operational endpoints. Handlers parse, validate, call one service
// method and respond; the rules live in the domain packages.
//
// Each area's handlers hang off a small type holding the kit (kit.go,
// render.go, bind.go, errors.go, middleware.go: what every area shares)
// and only its own services: <area>.go holds its dashboard pages,
// <area>_api.go its JSON API and <area>_public.go its public pages.
// routes.go is the one route table, with the role of every route.
package server

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options are what New needs.
type Options struct {
	// App holds the services and the settings, built by internal/app.
	App *app.App
	// PublicCacheTTL is how often the public pages check whether the
	// registers changed (0: on every request).
	PublicCacheTTL time.Duration
	Version        string
}

// Server is Charter's HTTP interface: the router, the access rule of
// every route, and what the middleware needs. The handlers hang off the
// areas' types, each holding the kit and its own services (routes.go).
type Server struct {
	e   *echo.Echo
	cfg config.Config
	// users authenticates sessions and API tokens for the middleware.
	users  *auth.Service
	origin *http.CrossOriginProtection
	// rules records the access rule each route declared, by "METHOD path".
	rules map[string]Rule
	*kit
	// metrics serves the Prometheus metrics, behind the bearer token when
	// one is set.
	metrics http.Handler
	// headers are the security headers of every response; ids make
	// request IDs.
	headers http.Header
	ids     *requestIDs
	// public keeps the public pages; its hits are answered ahead of the
	// router (ServeHTTP).
	public *publicCache
}

// New builds the server and registers every route.
func New(o Options) (*Server, error) {
	a, cfg := o.App, o.App.Config
	k, err := newKit(a, o.Version)
	if err != nil {
		return nil, err
	}
	s := &Server{
		e: echo.New(), cfg: cfg, users: a.Users, kit: k,
		origin: http.NewCrossOriginProtection(),
		rules:  map[string]Rule{},
	}

	e := s.e
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor, err = ipExtractor(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(a.Store.SQL, "charter"), newRegistryCollector(a.Store.DB, a.Outbox, a.Webhooks), s.formRefusals)

	// HEAD is routed as GET, so monitors and link checkers get the real
	// status instead of 404. Rewriting the method hides the HEAD from
	// net/http, so the body is dropped here instead.
	e.Pre(rejectBadPaths)
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Method == http.MethodHead {
				c.Request().Method = http.MethodGet
				c.Response().Writer = headWriter{c.Response().Writer}
			}
			return next(c)
		}
	})
	s.headers, s.ids = securityHeaderSet(cfg.Secure()), newRequestIDs()
	httpMetrics := newHTTPMetrics(reg)
	s.public = newPublicCache(o.PublicCacheTTL, func(ctx context.Context) (int64, error) { return audit.Head(ctx, a.Store.DB) },
		s.headers, httpMetrics, newHitLog(a.Logger, a.Now, time.Minute), s.ids)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: s.ids.next}))
	e.Use(s.requestLogger())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableErrorHandler: false, DisablePrintStack: true}))
	e.Use(httpMetrics.middleware)
	e.Use(s.securityHeaders)
	// Bodies are small except uploads (signed DPAs up to 20 MB, packets
	// to verify), which their handlers bound again.
	e.Use(middleware.BodyLimit("51M"))
	e.Use(s.crossOrigin)
	e.Use(textRules)

	s.metrics = requireMetricsToken(cfg.MetricsToken,
		promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true})))
	s.routes(a)
	return s, nil
}

// FlushHitCounts logs the public cache hits counted since the last line,
// which is otherwise written a minute after the one before: serving calls
// it once the requests have drained, so that none is left uncounted.
func (s *Server) FlushHitCounts() { s.public.hits.flushNow() }

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP answers a hit of the public cache at once, and passes
// everything else to the router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.public.serveHit(w, r) {
		s.e.ServeHTTP(w, r)
	}
}

// Echo exposes the router, for tests that walk the routes.
func (s *Server) Echo() *echo.Echo { return s.e }

// Rules returns the access rule of every registered route.
func (s *Server) Rules() map[string]Rule { return s.rules }

// cookieName uses the __Host- prefix over HTTPS, which pins the cookie to
// this host and path / and requires Secure.
func (s *Server) cookieName(name string) string { return cookieName(s.cfg, name) }

func cookieName(cfg config.Config, name string) string {
	if cfg.Secure() {
		return "__Host-" + name
	}
	return name
}

func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, err
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

// headWriter answers a HEAD request: headers and status, no body.
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(b []byte) (int, error) { return len(b), nil }
