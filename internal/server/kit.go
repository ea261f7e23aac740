package server

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"
	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/files"
	"github.com/charter-registry/charter/internal/publicform"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"golang.org/x/time/rate"
	"gorm.io/gorm"
)

// The kit is what every area's handlers share: rendering and the page
// envelope, flashes, the clock, the public forms' limits and the share
// links' miss counter. Each area's handler type embeds a *kit and holds
// only the services of its area; the helpers below are the one copy of
// each request and response step (path IDs, paging, the form round trip,
// share-link headers, file downloads).
//
// kit holds what the shared helpers need; it has no service of any area.
type kit struct {
	pages    map[string]*template.Template
	markdown goldmark.Markdown
	sessions *scs.SessionManager
	log      *slog.Logger
	now      func() time.Time
	version  string
	// brand names the company, with its logo, in the public pages' layout.
	brand func(ctx context.Context) (brand, error)
	// linkMisses limits, per IP, lookups of share-link tokens that match
	// nothing.
	linkMisses *middleware.RateLimiterMemoryStore
	// formLimits bounds the public forms per client network, recipient
	// and form (admitPublic); formRefusals counts what it refused.
	formLimits   *publicform.Limiter
	formRefusals *prometheus.CounterVec
}

// newKit parses the templates and sets up the session manager from the
// settings.
func newKit(a *app.App, version string) (*kit, error) {
	cfg := a.Config
	k := &kit{
		markdown: goldmark.New(goldmark.WithExtensions(extension.GFM)),
		log:      a.Logger, now: a.Now, version: version,
		brand: func(ctx context.Context) (brand, error) {
			o, err := a.Org.Current(ctx)
			if err != nil {
				return brand{}, err
			}
			return brandOf(o), nil
		},
		linkMisses: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Every(6 * time.Second), Burst: 10, ExpiresIn: 10 * time.Minute}),
		formLimits:   a.FormLimits,
		formRefusals: newFormRefusals(),
	}
	pages, err := parseTemplates(template.FuncMap{"markdown": k.renderMarkdown})
	if err != nil {
		return nil, err
	}
	k.pages = pages

	k.sessions = scs.New()
	k.sessions.Store = a.Sessions
	k.sessions.IdleTimeout = cfg.SessionIdleTimeout
	k.sessions.Lifetime = cfg.SessionLifetime
	k.sessions.Cookie.Name = cookieName(cfg, "charter_session")
	k.sessions.Cookie.HttpOnly = true
	k.sessions.Cookie.SameSite = http.SameSiteLaxMode
	k.sessions.Cookie.Secure = cfg.Secure()
	k.sessions.Cookie.Path = "/"
	return k, nil
}

// timeNow is the server's clock, UTC.
func (k *kit) timeNow() time.Time { return k.now().UTC() }

// dateOf writes an optional date as YYYY-MM-DD ("" for none), as the API
// and the forms show dates.
func dateOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// Paths and paging.

// pathID reads a positive ID from the path; anything else is notFound, so
// that a malformed ID answers like a missing record.
func pathID(c echo.Context, name string, notFound error) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id < 1 {
		return 0, notFound
	}
	return id, nil
}

// listResponse is the shape of every API list.
type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// pageOf makes the API list of one page of items, read with one item more
// than limit: that one, when there, says a next page exists.
func pageOf[T any](items []T, offset, limit int) listResponse[T] {
	resp := listResponse[T]{Items: items}
	if len(items) > limit {
		resp.Items, resp.NextCursor = items[:limit], encodeCursor(offset+limit)
	}
	if resp.Items == nil {
		resp.Items = []T{}
	}
	return resp
}

// orEmpty gives an empty list for nil, for lists the API always sends as
// arrays.
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// encodeCursor makes an opaque cursor over a sorted list.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

// decodeCursor reads a cursor made by encodeCursor ("" is the start).
func decodeCursor(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 3 || string(b[:2]) != "o:" {
		return 0, apperr.Field("cursor", "is not a cursor returned by this API")
	}
	n, err := strconv.Atoi(string(b[2:]))
	if err != nil || n < 0 {
		return 0, apperr.Field("cursor", "is not a cursor returned by this API")
	}
	return n, nil
}

// parseLimit reads a page size: def when empty, else 1 to maxLimit.
func parseLimit(s string, def, maxLimit int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, apperr.Field("limit", "must be a number from 1 to "+strconv.Itoa(maxLimit))
	}
	return n, nil
}

// dashboardPage reads a dashboard list's ?page= (1 when absent), for
// the lists that show a page at a time with Newer and Older links.
func dashboardPage(c echo.Context) (int, error) {
	v := c.QueryParam("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, apperr.Field("page", "must be a page number from 1")
	}
	return n, nil
}

