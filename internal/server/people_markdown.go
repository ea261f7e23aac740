package server

import (
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// headingShift lowers every heading of a document by a fixed number of
// levels, so that a text shown inside a page keeps the page's one <h1>.
type headingShift int

func (by headingShift) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			h.Level = min(h.Level+int(by), 6)
		}
		return ast.WalkContinue, nil
	})
}

// nestedMarkdown converts Markdown shown under a page's <h1>, such as the
// policies on the acknowledgement page: its headings start at <h2>. It is
// made per request, being needed by one page only.
func nestedMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(headingShift(1), 100))))
}

// renderNestedMarkdown renders src with md (from nestedMarkdown) as a
// section of a page.
func renderNestedMarkdown(md goldmark.Markdown, src string) (template.HTML, error) {
	var b strings.Builder
	if err := md.Convert([]byte(src), &b); err != nil {
		return "", err
	}
	// goldmark's default renderer drops raw HTML and unsafe link schemes.
	return template.HTML(b.String()), nil //nolint:gosec // see above
}
