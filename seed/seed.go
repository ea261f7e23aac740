// Package seed embeds the data that `charter seed` loads into an empty
// database: the organization profile from the company's Security & Privacy
// page (and its default logo, logo.png). Later areas add their registers' files here.
package seed

import "embed"

// Files holds the seed data files.
//
//go:embed *.yaml *.md *.png
var Files embed.FS
