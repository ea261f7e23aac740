package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/labstack/echo/v4"
)

// Text rules at the edge (SECURITY.md): every text a client sends passes
// one check before any handler sees it, so that no area has to remember.
//
//   - NUL is refused everywhere: PostgreSQL cannot store it (a 500 there, a
//     silently different string on SQLite).
//   - Single-line fields (names, titles, companies, subjects, emails — every
//     field not listed in multiLineFields) refuse all control characters:
//     a CR/LF in a name would otherwise start a new paragraph, or a forged
//     header-like line, in an email sent to an address of the sender's
//     choosing.
//   - Multi-line fields allow LF, CR and TAB, and no other control character
//     (C0, DEL or C1; the Unicode line and paragraph separators count as
//     line breaks).
//   - Text must be valid UTF-8.
//
// A path with NUL or invalid UTF-8 names no resource: 404.

// multiLineFields are the fields, by name, whose values are free text over
// several lines: the textareas of the dashboard and public forms, and the
// same fields in API bodies. A field in a JSON object is looked up by its
// own key, whatever object it sits in.
var multiLineFields = map[string]bool{
	"affected_products":   true,
	"approach":            true,
	"best_practices":      true,
	"ccpa_statement":      true,
	"data_ownership":      true,
	"gdpr_statement":      true,
	"never_sold":          true,
	"statement":           true,
	"affected_regions":    true,
	"answer":              true,
	"evidence":            true,
	"question":            true,
	"body":                true,
	"change_summary":      true,
	"deny_reason":         true,
	"description":         true,
	"details":             true,
	"exemption_reason":    true,
	"extension_reason":    true,
	"fix_links":           true,
	"hosting_regions":     true,
	"message":             true,
	"note":                true,
	"notes":               true,
	"reason":              true,
	"refusal_reason":      true,
	"resolution":          true,
	"reward_note":         true,
	"steps":               true,
	"summary":             true,
	"systems_searched":    true,
	"transfer_mechanisms": true,
}

// singleLineOnRoute names fields that are free text elsewhere but one line
// on a given route: a vulnerability report's summary is its title, and is
// quoted in the acknowledgement emailed to the address the form gave.
var singleLineOnRoute = map[string]map[string]bool{
	"POST /trust/security": {"summary": true},
}

// textProblem returns what is wrong with s as the value of a field, or "".
func textProblem(s string, multiLine bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	for _, r := range s {
		switch {
		case r == 0:
			return "must not contain NUL characters"
		case r == '\n' || r == '\r' || r == '\t':
			if !multiLine {
				return "must be a single line (no line breaks or tabs)"
			}
		case r == '\u2028' || r == '\u2029':
			if !multiLine {
				return "must be a single line (no line breaks or tabs)"
			}
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return "must not contain control characters"
		}
	}
	return ""
}

// isMultiLine reports whether a field, named as a form key or a JSON path,
// is free text, by its own name: "incidents[0].notes" and "fix_links[2]"
// are multi-line, "contacts[0].name" is not.
func isMultiLine(field string) bool {
	for strings.HasSuffix(field, "]") {
		i := strings.LastIndexByte(field, '[')
		if i < 0 {
			break
		}
		field = field[:i]
	}
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	return multiLineFields[field]
}

// rejectBadPaths answers 404 for a path with NUL or invalid UTF-8. It runs
// before routing (e.Pre), so no handler looks such a path up.
func rejectBadPaths(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.IndexByte(p, 0) >= 0 || !utf8.ValidString(p) {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// textRules checks the query string and the body's text fields (forms,
// multipart values and JSON) against the rules above, answering 422 with
// every failing field named.
func textRules(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		r := c.Request()
		t := textCheck{fields: fields, singleLine: singleLineOnRoute[r.Method+" "+c.Path()]}
		for key, values := range r.URL.Query() {
			t.values(key, values)
		}
		if err := t.body(c); err != nil {
			return err
		}
		if len(fields) > 0 {
			refused := apperr.Fields(fields)
			refused.Message = "Some fields hold characters they may not contain; nothing was saved."
			return refused
		}
		return next(c)
	}
}

// textCheck collects the failing fields of one request.
type textCheck struct {
	fields     map[string]string
	singleLine map[string]bool // this route's exceptions to multiLineFields
}

func (t textCheck) multiLine(field string) bool {
	return isMultiLine(field) && !t.singleLine[field]
}

func (t textCheck) values(key string, values []string) {
	if msg := textProblem(key, false); msg != "" {
		t.fields[strconv.QuoteToASCII(key)] = "is not a valid field name: it " + msg
		return
	}
	for _, v := range values {
		if msg := textProblem(v, t.multiLine(key)); msg != "" {
			t.fields[key] = msg
			return
		}
	}
}

func (t textCheck) body(c echo.Context) error {
	r := c.Request()
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	switch mediaType {
	case echo.MIMEApplicationForm:
		// ParseForm keeps the parsed values for the handler; a body that
		// does not parse is left for the handler to refuse as before.
		if err := r.ParseForm(); err != nil {
			return nil
		}
		for key, values := range r.PostForm {
			t.values(key, values)
		}
	case echo.MIMEMultipartForm:
		// The same memory bound as echo's own FormFile, which reuses the
		// parsed form; file parts are content-checked by their handlers.
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil
		}
		for key, values := range r.MultipartForm.Value {
			t.values(key, values)
		}
	case echo.MIMEApplicationJSON:
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return err // over the body limit: echo's 413
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var doc any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&doc) != nil {
			return nil // not JSON: the handler's binder says so
		}
		t.json("", doc)
	}
	return nil
}

// json walks a decoded JSON document; a string is checked by the key it
// sits under, and every key is itself a single-line text.
func (t textCheck) json(path string, v any) {
	switch v := v.(type) {
	case string:
		if msg := textProblem(v, t.multiLine(path)); msg != "" {
			t.fields[fieldName(path)] = msg
		}
	case []any:
		for i, item := range v {
			t.json(path+"["+strconv.Itoa(i)+"]", item)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if msg := textProblem(k, false); msg != "" {
				t.fields[fieldName(path)] = "has a key that " + msg
				continue
			}
			t.json(p, v[k])
		}
	}
}

// fieldName names the document itself "body" when the bad text is at its
// top level (a bare JSON string).
func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
