// Package policies embeds the twenty SOC 2 policy templates that `charter
// seed` publishes as version 1.0. Each file is Markdown with YAML front
// matter: slug, title, owner_role, review_interval_months and tsc.
package policies

import "embed"

// Files holds the policy templates.
//
//go:embed *.md
var Files embed.FS
