package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
)

// apiError is the body of every API error (DESIGN.md, interfaces).
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

var kindStatus = map[apperr.Kind]struct {
	status int
	code   string
}{
	apperr.Invalid:      {http.StatusUnprocessableEntity, "invalid"},
	apperr.NotFound:     {http.StatusNotFound, "not_found"},
	apperr.Conflict:     {http.StatusConflict, "conflict"},
	apperr.Forbidden:    {http.StatusForbidden, "forbidden"},
	apperr.Unauthorized: {http.StatusUnauthorized, "unauthorized"},
	apperr.Gone:         {http.StatusGone, "gone"},
	apperr.TooMany:      {http.StatusTooManyRequests, "rate_limited"},
}

var statusCode = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
}

// classify maps any error to a status, a code, a message safe to show and
// the field messages.
func classify(err error) (int, string, string, map[string]string) {
	if e, ok := apperr.As(err); ok && e.Kind != apperr.Internal {
		k := kindStatus[e.Kind]
		return k.status, k.code, e.Message, e.Fields
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return http.StatusConflict, "conflict", "this record already exists", nil
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code < 500 {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			msg = m
		}
		code := statusCode[he.Code]
		if code == "" {
			code = "error"
		}
		return he.Code, code, msg, nil
	}
	return http.StatusInternalServerError, "internal", "internal error", nil
}

// handleError is echo's error handler: API errors as JSON, page errors as
// the error page. A 500 logs its cause with the request ID and shows only
// the ID.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg, fields := classify(err)
	rid := requestID(c)
	if status >= 500 {
		s.log.Error("request failed", "request_id", rid, "method", c.Request().Method, "path", c.Path(), "error", err)
	}
	if isAPI(c) {
		_ = c.JSON(status, apiError{Error: apiErrorBody{Code: code, Message: msg, Fields: fields, RequestID: rid}})
		return
	}
	back, label := backLink(c.Request())
	page := errorPage{Status: status, Title: http.StatusText(status), Message: sentence(formMessage(msg, fields)), Fields: fields, Back: back, BackLabel: label, RequestID: rid}
	if publicPath(c.Request().URL.Path) {
		// A visitor of the public pages stays in the company's layout.
		if err := s.renderPublic(c, status, publicErrorPage, http.StatusText(status), page); err == nil {
			return
		}
	}
	_ = s.render(c, status, "error", "Error", page)
}

// publicPath reports whether a path is one of the pages customers and
// employees reach without signing in.
func publicPath(p string) bool {
	return p == "/trust" || strings.HasPrefix(p, "/trust/") || strings.HasPrefix(p, "/p/") || strings.HasPrefix(p, "/ack/") ||
		strings.HasPrefix(p, "/.well-known/")
}

type errorPage struct {
	Status    int
	Title     string
	Message   string
	Fields    map[string]string
	Back      string
	BackLabel string
	// RequestID is quoted when someone asks about the error.
	RequestID string
}

// backLink is where an error page leads: a refused public form back to
// itself (its GET shows it again), other public pages to /trust, and the
// dashboard to its overview.
func backLink(r *http.Request) (string, string) {
	public := strings.HasPrefix(r.URL.Path, "/trust/") || strings.HasPrefix(r.URL.Path, "/login")
	switch {
	case public && r.Method == http.MethodPost && !strings.Contains(strings.TrimPrefix(r.URL.Path, "/trust/"), "/"):
		return r.URL.Path, "Back to the form"
	case strings.HasPrefix(r.URL.Path, "/login"):
		return "/login", "Back to sign-in"
	case strings.HasPrefix(r.URL.Path, "/ack/"):
		return r.URL.Path, "Back to your policies"
	case strings.HasPrefix(r.URL.Path, "/trust"), strings.HasPrefix(r.URL.Path, "/p/"):
		return "/trust", "Back to Security & Privacy"
	}
	return "/app/", "Back to the overview"
}
