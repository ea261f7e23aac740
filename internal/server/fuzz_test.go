package server

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// FuzzDecodeCursor: any cursor decodes or is refused; a decoded one
// encodes back to an equivalent cursor.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(0))
	f.Add(encodeCursor(12345))
	f.Add("bzotMQ")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := decodeCursor(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("%q decoded to %d", s, n)
		}
		if back, err := decodeCursor(encodeCursor(n)); err != nil || back != n {
			t.Fatalf("round trip of %d: %d %v", n, back, err)
		}
	})
}

// FuzzParseLimit: a limit is within its bounds or refused.
func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"", "1", "1000", "1001", "-5", "9999999999999999999", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseLimit(s, 100, 1000)
		if err == nil && (n < 1 || n > 1000) {
			t.Fatalf("%q gave %d", s, n)
		}
	})
}

// FuzzLocalPath: a next= parameter never leads off the site.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/app/", "//evil.example", "/\\evil.example", "https://evil.example", "/app/%2f%2fevil", "javascript:alert(1)", "/\t/evil", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localPath(next, "/app/")
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("%q led to %q", next, got)
		}
	})
}

// FuzzMarkdown: whatever a policy's text says, the rendered HTML carries
// no script, no event handler and no javascript: link.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"# Title\n\n**bold** [x](https://example.com)", "<script>alert(1)</script>", "[x](javascript:alert(1))",
		"<img src=x onerror=alert(1)>", "| a | b |\n|---|---|\n| <b>c</b> | d |", "[x](JaVaScRiPt:alert(1))", "<a href=\"javascript:x\">y</a>"} {
		f.Add(s)
	}
	k := &kit{markdown: goldmark.New(goldmark.WithExtensions(extension.GFM))}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := k.renderMarkdown(src)
		if err != nil {
			return
		}
		// Read the output as a browser would: no script-bearing element,
		// no event handler attribute, no javascript: URL.
		z := html.NewTokenizer(strings.NewReader(string(out)))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			name, hasAttr := z.TagName()
			switch string(name) {
			case "script", "iframe", "object", "embed", "style", "base", "form":
				t.Fatalf("%q rendered a <%s>: %s", src, name, out)
			}
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				k := strings.ToLower(string(key))
				v := strings.ToLower(strings.TrimSpace(string(val)))
				if strings.HasPrefix(k, "on") || ((k == "href" || k == "src") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text/html"))) {
					t.Fatalf("%q rendered %s=%q: %s", src, k, val, out)
				}
			}
		}
	})
}
