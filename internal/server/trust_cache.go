package server

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// publicCache keeps the rendered public pages (/trust, its feeds and JSON
// documents). Every register change appends an audit event, so the audit
// trail's head identifies the data a page was built from: a page is
// rebuilt only when the head has moved. The head is read at most once per
// ttl, which bounds how stale another instance's change can look.
//
// A page is kept with its whole header set, so that a hit is answered
// with one map copy and one write. Hits are served ahead of the router
// (serveHit): they skip the middleware, and are counted instead of
// logged one line each (hitLog) and measured on metrics resolved when
// the page was built. Misses, errors and every other request take the
// router and its middleware as before.
type publicCache struct {
	// readHead reads the audit trail's newest sequence number.
	readHead func(ctx context.Context) (int64, error)
	ttl      time.Duration
	// headers are the security headers every response carries.
	headers http.Header
	metrics *httpMetrics
	hits    *hitLog
	ids     *requestIDs

	head  atomic.Pointer[headCheck]
	pages sync.Map // request path → *cachedPage
}

// headCheck is the audit head as last read, and when.
type headCheck struct {
	seq int64
	at  time.Time
}

// cachedPage is a built page and what answering it takes.
type cachedPage struct {
	head int64
	etag string
	body []byte
	// full answers 200 (content type and length included); notModified
	// answers 304. Both are shared by every answer: never modified.
	full, notModified http.Header
	// ok and unchanged are the page's metrics for 200 and 304.
	ok, unchanged routeMetrics
	counts        *routeHits
}

func newPublicCache(ttl time.Duration, readHead func(context.Context) (int64, error), headers http.Header, m *httpMetrics, hits *hitLog, ids *requestIDs) *publicCache {
	return &publicCache{readHead: readHead, ttl: ttl, headers: headers, metrics: m, hits: hits, ids: ids}
}

// currentHead returns the audit head, read again when the last reading is
// older than ttl.
func (pc *publicCache) currentHead(ctx context.Context) (int64, error) {
	if h := pc.head.Load(); h != nil && time.Since(h.at) < pc.ttl {
		return h.seq, nil
	}
	seq, err := pc.readHead(ctx)
	if err != nil {
		return 0, err
	}
	pc.head.Store(&headCheck{seq: seq, at: time.Now()})
	return seq, nil
}

// lookup returns the page kept for path when it is current.
func (pc *publicCache) lookup(ctx context.Context, path string) (*cachedPage, int64, error) {
	head, err := pc.currentHead(ctx)
	if err != nil {
		return nil, 0, err
	}
	if v, ok := pc.pages.Load(path); ok && v.(*cachedPage).head == head {
		return v.(*cachedPage), head, nil
	}
	return nil, head, nil
}

// keep stores a page built at head for path, which route serves.
func (pc *publicCache) keep(path, route string, head int64, contentType string, body []byte) *cachedPage {
	p := pc.page(head, contentType, body)
	// HEAD is answered as GET (see New), and so is it counted.
	p.ok = pc.metrics.route(http.StatusOK, http.MethodGet, route)
	p.unchanged = pc.metrics.route(http.StatusNotModified, http.MethodGet, route)
	p.counts = pc.hits.route(route)
	pc.pages.Store(path, p)
	return p
}

// page is body built at head with its header sets.
func (pc *publicCache) page(head int64, contentType string, body []byte) *cachedPage {
	etag := fmt.Sprintf(`"%d-%d"`, head, len(body))
	h := maps.Clone(pc.headers)
	h["Cache-Control"] = []string{"public, max-age=60"}
	h["Etag"] = []string{etag}
	notModified := maps.Clone(h)
	h["Content-Type"] = []string{contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	return &cachedPage{head: head, etag: etag, body: body, full: h, notModified: notModified}
}

// cacheable reports whether a request may be answered from the cache: a
// GET or HEAD of a path in its plain form, with no query (the query's
// text rules and parameters are the router's).
func cacheable(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawQuery == "" && r.URL.RawPath == ""
}

// answer writes page's headers and, unless the client holds it already,
// its body; it returns the status.
func (p *cachedPage) answer(w http.ResponseWriter, r *http.Request) int {
	h := w.Header()
	if r.Header.Get("If-None-Match") == p.etag {
		maps.Copy(h, p.notModified)
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	maps.Copy(h, p.full)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
	return http.StatusOK
}

// serveHit answers a request for a current cached page, ahead of the
// router, and reports whether it did. The answer is the one the router
// would give: the same headers (security headers included), a request ID,
// ETag and 304.
func (pc *publicCache) serveHit(w http.ResponseWriter, r *http.Request) bool {
	if !cacheable(r) {
		return false
	}
	v, ok := pc.pages.Load(r.URL.Path)
	if !ok {
		return false
	}
	start := time.Now()
	page := v.(*cachedPage)
	if head, err := pc.currentHead(r.Context()); err != nil || head != page.head {
		return false // the router rebuilds it, or answers the error
	}
	rid := r.Header.Get(echo.HeaderXRequestID)
	if rid == "" {
		rid = pc.ids.next()
	}
	w.Header()[echo.HeaderXRequestID] = []string{rid}
	m := page.ok
	size := len(page.body)
	if r.Method == http.MethodHead {
		size = 0
	}
	if page.answer(w, r) == http.StatusNotModified {
		m, size = page.unchanged, 0
		pc.hits.count(page.counts, http.StatusNotModified)
	} else {
		pc.hits.count(page.counts, http.StatusOK)
	}
	m.observe(time.Since(start), requestSize(r), size)
	return true
}

// cached answers the page of the request's path from the cache, building
// it with build when the registers changed since it was last built. It
// runs behind the router, for the requests serveHit passed on.
func (h *trustHandlers) cached(c echo.Context, contentType string, build func(ctx context.Context) ([]byte, error)) error {
	ctx, r := c.Request().Context(), c.Request()
	pc := h.public
	page, head, err := pc.lookup(ctx, r.URL.Path)
	if err != nil {
		return err
	}
	if page == nil || r.URL.RawPath != "" {
		body, err := build(ctx)
		if err != nil {
			return err
		}
		if r.URL.RawPath != "" {
			// The cache's keys are plain paths: a path in another
			// spelling is built from its route's parameters and answered,
			// not kept.
			page = pc.page(head, contentType, body)
		} else {
			page = pc.keep(r.URL.Path, c.Path(), head, contentType, body)
		}
	}
	page.answer(c.Response(), r)
	return nil
}
