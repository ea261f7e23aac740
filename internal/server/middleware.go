package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

const (
	sessionSignedInKey = auth.SessionSignedInKey
	sessionSeenKey     = auth.SessionSeenKey
	userKey            = "charter.user"
	csrfKey            = "csrf"
	flashKey           = "flash"
	problemKey         = "flash_problem"
	sessionLoadedKey   = "charter.session_loaded"
)

// requestIDs makes request IDs: a random prefix per process and a
// counter. An ID only has to be unique (it ties a request's log lines,
// audit events and error page together); it grants nothing, so it need
// not be unguessable, and a counter costs less than crypto/rand per
// request.
type requestIDs struct {
	prefix [12]byte // hex
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	g := &requestIDs{}
	hex.Encode(g.prefix[:], b[:])
	return g
}

// next returns 24 hex digits, as before: the prefix, then 48 bits of
// counter.
func (g *requestIDs) next() string {
	const digits = "0123456789abcdef"
	var b [24]byte
	copy(b[:], g.prefix[:])
	n := g.n.Add(1)
	for i := len(b) - 1; i >= len(g.prefix); i-- {
		b[i] = digits[n&15]
		n >>= 4
	}
	return string(b[:])
}

func requestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

// requestLogger logs one line per request. Query strings are left out: they
// may carry share tokens later.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogRoutePath: true, LogLatency: true, LogRequestID: true,
		LogRemoteIP: true, LogError: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []slog.Attr{
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("route", v.RoutePath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("ip", v.RemoteIP),
			}
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
				if v.Error != nil {
					attrs = append(attrs, slog.String("error", v.Error.Error()))
				}
			}
			s.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// hitLog counts the requests answered from the public cache, which are
// not logged one line each: a hit writes, at most once per interval, one
// line with the counts by route since the last. Every other request (a
// miss, an error, a write) is logged by requestLogger, one line each.
// The interval is on the server's clock, read at each hit: no timer.
type hitLog struct {
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration
	next     atomic.Int64 // Unix nanoseconds: the first hit after this writes the line
	mu       sync.Mutex
	routes   map[string]*routeHits
}

// routeHits are one route's hits since the last line.
type routeHits struct {
	route       string
	ok          atomic.Int64
	notModified atomic.Int64
}

func newHitLog(log *slog.Logger, now func() time.Time, interval time.Duration) *hitLog {
	l := &hitLog{log: log, now: now, interval: interval, routes: map[string]*routeHits{}}
	l.next.Store(now().Add(interval).UnixNano())
	return l
}

// route returns the counters of route, made once.
func (l *hitLog) route(route string) *routeHits {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.routes[route]
	if !ok {
		r = &routeHits{route: route}
		l.routes[route] = r
	}
	return r
}

// count records one hit answered with status (200 or 304), and writes
// the line when the interval has passed.
func (l *hitLog) count(r *routeHits, status int) {
	if status == http.StatusNotModified {
		r.notModified.Add(1)
	} else {
		r.ok.Add(1)
	}
	now := l.now()
	next := l.next.Load()
	// One hit, the one that moves next on, writes the line.
	if now.UnixNano() < next || !l.next.CompareAndSwap(next, now.Add(l.interval).UnixNano()) {
		return
	}
	l.flush(time.Unix(0, next).Add(-l.interval))
}

// flushNow writes the counts since the last line, and the next line is
// due an interval from now.
func (l *hitLog) flushNow() {
	now := l.now()
	next := l.next.Swap(now.Add(l.interval).UnixNano())
	l.flush(time.Unix(0, next).Add(-l.interval))
}

// flush writes the counts since the last line, if any, and starts again.
func (l *hitLog) flush(since time.Time) {
	l.mu.Lock()
	routes := slices.SortedFunc(maps.Values(l.routes), func(a, b *routeHits) int { return strings.Compare(a.route, b.route) })
	l.mu.Unlock()
	var total int64
	attrs := make([]slog.Attr, 0, len(routes)+1)
	for _, r := range routes {
		ok, nm := r.ok.Swap(0), r.notModified.Swap(0)
		if ok+nm == 0 {
			continue
		}
		total += ok + nm
		attrs = append(attrs, slog.Group(r.route, slog.Int64("200", ok), slog.Int64("304", nm)))
	}
	if total == 0 {
		return
	}
	attrs = append([]slog.Attr{slog.Int64("requests", total), slog.Time("since", since.UTC())}, attrs...)
	l.log.LogAttrs(context.Background(), slog.LevelInfo, "public cache hits", attrs...)
}

// contentSecurityPolicy allows only this origin's scripts and styles: no
// inline script, no plugins, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaderSet is the headers every response carries, built once:
// the middleware and the public cache copy them (the slices are shared,
// and never modified in place).
func securityHeaderSet(secure bool) http.Header {
	h := http.Header{}
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if secure {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	return h
}

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		maps.Copy(h, s.headers)
		// Everything is private unless said otherwise: static assets may be
		// cached an hour (their names carry no version), and the public
		// pages set their own policy.
		if strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "public, max-age=3600")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// crossOrigin refuses state-changing requests that a browser marks as
// coming from another site (Sec-Fetch-Site / Origin), before any handler.
func (s *Server) crossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.origin.Check(c.Request()); err != nil {
			return echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused")
		}
		return next(c)
	}
}

