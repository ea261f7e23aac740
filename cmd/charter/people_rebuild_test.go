package main

import (
	"strings"
	"testing"
)

func TestRebuildCompliance(t *testing.T) {
	seedTwoEmployees(t)
	// Each owes the twenty seeded policies, the seeded course and a check.
	code, out := charter(t, "people", "rebuild-compliance")
	if code != 0 || !strings.Contains(out, "Compliance state rebuilt: 44 outstanding") {
		t.Fatalf("rebuild-compliance: %d %s", code, out)
	}
}