// pageURL is the current page's address with ?page=n, its other query
// parameters (the filters) kept.
func pageURL(c echo.Context, n int) string {
	q := c.QueryParams()
	q.Set("page", strconv.Itoa(n))
	return c.Request().URL.Path + "?" + q.Encode()
}

// pageQuery reads a list's limit and cursor query parameters.
func pageQuery(c echo.Context, def, maxLimit int) (offset, limit int, err error) {
	if limit, err = parseLimit(c.QueryParam("limit"), def, maxLimit); err != nil {
		return 0, 0, err
	}
	if offset, err = decodeCursor(c.QueryParam("cursor")); err != nil {
		return 0, 0, err
	}
	return offset, limit, nil
}

// The form round trip, one convention for every form (issue 21): refused
// input answers 422 (409 for a conflict) and renders the form again with
// a summary at its top that counts the fields needing attention and links
// to each, every field marked (aria-invalid, a red border) with its
// message beside it naming it by its label, every typed value kept, and
// every problem shown at once. A handler takes the status, the message
// and the field errors from formFailure and renders its form again with
// the typed input; the template draws them with the partials of
// form_parts.html:
//
//	{{template "form_summary" (summary .Data.Errors .Data.Message)}}
//	{{template "field" (fieldOf "name" "" .Data.Input.Name .Data.Errors "text")}}
//	{{template "textarea" (fieldOf "note" "" .Data.Input.Note .Data.Errors "4")}}
//	<select id="role" name="role"{{invalid .Data.Errors "role"}}>…</select>
//	{{template "field_error" (errorOf "role" "" .Data.Errors)}}
//
// On a page with two forms sharing field names, within prefixes the ids:
// (within "training-" (fieldOf …)) and (within "training-" (summary …)).
//
// A label left "" is derived from the field name (completed_on →
// "Completed on"); the field's message is its label followed by the
// domain's problem ("Completed on must be a date as YYYY-MM-DD").

// formFailure reports whether err is one a form shows inline (invalid
// input or a conflict), with its status, the message of the whole form
// ("" when the field errors say it all) and the field errors.
func formFailure(err error) (bool, int, string, map[string]string) {
	if ae, ok := apperr.As(err); ok && (ae.Kind == apperr.Invalid || ae.Kind == apperr.Conflict) {
		status, _, msg, fields := classify(ae)
		return true, status, formMessage(msg, fields), fields
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		status, _, msg, fields := classify(err)
		return true, status, msg, fields
	}
	return false, 0, "", nil
}

// formErrors returns the field errors and message of invalid input, for
// the public forms, which show nothing else inline.
func formErrors(err error) (map[string]string, string, bool) {
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid {
		return nil, "", false
	}
	return e.Fields, formMessage(e.Message, e.Fields), true
}

// genericInvalid is the message apperr gives every set of field errors;
// a form shows its fields instead.
const genericInvalid = "invalid input"

// formMessage is the message a form shows besides its field errors: none
// for the generic one.
func formMessage(msg string, fields map[string]string) string {
	if msg == genericInvalid && len(fields) > 0 {
		return ""
	}
	return msg
}

// formSummary is the box at the top of a refused form.
type formSummary struct {
	// Count is the number of fields needing attention.
	Count int
	// Message is a problem of the whole form ("" for none), as a sentence.
	Message string
	Items   []summaryItem
}

// summaryItem links the summary to one field.
type summaryItem struct{ Anchor, Text string }

// Show reports whether there is anything to summarise.
func (s formSummary) Show() bool { return s.Count > 0 || s.Message != "" }

// summaryOf builds a form's summary from its field errors and message;
// labels are pairs (field name, label) for fields whose label is not the
// one derived from their name.
func summaryOf(errs map[string]string, msg string, labels ...string) formSummary {
	given := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		given[labels[i]] = labels[i+1]
	}
	names := make([]string, 0, len(errs))
	for name := range errs {
		names = append(names, name)
	}
	sort.Strings(names)
	s := formSummary{Count: len(names), Message: sentence(formMessage(msg, errs))}
	for _, name := range names {
		s.Items = append(s.Items, summaryItem{Anchor: name, Text: fieldMessage(name, given[name], errs[name])})
	}
	return s
}

// fieldMessage is a field's problem in plain words, starting with its
// label without the label's hint in brackets ("Country (two-letter
// code)" → "Country must be …").
func fieldMessage(name, label, problem string) string {
	if problem == "" {
		return ""
	}
	if short, _, ok := strings.Cut(label, " ("); ok && short != "" {
		label = short
	}
	if label == "" {
		label = fieldLabel(name)
	}
	return label + " " + problem
}

