package notify

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"
	"time"

	"gorm.io/gorm"
)

// templateFiles holds one text/template per kind of email,
// templates/<kind>.txt: a {{define "subject"}} block on the first line,
// then the body.
//
//go:embed templates/*.txt
var templateFiles embed.FS

// Templates renders the text of every email. It is parsed once, by
// NewTemplates, and handed to the services that send email; the texts
// live in the templates, none in Go code.
type Templates struct {
	byKind map[string]*template.Template
}

// NewTemplates parses the embedded templates. It fails when a kind of
// Kinds has no template, a template no kind, or a template no subject.
func NewTemplates() (*Templates, error) {
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	kinds, funcs := Kinds(), templateFuncs()
	t := &Templates{byKind: make(map[string]*template.Template, len(kinds))}
	for _, e := range entries {
		kind := strings.TrimSuffix(e.Name(), ".txt")
		if !slices.Contains(kinds, kind) {
			return nil, fmt.Errorf("notify: template %s is for no kind of email", e.Name())
		}
		// Each file is its own set, so that every one can define "subject".
		tpl, err := template.New(e.Name()).Funcs(funcs).Option("missingkey=error").
			ParseFS(templateFiles, path.Join("templates", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		if tpl.Lookup("subject") == nil {
			return nil, fmt.Errorf("notify: template %s has no subject", e.Name())
		}
		t.byKind[kind] = tpl
	}
	for _, kind := range kinds {
		if t.byKind[kind] == nil {
			return nil, fmt.Errorf("notify: no template for email kind %s", kind)
		}
	}
	return t, nil
}

// MustTemplates is NewTemplates for constructors that cannot fail: the
// templates are embedded, so an error is a bug that the tests catch.
func MustTemplates() *Templates {
	t, err := NewTemplates()
	if err != nil {
		panic(err)
	}
	return t
}

// templateFuncs format dates the way every email shows them. A time is
// shown as given: the callers pass UTC.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"date":     func(t time.Time) string { return t.Format("2 January 2006") },
		"isodate":  func(t time.Time) string { return t.Format(time.DateOnly) },
		"datetime": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
	}
}

// Render returns the subject and body of the email that data describes.
func (t *Templates) Render(data Data) (subject, body string, err error) {
	tpl := t.byKind[data.Kind()]
	if tpl == nil {
		return "", "", fmt.Errorf("notify: no template for email kind %q", data.Kind())
	}
	var s, b strings.Builder
	if err := tpl.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", fmt.Errorf("notify: subject of %s: %w", data.Kind(), err)
	}
	if err := tpl.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("notify: body of %s: %w", data.Kind(), err)
	}
	if s.Len() == 0 {
		return "", "", errors.New("notify: empty subject for " + data.Kind())
	}
	return s.String(), b.String(), nil
}

// Email is the email that data describes, to to, ready for Enqueue: its
// Kind is data's, and its List-Unsubscribe the link of data that has one.
func (t *Templates) Email(to string, data Data) (Email, error) {
	subject, body, err := t.Render(data)
	if err != nil {
		return Email{}, err
	}
	e := Email{Kind: data.Kind(), To: to, Subject: subject, Body: body}
	if u, ok := data.(Unsubscribable); ok {
		e.ListUnsubscribe = u.ListUnsubscribe()
	}
	if a, ok := data.(Attaching); ok {
		e.Attachment = a.Attachment()
	}
	return e, nil
}

// Attaching is Data whose email carries a file of the file store.
type Attaching interface {
	Data
	Attachment() Attachment
}

// Unsubscribable is Data whose email the recipient can stop with one
// click: ListUnsubscribe is that link, or "" for a recipient who cannot.
type Unsubscribable interface {
	Data
	ListUnsubscribe() string
}

// Enqueue renders the email that data describes and writes it to to in
// tx, the caller's transaction (see the function Enqueue).
func (t *Templates) Enqueue(tx *gorm.DB, now time.Time, domain, to string, data Data) (*Message, error) {
	e, err := t.Email(to, data)
	if err != nil {
		return nil, err
	}
	return Enqueue(tx, now, domain, e)
}
