package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRebuildCompliance(t *testing.T) {
	dir := dataDir(t)
	charter(t, "seed")
	roster := filepath.Join(dir, "roster.csv")
	writeFile(t, roster, "email,name,start_date\nana@example.com,Ana,2024-02-01\nben@example.com,Ben,2024-02-01\n")
	if code, out := charter(t, "import", "employees", roster); code != 0 {
		t.Fatalf("import: %s", out)
	}
	// Each owes the twenty seeded policies, the seeded course and a check.
	code, out := charter(t, "people", "rebuild-compliance")
	if code != 0 || !strings.Contains(out, "Compliance state rebuilt: 44 outstanding") {
		t.Fatalf("rebuild-compliance: %d %s", code, out)
	}
}