// labelWords are the words a derived label writes in capitals.
var labelWords = map[string]string{"cve": "CVE", "cvss": "CVSS", "dpa": "DPA", "dpo": "DPO", "id": "ID", "url": "URL", "nda": "NDA",
	"scc": "SCC", "mfa": "MFA", "ttl": "Lifetime", "sha256": "SHA-256", "csv": "CSV", "soc": "SOC", "uk": "UK", "eu": "EU"}

// fieldLabel derives a label from a field name: completed_on → "Completed
// on", entities[0].name → "Entities row 1: name".
func fieldLabel(name string) string {
	row := ""
	if open := strings.Index(name, "["); open > 0 {
		if end := strings.Index(name, "]"); end > open {
			if n, err := strconv.Atoi(name[open+1 : end]); err == nil {
				row = fieldLabel(name[:open]) + " row " + strconv.Itoa(n+1) + ": "
				name = strings.TrimPrefix(name[end+1:], ".")
			}
		}
	}
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '.' || r == '-' })
	for i, w := range words {
		if l, ok := labelWords[w]; ok {
			words[i] = l
		}
	}
	label := strings.Join(words, " ")
	if row != "" {
		return row + label
	}
	return sentence(label)
}

// sentence starts s with a capital letter.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// formField is one labelled control with its error, for the "field",
// "textarea" and "field_error" partials.
type formField struct {
	// ID is the control's id, its name unless within gave it a prefix.
	ID, Name, Label, Value, Type string
	// Error is the field's message, its label first ("" for none).
	Error string
	// Options are a select's choices, each its own value.
	Options []string
}

// selectOf is a select for the "select" partial, value chosen among options.
func selectOf(name, label, value string, errs map[string]string, options []string) formField {
	f := fieldOf(name, label, value, errs, "")
	f.Options = options
	return f
}

// fieldOf is a control for the partials; label "" derives it from name.
func fieldOf(name, label, value string, errs map[string]string, typ string) formField {
	if label == "" {
		label = fieldLabel(name)
	}
	return formField{ID: name, Name: name, Label: label, Value: value, Type: typ, Error: fieldMessage(name, label, errs[name])}
}

// within prefixes the ids of a control or a summary's links, for a page
// with two forms that share field names.
func within(prefix string, v any) any {
	switch v := v.(type) {
	case formField:
		v.ID = prefix + v.ID
		return v
	case formSummary:
		items := make([]summaryItem, len(v.Items))
		for i, it := range v.Items {
			items[i] = summaryItem{Anchor: prefix + it.Anchor, Text: it.Text}
		}
		v.Items = items
		return v
	}
	return v
}

// errorOf is the message beside a control drawn by hand (a select, a
// checkbox, a group).
func errorOf(name, label string, errs map[string]string) formField {
	return fieldOf(name, label, "", errs, "")
}

// errorsIf is errs when cond holds, else none: on a page with several
// small forms, the refused one shows the errors.
func errorsIf(cond bool, errs map[string]string) map[string]string {
	if !cond {
		return nil
	}
	return errs
}

// onlyFields is the errors of the named fields, for a page whose forms
// share one map of errors.
func onlyFields(errs map[string]string, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		if e, ok := errs[n]; ok {
			out[n] = e
		}
	}
	return out
}

// exceptFields is the errors of every field but the named ones.
func exceptFields(errs map[string]string, names ...string) map[string]string {
	out := map[string]string{}
	for n, e := range errs {
		if !slices.Contains(names, n) {
			out[n] = e
		}
	}
	return out
}

// invalidAttrs marks a control drawn by hand whose field has an error;
// id is the control's id when it is not the field's name.
func invalidAttrs(errs map[string]string, name string, id ...string) template.HTMLAttr {
	if _, ok := errs[name]; !ok {
		return ""
	}
	ref := name
	if len(id) > 0 {
		ref = id[0]
	}
	return template.HTMLAttr(` aria-invalid="true" aria-describedby="` + template.HTMLEscapeString(ref) + `-error"`) //nolint:gosec // the id is escaped
}

// statusOf is the status an error answers with.
func statusOf(err error) int {
	status, _, _, _ := classify(err)
	return status
}

// Share links and downloads.

// shareHeaders are sent on every share-link page (SECURITY.md).
func shareHeaders(c echo.Context) {
	h := c.Response().Header()
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Cache-Control", "no-store")
}

