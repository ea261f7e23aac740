// Package web holds the dashboard's templates and static assets, embedded
// in the binary so that Charter needs no files beside it and no CDN.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Templates returns the html/template files.
func Templates() fs.FS {
	sub, _ := fs.Sub(templates, "templates")
	return sub
}

// Static returns the files served under /static/.
func Static() fs.FS {
	sub, _ := fs.Sub(static, "static")
	return sub
}