// sessionMiddleware loads and saves the scs session around the handler.
// Errors are rendered inside, so that the response (and any cookie change)
// is complete before scs writes it out.
func (s *Server) sessionMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		orig := c.Response().Writer
		s.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.SetRequest(r)
			c.Response().Writer = w
			c.Set(sessionLoadedKey, true)
			if err := next(c); err != nil {
				c.Error(err)
			}
		})).ServeHTTP(orig, c.Request())
		c.Response().Writer = orig
		return nil
	}
}

func (s *Server) csrfMiddleware() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:csrf,header:X-CSRF-Token",
		CookieName:     s.cookieName("charter_csrf"),
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.cfg.Secure(),
		CookieSameSite: http.SameSiteLaxMode,
		ContextKey:     csrfKey,
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "the form's security token is missing or stale; reload the page and try again")
		},
	})
}

// requireSession lets a signed-in, active user with at least role need
// through; others are sent to sign in or refused.
func (s *Server) requireSession(need auth.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			id := s.sessions.GetInt64(ctx, auth.SessionUserKey)
			if id == 0 {
				return s.toLogin(c)
			}
			u, err := s.users.Get(ctx, id)
			if apperr.Is(err, apperr.NotFound) || (err == nil && !u.CanSignIn(s.timeNow())) {
				_ = s.sessions.Destroy(ctx)
				return s.toLogin(c)
			} else if err != nil {
				return err
			}
			// Idle and absolute timeouts, on the server's clock. scs expires
			// the stored session too, but on the wall clock only.
			now := s.timeNow()
			signedIn := time.Unix(0, s.sessions.GetInt64(ctx, sessionSignedInKey))
			seen := time.Unix(0, s.sessions.GetInt64(ctx, sessionSeenKey))
			if now.Sub(signedIn) >= s.cfg.SessionLifetime || now.Sub(seen) >= s.cfg.SessionIdleTimeout {
				if err := s.sessions.RenewToken(ctx); err != nil {
					return err
				}
				s.sessions.Remove(ctx, auth.SessionUserKey)
				s.flash(c, "Your session has expired; please sign in again.")
				return s.toLogin(c)
			}
			s.sessions.Put(ctx, sessionSeenKey, now.UnixNano())
			c.Set(userKey, u)
			// After an admin's reset, the one-time password is replaced
			// before anything else (the second factor's setup included).
			if u.MustChangePassword && !mustChangeExempt(c.Request().URL.Path) {
				if c.Request().Method != http.MethodGet {
					return apperr.New(apperr.Forbidden, "choose a new password first, at "+changePasswordPath)
				}
				return seeOther(c, changePasswordPath)
			}
			// A role that must use a second factor sets it up first.
			if !u.HasMFA() && s.cfg.MFARequired(string(u.Role)) && !mfaExempt(c.Request().URL.Path) {
				if c.Request().Method != http.MethodGet {
					return apperr.New(apperr.Forbidden, "set up two-factor sign-in first, on your account page")
				}
				return seeOther(c, "/app/account/mfa")
			}
			if !u.Role.Allows(need) {
				return apperr.New(apperr.Forbidden, "your role ("+string(u.Role)+") may not do this; it needs "+string(need)+" or above")
			}
			return next(c)
		}
	}
}

func (s *Server) toLogin(c echo.Context) error {
	if c.Request().Method != http.MethodGet {
		return echo.NewHTTPError(http.StatusUnauthorized, "your session has ended; sign in again")
	}
	return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
}

// requireToken authenticates an API request by its bearer token.
func (s *Server) requireToken(need auth.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || secret == "" {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="charter"`)
				return auth.ErrTokenInvalid
			}
			u, _, err := s.users.AuthenticateToken(c.Request().Context(), strings.TrimSpace(secret))
			if err != nil {
				if apperr.Is(err, apperr.Unauthorized) {
					c.Response().Header().Set("WWW-Authenticate", `Bearer realm="charter", error="invalid_token"`)
				}
				return err
			}
			c.Set(userKey, u)
			if !u.Role.Allows(need) {
				return apperr.New(apperr.Forbidden, "the token's role ("+string(u.Role)+") may not do this; it needs "+string(need)+" or above")
			}
			return next(c)
		}
	}
}

// currentUser returns the authenticated user, or nil on public routes.
func currentUser(c echo.Context) *auth.User {
	u, _ := c.Get(userKey).(*auth.User)
	return u
}

// actor describes who is acting in this request, for the audit trail.
func actor(c echo.Context) audit.Actor {
	r := c.Request()
	if u := currentUser(c); u != nil {
		return u.Actor(c.RealIP(), r.UserAgent(), requestID(c))
	}
	return audit.Actor{Label: "anonymous", IP: c.RealIP(), UserAgent: r.UserAgent(), RequestID: requestID(c)}
}

// localPath returns next if it is a path on this site, else fallback, so
// that a next= parameter cannot send anyone elsewhere.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return fallback
	}
	return next
}

// mfaExempt are the pages a user who must set up a second factor may
// still use.
func mfaExempt(path string) bool {
	return strings.HasPrefix(path, "/app/account")
}

// changePasswordPath is where a user who must change their password is
// sent before any other page.
const changePasswordPath = "/app/account/password"

// mustChangeExempt are the pages a user who must change their password
// may still use.
func mustChangeExempt(path string) bool { return path == changePasswordPath }