// shareLinkError answers a dead link with 410 and a miss with 404, after
// counting the miss against the client's IP: guessing shows up as 429s.
func (k *kit) shareLinkError(c echo.Context, err error) error {
	switch apperr.KindOf(err) {
	case apperr.Gone:
		return k.renderPublic(c, http.StatusGone, "link_dead", "Link expired", nil)
	case apperr.NotFound:
		if ok, _ := k.linkMisses.Allow(c.RealIP()); !ok {
			k.log.Warn("share link misses rate-limited", "ip", c.RealIP(), "request_id", requestID(c))
			c.Response().Header().Set("Retry-After", "60")
			return echo.NewHTTPError(http.StatusTooManyRequests, "too many invalid links from your address; wait a minute")
		}
		return k.renderPublic(c, http.StatusNotFound, "link_dead", "Link not valid", nil)
	}
	return err
}

// sendFile serves a stored upload as an attachment (SECURITY.md, uploads).
func sendFile(c echo.Context, store *files.Store, sum, name, contentType string) error {
	f, err := store.Open(sum)
	if err != nil {
		return err
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Stream(http.StatusOK, contentType, f)
}

// Public forms (DESIGN.md, shared mechanisms): CSRF by the double-submit
// cookie where a page carries the form, the limits of admitPublic, and the
// work-email check. Links from emails (confirm, unsubscribe, object) carry
// their credential in the path, like /ack, and need no CSRF token: one-click
// unsubscribe (RFC 8058) is a bare POST from the mail client.

// The public forms and anonymous actions, as named in the limits and in
// charter_public_form_refusals_total.
const (
	formSubscribe        = "subscribe"
	formSubscribeConfirm = "subscribe_confirm"
	formDPARequest       = "dpa_request"
	formDPASign          = "dpa_sign"
	formDPASignConfirm   = "dpa_sign_confirm"
	formObjection        = "objection"
	formPacketRequest    = "packet_request"
	formPacketConfirm    = "packet_request_confirm"
	formPacketNDA        = "packet_nda"
	formPacketVerify     = "packet_verify"
	formSecurityReport   = "security_report"
	formPrivacyRequest   = "privacy_request"
	formPrivacyConfirm   = "privacy_request_confirm"
	formPasswordReset    = "password_reset"
)

// newFormRefusals is the counter an operator alerts on when the forms are
// being abused (or the limits are too tight).
func newFormRefusals() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "charter_public_form_refusals_total",
		Help: "Public form submissions refused with 429, by form and by the limit that refused them (network_hour, recipient_hour, recipient_day, form_hour).",
	}, []string{"form", "limit"})
	// A series for each form from the start, so that alerts see a rise
	// from zero.
	for _, form := range []string{formSubscribe, formSubscribeConfirm, formDPARequest, formObjection, formPacketRequest, formPacketConfirm,
		formPacketNDA, formPacketVerify, formSecurityReport, formPrivacyRequest, formPrivacyConfirm, formPasswordReset,
		formDPASign, formDPASignConfirm} {
		for _, limit := range []publicform.Limit{publicform.LimitNetwork, publicform.LimitRecipientHour, publicform.LimitRecipientDay, publicform.LimitForm} {
			c.WithLabelValues(form, string(limit))
		}
	}
	return c
}

// admitPublic counts a submission of a public form, or an anonymous
// action that sends email or stores a row, against the limits per client
// network, per recipient address and per form; call it before the service
// call. recipient is the email address the submission makes Charter write
// to ("" when there is none). Over a limit it returns a 429 with
// Retry-After and a message, so that nothing is stored or queued. When the
// handler then answers with an error status (invalid input, a dead link),
// the submission stops counting against the recipient: nothing was sent.
func (k *kit) admitPublic(c echo.Context, form, recipient string) error {
	ctx := c.Request().Context()
	admitted, err := k.formLimits.Admit(ctx, publicform.Submission{Form: form, ClientIP: c.RealIP(), Recipient: recipient})
	var limited *publicform.LimitError
	if errors.As(err, &limited) {
		wait := int(math.Ceil(limited.RetryAfter.Seconds()))
		k.formRefusals.WithLabelValues(form, string(limited.Limit)).Inc()
		k.log.Warn("public form submission refused by a limit", "form", form, "limit", string(limited.Limit),
			"ip", c.RealIP(), "retry_after_seconds", wait, "request_id", requestID(c))
		c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
		return limited
	} else if err != nil {
		return err
	}
	if recipient != "" {
		var once sync.Once
		c.Response().After(func() {
			once.Do(func() {
				if c.Response().Status < http.StatusBadRequest {
					return
				}
				if err := k.formLimits.Withdraw(context.WithoutCancel(ctx), admitted); err != nil {
					k.log.Error("withdrawing a refused public form submission from its recipient's count", "form", form, "request_id", requestID(c), "error", err)
				}
			})
		})
	}
	return nil
}
