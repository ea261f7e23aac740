// Package seed embeds the data that `charter seed` loads into an empty
// database: the organization profile from the company's Security & Privacy
// page. Later areas add their registers' files here.
package seed

import "embed"

// Files holds the seed data files.
//
//go:embed *.yaml *.md
var Files embed.FS
